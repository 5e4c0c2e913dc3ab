// The server's own entry in the document's awareness, and only the server's.
//
// The server is a peer in the awareness: its entry carries {server: true,
// saved, restored?}. It sends that entry in the first frame of every
// connection, before anything from anyone else, and refuses `server` and its
// other fields from clients (collab/presence.py). So this pins the one entry
// with `server: true` that is there when it knows of none: an entry that
// claims to be the server later, from another peer, is not believed. When the
// connection drops, y-websocket forgets every remote state, the pinned one
// included; the next connection's first frame pins the server again (a new
// one, after a restart).

export class ServerPeer {
  /**
   * @param {import('yjs').Doc} doc this page's document (its client id is never the server)
   * @param {import('y-protocols/awareness').Awareness} awareness
   */
  constructor (doc, awareness) {
    this.doc = doc
    this.awareness = awareness
    // The awareness client id of the server's entry, once pinned.
    this.serverId = null
    // Pin on every change, whoever asks later: the first frame is the one to believe.
    this._pin = () => this.state()
    awareness.on('update', this._pin)
    this._pin()
  }

  destroy () {
    this.awareness.off('update', this._pin)
  }

  /** The server's entry: the pinned one, or the only one claiming to be the server when none is pinned. */
  state () {
    const states = this.awareness.getStates()
    if (this.serverId !== null && !states.has(this.serverId)) this.serverId = null
    if (this.serverId === null) {
      const claims = [...states].filter(([clientId, state]) => clientId !== this.doc.clientID && state?.server === true)
      // Two at once cannot both be the server: believe neither.
      if (claims.length !== 1) return null
      this.serverId = claims[0][0]
    }
    return states.get(this.serverId)
  }
}
