// Append a paragraph to a document from Node, with an unmodified y-websocket provider.
//   SERVER=ws://localhost:8000 DOCUMENT=<id> TOKEN=<api token> node example.mjs "Hello"
import WebSocket from 'ws'
import * as Y from 'yjs'
import { WebsocketProvider } from 'y-websocket'

const { SERVER, DOCUMENT, TOKEN } = process.env
class AuthWebSocket extends WebSocket { // scripts sign in with a token, browsers with their session
  constructor (url, protocols) { super(url, protocols, { headers: { Authorization: `Bearer ${TOKEN}` } }) }
}
const doc = new Y.Doc()
const provider = new WebsocketProvider(`${SERVER}/ws/documents`, DOCUMENT, doc, { WebSocketPolyfill: AuthWebSocket })
provider.on('closed', ({ code, reason }) => { console.error(`refused: ${code} ${reason}`); process.exit(1) })
provider.once('sync', () => {
  const paragraph = new Y.XmlElement('paragraph')
  paragraph.insert(0, [new Y.XmlText(process.argv[2])])
  doc.getXmlFragment('default').push([paragraph]) // the editor's content: Tiptap's XmlFragment "default"
  provider.awareness.on('update', () => { // the server's entry says what it has stored durably
    const server = [...provider.awareness.getStates().values()].find((state) => state.server)
    const saved = server && Y.decodeStateVector(Buffer.from(server.saved, 'base64')).get(doc.clientID)
    if (saved >= Y.getState(doc.store, doc.clientID)) process.exit(0)
  })
})
