// The save indicator's truth: has the server durably stored this client's edits?
//
// The server is a peer in the document's awareness. Its entry carries
// {server: true, saved: base64(state vector of what is committed to the
// database)}, republished after every committed write. This client's edits are
// saved once that vector's clock for our client id reaches our own clock.
// Anything short of that ("sent", "applied in memory") is still "Saving…".
//
// Only the server's own entry counts. The server sends it in the first frame
// of every connection, before anything from anyone else, and refuses `server`
// and `saved` from clients (collab/presence.py). So the tracker pins the one
// entry with `server: true` that is there when it knows of none, and reads
// `saved` from that entry alone: an entry that claims to be the server later,
// from another peer, is not believed. When the connection drops, y-websocket
// forgets every remote state, the pinned one included; the next connection's
// first frame pins the server again (a new one, after a restart).
import * as Y from 'yjs'
import { fromBase64 } from 'lib0/buffer'

export class SaveTracker {
  /**
   * @param {Y.Doc} doc
   * @param {import('y-protocols/awareness').Awareness} awareness
   * @param {(unsaved: boolean) => void} onChange called whenever the answer may have changed
   */
  constructor (doc, awareness, onChange) {
    this.doc = doc
    this.awareness = awareness
    this.onChange = onChange
    // Highest durable clock seen per client. Kept across disconnects (the
    // server's entry is dropped then): what was committed stays committed.
    this.durable = new Map()
    // Yjs may pick a new client id if it sees a clash; edits under the old one count too.
    this.ownIds = new Set([doc.clientID])
    // The awareness client id of the server's entry, once pinned.
    this.serverId = null
    this._check = () => this.check()
    doc.on('update', this._check)
    awareness.on('update', this._check)
  }

  destroy () {
    this.doc.off('update', this._check)
    this.awareness.off('update', this._check)
  }

  /** The server's entry: the pinned one, or the only one claiming to be the server when none is pinned. */
  serverState () {
    const states = this.awareness.getStates()
    if (this.serverId !== null && !states.has(this.serverId)) this.serverId = null
    if (this.serverId === null) {
      const claims = [...states].filter(([clientId, state]) => clientId !== this.doc.clientID && state?.server === true)
      // Two at once cannot both be the server: believe neither (stay "Saving…").
      if (claims.length !== 1) return null
      this.serverId = claims[0][0]
    }
    return states.get(this.serverId)
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
