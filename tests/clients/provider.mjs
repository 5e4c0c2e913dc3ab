// An unmodified y-websocket provider (Node), driven by test_node_provider.py.
//
//   node provider.mjs '{"serverUrl": "ws://127.0.0.1:8000/ws/documents", "room": "<id>", "token": "...",
//                      "paragraphs": 1500, "paste": 0}'
//
// Syncs, writes `paragraphs` transactions of one paragraph each and/or one
// paragraph of `paste` characters in a single transaction, then waits until the
// server's awareness entry says all of it is durably stored. Prints one JSON
// line: {saved, closed, closes, connections}, after a line {close} per close. A final close ("closed": the
// provider stopped) is reported after a pause in which a reconnect would show.
import WebSocket from 'ws'
import * as Y from 'yjs'
import { WebsocketProvider } from 'y-websocket'

const options = JSON.parse(process.argv[2])
let connections = 0

class AuthWebSocket extends WebSocket {
  constructor (url, protocols) {
    super(url, protocols, options.token ? { headers: { Authorization: `Bearer ${options.token}` } } : {})
    connections++
  }
}

const doc = new Y.Doc()
const fragment = doc.getXmlFragment('default')
const provider = new WebsocketProvider(options.serverUrl, options.room, doc, { WebSocketPolyfill: AuthWebSocket })
const closes = []

function finish (result) {
  console.log(JSON.stringify({ connections, closes, ...result }))
  provider.destroy()
  process.exit(0)
}

function paragraph (text) {
  const element = new Y.XmlElement('paragraph')
  element.insert(0, [new Y.XmlText(text)])
  return element
}

function savedByServer () {
  for (const state of provider.awareness.getStates().values()) {
    if (state && state.server) {
      const saved = Y.decodeStateVector(Buffer.from(state.saved, 'base64'))
      return (saved.get(doc.clientID) || 0) >= Y.getState(doc.store, doc.clientID)
    }
  }
  return false
}

setTimeout(() => finish({ timedOut: true }), options.timeout || 60000)
provider.on('connection-close', (event) => {
  if (!event) return
  closes.push({ code: event.code, reason: event.reason })
  console.log(JSON.stringify({ close: closes.at(-1) })) // as it happens, for tests that react to it
})
// No reconnect after a final close: 2 s is several of the provider's first backoff steps (200 ms, 400 ms...).
provider.on('closed', (event) => setTimeout(() => finish({ closed: event }), 2000))
provider.once('sync', () => {
  for (let i = 0; i < (options.paragraphs || 0); i++) fragment.push([paragraph(`line ${i}.`)])
  if (options.paste) fragment.push([paragraph('p'.repeat(options.paste))])
  const check = () => { if (savedByServer()) finish({ saved: true }) }
  provider.awareness.on('update', check)
  check()
})
