// What this browser keeps of documents for offline editing, and its removal.
//
// An editor's tab keeps each document it opens in an IndexedDB database of
// its own (y-indexeddb, see offline.js), named `coedit-doc:<username>:<id>`,
// and the page and its files in Cache Storage (`coedit-…`, the service worker
// in frontend/service_worker.js) so that it reloads without a network.
// Signing out removes all of them, for every account: the next person at this
// browser finds nothing. Any page rendered for a signed-out visitor removes
// them too (the sign-out might not have run its script: a session that ended
// on the server, another tab, a crash).

export const COPY_PREFIX = 'coedit-doc:'
export const CACHE_PREFIX = 'coedit-'
// A deletion waits for every open connection to the database to close; open
// tabs close theirs when asked (offline.js), a frozen one might not.
const DELETE_PATIENCE_MS = 3000

/** The IndexedDB database that keeps `documentId` for `username` in this browser. */
export function copyName (username, documentId) {
  return `${COPY_PREFIX}${encodeURIComponent(username)}:${documentId}`
}

export function deleteDatabase (name) {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), DELETE_PATIENCE_MS)
    const done = (ok) => () => { clearTimeout(timer); resolve(ok) }
    const request = indexedDB.deleteDatabase(name)
    request.onsuccess = done(true)
    request.onerror = done(false)
  })
}

/** Names of this app's local copies in this browser. */
export async function localCopyNames () {
  if (!globalThis.indexedDB?.databases) return []
  const databases = await indexedDB.databases()
  return databases.map((database) => database.name).filter((name) => name?.startsWith(COPY_PREFIX))
}

/** Removes every local copy of every document, the cached pages and the service worker. */
export async function clearLocalCopies () {
  const names = await localCopyNames().catch(() => [])
  await Promise.all(names.map(deleteDatabase))
  if (globalThis.caches) {
    const keys = await caches.keys()
    await Promise.all(keys.filter((key) => key.startsWith(CACHE_PREFIX)).map((key) => caches.delete(key)))
  }
  if (navigator.serviceWorker) {
    const registrations = await navigator.serviceWorker.getRegistrations()
    await Promise.all(registrations.map((registration) => registration.unregister()))
  }
}

/**
 * The sign-out form (`data-sign-out`, a POST): clears the local copies, then
 * submits. And on a page for a signed-out visitor (`data-signed-out` on the
 * body): clears them at once.
 */
export function bindSignOut () {
  document.addEventListener('submit', async (event) => {
    const form = event.target
    if (!form.matches('form[data-sign-out]') || form.dataset.cleared) return
    event.preventDefault()
    try {
      await clearLocalCopies()
    } catch (error) {
      // Signing out must not depend on it: the signed-out page tries again.
      console.error('could not clear the local copies', error)
    }
    form.dataset.cleared = 'true'
    form.submit()
  })
  if (document.body.hasAttribute('data-signed-out')) {
    clearLocalCopies().catch((error) => console.error('could not clear the local copies', error))
  }
}
