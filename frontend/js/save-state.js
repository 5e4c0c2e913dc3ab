// The save indicator's truth: has the server durably stored this client's edits?
//
// The server's own awareness entry (see server-peer.js for how it is told
// apart from peers that only claim to be the server) carries {saved:
// base64(state vector of what is committed to the database)}, republished
// after every committed write. This client's edits are saved once that
// vector's clock for our client id reaches our own clock. Anything short of
// that ("sent", "applied in memory") is still "Saving…". Two entries that both
// claim to be the server at once: neither is believed (stay "Saving…").
//
// Offline (issue 19): edits are also kept on this device (IndexedDB, see
// offline.js). Until the server confirms them the indicator says "Saved on
// this device" when the local copy holds them, never "Saved". Edits loaded
// from the local copy after a reload were made under an earlier client id:
// `expect()` adds their clocks to what the server must cover. Until the local
// copy has been read (`local.settled`), nothing is claimed: it may hold edits
// the server has not seen.
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
    // Clocks the server must cover besides our own ids': edits read back from the local copy.
    this.expected = new Map()
    // The local copy (offline.js) or null when this page keeps none.
    this.local = null
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

  /** Edits read back from this device's copy: saved only once the server's durable state covers them too. */
  expect (vector) {
    for (const [client, clock] of vector) {
      if (clock > (this.expected.get(client) ?? 0)) this.expected.set(client, clock)
    }
    this.check()
  }

  /** Follows `local` (a LocalCopy): whether it holds our edits is part of the answer. */
  keepLocally (local) {
    this.local = local
    this.check()
  }

  /** True while some edit made here is not yet covered by the server's durable state. */
  get unsaved () {
    // The local copy not read yet: it may hold edits the server never got.
    if (this.local && !this.local.settled) return true
    this.ownIds.add(this.doc.clientID)
    for (const id of this.ownIds) {
      if (Y.getState(this.doc.store, id) > (this.durable.get(id) ?? 0)) return true
    }
    for (const [id, clock] of this.expected) {
      if (clock > (this.durable.get(id) ?? 0)) return true
    }
    return false
  }

  /** True when every edit made here is in this device's copy (so it survives closing the tab). */
  get storedLocally () {
    if (!this.local || !this.local.active) return false
    this.ownIds.add(this.doc.clientID)
    for (const id of this.ownIds) {
      if (!this.local.holds(id, Y.getState(this.doc.store, id))) return false
    }
    return true
  }

  check () {
    this.readServer()
    this.onChange(this.unsaved)
  }
}

/**
 * What the indicator says. `connection` is ConnectionStatus's state; `refused`
 * means the server closed for good (connection.js REFUSALS): what is not saved
 * by then will not be.
 * @returns {{state: string, label: string, title: string}}
 */
export function saveLabel ({ unsaved, storedLocally, connection }) {
  if (!unsaved) return { state: 'saved', label: 'Saved', title: 'Every change you made is stored on the server.' }
  if (connection === 'closed') {
    return { state: 'refused', label: 'Not saved', title: 'The server did not accept your latest changes.' }
  }
  if (connection === 'connected') {
    return { state: 'saving', label: 'Saving…', title: 'Your latest changes are on their way to the server.' }
  }
  if (storedLocally) {
    return {
      state: 'local',
      label: 'Saved on this device',
      title: 'Your latest changes are kept in this browser and will be sent when the connection returns, even if you close this tab.'
    }
  }
  return { state: 'unsaved', label: 'Not saved yet', title: 'Your latest changes are not stored on the server yet.' }
}
