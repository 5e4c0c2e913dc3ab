// Offline editing that survives a reload (issue 19).
//
// - LocalCopy: the document kept in this browser's IndexedDB by y-indexeddb,
//   loaded alongside the WebSocket provider. Yjs merges it with the server's
//   state like any other peer's updates: edits typed offline are sent when the
//   connection returns (sync step 2, or as updates if it is already open), and
//   the server merges them as usual. `holds(client, clock)` tells the save
//   indicator whether an edit is committed to IndexedDB yet.
// - keepPageOffline: the service worker (frontend/service_worker.js) keeps
//   this page and its files, so that a reload without a network still opens
//   the editor and its local copy.
// - Viewers keep nothing: discardLocalCopy removes what an earlier visit with
//   the right to write left behind, and says whether unsent edits were lost.
//
// Everything is removed at sign-out (local-copies.js).
import * as Y from 'yjs'
import { IndexeddbPersistence } from 'y-indexeddb'

import { deleteDatabase, localCopyNames } from './local-copies.js'

const UPDATES_STORE = 'updates' // y-indexeddb's store of updates

/** A Map client → clock of everything `doc` holds. */
function stateOf (doc) {
  return Y.decodeStateVector(Y.encodeStateVector(doc))
}

export class LocalCopy {
  /**
   * @param {Y.Doc} doc
   * @param {string} name the database's name (local-copies.js copyName)
   * @param {{onChange: () => void, onLoaded: (vector: Map<number, number>) => void}} hooks
   */
  constructor (doc, name, { onChange, onLoaded }) {
    this.doc = doc
    this.name = name
    this.onChange = onChange
    // Read back (or failed to open): until then the page does not know what the copy holds.
    this.settled = false
    // Keeping edits: false once the copy failed, was closed for a deletion (sign-out elsewhere) or discarded.
    this.active = true
    // client → clock committed to IndexedDB.
    this.stored = new Map()
    this._flushing = false
    this._dirty = false
    this.persistence = new IndexeddbPersistence(name, doc)
    // Registered after y-indexeddb's own handler: its write of an update is queued before our check.
    this._onUpdate = () => this.flush()
    doc.on('update', this._onUpdate)
    this.persistence.whenSynced.then(() => {
      if (!this.active) return
      // Another tab's sign-out deletes the database: let it (y-indexeddb would keep it open).
      this.persistence.db.onversionchange = () => this.stop()
      this.settled = true
      onLoaded(stateOf(doc))
      this.flush()
    })
    // No IndexedDB (a browser's private mode may refuse it): the page works as without a copy.
    // y-indexeddb does not report a failure to open other than through this promise.
    this.persistence._db.catch((error) => {
      console.warn('this browser keeps no local copy of the document', error)
      this.fail()
    })
  }

  /** True when IndexedDB has committed `client`'s edits up to `clock`. */
  holds (client, clock) {
    return this.active && this.settled && (this.stored.get(client) ?? 0) >= clock
  }

  /**
   * Learns what IndexedDB has committed: a read-only transaction created after
   * y-indexeddb's read-write ones completes only once they have committed
   * (IndexedDB runs overlapping transactions in the order they were created).
   */
  flush () {
    if (!this.active || !this.settled) return
    if (this._flushing) {
      this._dirty = true
      return
    }
    this._flushing = true
    const vector = stateOf(this.doc)
    let transaction
    try {
      transaction = this.persistence.db.transaction([UPDATES_STORE], 'readonly')
    } catch (error) {
      this._flushing = false
      this.fail(error)
      return
    }
    transaction.oncomplete = () => {
      this._flushing = false
      for (const [client, clock] of vector) {
        if (clock > (this.stored.get(client) ?? 0)) this.stored.set(client, clock)
      }
      this.onChange()
      if (this._dirty) {
        this._dirty = false
        this.flush()
      }
    }
    transaction.onerror = transaction.onabort = () => {
      this._flushing = false
      this.fail(transaction.error)
    }
  }

  fail (error) {
    if (error) console.warn('the local copy stopped', error)
    this.settled = true
    this.stop()
  }

  /** Stops keeping edits and closes the database (the copy itself stays). */
  stop () {
    if (!this.active) return
    this.active = false
    this.stored.clear()
    this.doc.off('update', this._onUpdate)
    this.persistence.destroy().catch(() => {})
    this.onChange()
  }

  /** Stops and deletes this document's copy: what it holds can never reach the server. */
  async discard () {
    this.stop()
    await this.persistence._db.catch(() => {})
    await deleteDatabase(this.name)
  }
}

/**
 * For a page that may not write (a viewer): removes the copy an earlier visit
 * left behind. `serverState` resolves to the document as the server has it, to
 * tell whether the copy held edits the server never got.
 * @returns {Promise<boolean>} true when unsent edits were discarded
 */
export async function discardLocalCopy (name, serverState) {
  if (!(await localCopyNames().catch(() => [])).includes(name)) return false
  // Read into a document of its own, connected to nothing: nothing in it is sent.
  const orphan = new Y.Doc()
  const persistence = new IndexeddbPersistence(name, orphan)
  try {
    await persistence.whenSynced
    const server = stateOf(await serverState)
    return [...stateOf(orphan)].some(([client, clock]) => clock > (server.get(client) ?? 0))
  } finally {
    await persistence.destroy().catch(() => {})
    orphan.destroy()
    await deleteDatabase(name)
  }
}

/** The files this page needs (its scripts, styles and icon), for the service worker to keep. */
function pageFiles () {
  const urls = [location.pathname]
  for (const element of document.querySelectorAll('script[src], link[rel="stylesheet"][href], link[rel="icon"][href]')) {
    const url = new URL(element.src || element.href, location.href)
    if (url.origin === location.origin) urls.push(url.pathname)
  }
  return urls
}

/**
 * Asks the service worker to keep this page (an editable document) for a
 * reload without a network. Once all of it is kept, the body carries
 * `data-offline-ready` (for tests and styles).
 * @returns {Promise<boolean>} whether the page can now open offline
 */
export async function keepPageOffline () {
  if (!navigator.serviceWorker) return false
  try {
    await navigator.serviceWorker.register('/service-worker.js', { scope: '/' })
    const registration = await navigator.serviceWorker.ready
    const channel = new MessageChannel()
    const kept = new Promise((resolve) => { channel.port1.onmessage = (event) => resolve(event.data === true) })
    registration.active.postMessage({ type: 'keep', urls: pageFiles() }, [channel.port2])
    if (await kept) document.body.dataset.offlineReady = 'true'
    return kept
  } catch (error) {
    console.warn('this page will not open without a network', error)
    return false
  }
}

/** Asks the service worker (if any) to drop its copy of this page (a viewer's, or a document that is gone). */
export async function forgetPageOffline () {
  const registration = await navigator.serviceWorker?.getRegistration('/')
  registration?.active?.postMessage({ type: 'forget', urls: [location.pathname] })
}
