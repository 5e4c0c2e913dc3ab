// The save indicator's truth: has the server durably stored this client's edits?
//
// The server's own awareness entry (see server-peer.js for how it is told
// apart from peers that only claim to be the server) carries {saved:
// base64(state vector of what is committed to the database)}, republished
// after every committed write. This client's edits are saved once that
// vector's clock for our client id reaches our own clock. Anything short of
// that ("sent", "applied in memory") is still "Saving…". Two entries that both
// claim to be the server at once: neither is believed (stay "Saving…").
import * as Y from 'yjs'
import { fromBase64 } from 'lib0/buffer'

import { ServerPeer } from './server-peer.js'

export class SaveTracker {
  /**
   * @param {Y.Doc} doc
   * @param {import('y-protocols/awareness').Awareness} awareness
   * @param {(unsaved: boolean) => void} onChange called whenever the answer may have changed
   * @param {ServerPeer} [server] the page's one view of the server's entry (made here if not given)
   */
  constructor (doc, awareness, onChange, server = new ServerPeer(doc, awareness)) {
    this.doc = doc
    this.awareness = awareness
    this.onChange = onChange
    // Highest durable clock seen per client. Kept across disconnects (the
    // server's entry is dropped then): what was committed stays committed.
    this.durable = new Map()
    // Yjs may pick a new client id if it sees a clash; edits under the old one count too.
    this.ownIds = new Set([doc.clientID])
    this.server = server
    this._check = () => this.check()
    doc.on('update', this._check)
    awareness.on('update', this._check)
  }

  destroy () {
    this.doc.off('update', this._check)
    this.awareness.off('update', this._check)
  }

  /** The server's entry (pinned: see server-peer.js). */
  serverState () {
    return this.server.state()
  }

  /** Folds the server's published state vector into what we know is durable. */
  readServer () {
    const state = this.serverState()
    if (!state || typeof state.saved !== 'string') return
    let vector
    try {
      vector = Y.decodeStateVector(fromBase64(state.saved))
    } catch (error) {
      console.warn('ignoring an unreadable saved state vector', error)
      return
    }
    for (const [client, clock] of vector) {
      if (clock > (this.durable.get(client) ?? 0)) this.durable.set(client, clock)
    }
  }

  /** True while some edit made here is not yet covered by the server's durable state. */
  get unsaved () {
    this.ownIds.add(this.doc.clientID)
    for (const id of this.ownIds) {
      if (Y.getState(this.doc.store, id) > (this.durable.get(id) ?? 0)) return true
    }
    return false
  }

  check () {
    this.readServer()
    this.onChange(this.unsaved)
  }
}
