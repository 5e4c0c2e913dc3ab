// The save indicator's truth: has the server durably stored this client's edits?
//
// The server is a peer in the document's awareness. Its entry carries
// {server: true, saved: base64(state vector of what is committed to the
// database)}, republished after every committed write. This client's edits are
// saved once that vector's clock for our client id reaches our own clock.
// Anything short of that ("sent", "applied in memory") is still "Saving…".
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
    this._check = () => this.check()
    doc.on('update', this._check)
    awareness.on('update', this._check)
  }

  destroy () {
    this.doc.off('update', this._check)
    this.awareness.off('update', this._check)
  }

  /** Folds the server's published state vector(s) into what we know is durable. */
  readServer () {
    for (const [clientId, state] of this.awareness.getStates()) {
      if (clientId === this.doc.clientID || !state || state.server !== true || typeof state.saved !== 'string') continue
      let vector
      try {
        vector = Y.decodeStateVector(fromBase64(state.saved))
      } catch (error) {
        console.warn('ignoring an unreadable saved state vector', error)
        continue
      }
      for (const [client, clock] of vector) {
        if (clock > (this.durable.get(client) ?? 0)) this.durable.set(client, clock)
      }
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
