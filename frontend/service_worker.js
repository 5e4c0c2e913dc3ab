// The service worker that lets an editable document reopen without a network
// (issue 19). Served at /service-worker.js (frontend/offline.py) so that its
// scope covers /documents/.
//
// It keeps only what a page asked it to keep (offline.js keepPageOffline: an
// editable document's page, its scripts and styles), and refreshes those on
// every visit. It answers from the network first and falls back to its copy
// only when the network fails: any answer of the server (a 403 after access
// was removed, a redirect to sign in) is shown as it is, never a stale copy.
// Everything else (the API, the WebSocket, other pages) never passes here.
// Signing out deletes its cache and unregisters it (local-copies.js).

const CACHE = 'coedit-offline-v1'
const DOCUMENT_PAGE = /^\/documents\/[0-9a-f-]{36}\/$/
const MATCH = { ignoreVary: true, ignoreSearch: false }

self.addEventListener('install', () => self.skipWaiting())
self.addEventListener('activate', (event) => event.waitUntil(self.clients.claim()))

function sameOrigin (path) {
  const url = new URL(path, self.location.origin)
  return url.origin === self.location.origin ? url : null
}

function keepable (url) {
  return DOCUMENT_PAGE.test(url.pathname) || url.pathname.startsWith('/static/')
}

/** Keeps what is not kept yet; true once all of it is. */
async function keep (paths) {
  const cache = await caches.open(CACHE)
  let complete = true
  for (const path of paths) {
    const url = sameOrigin(path)
    if (!url || !keepable(url) || await cache.match(url.href, MATCH)) continue
    try {
      const response = await fetch(url.href, { credentials: 'same-origin', redirect: 'error' })
      if (response.ok) await cache.put(url.href, response)
      else complete = false
    } catch (error) {
      complete = false // offline already: kept on the next visit
    }
  }
  return complete
}

async function forget (paths) {
  const cache = await caches.open(CACHE)
  for (const path of paths) {
    const url = sameOrigin(path)
    if (url) await cache.delete(url.href, MATCH)
  }
}

self.addEventListener('message', (event) => {
  const { type, urls } = event.data || {}
  if (!Array.isArray(urls)) return
  // The page learns when its copy is complete (a MessagePort sent along).
  const reply = (done) => event.ports[0]?.postMessage(done)
  if (type === 'keep') event.waitUntil(keep(urls).then(reply, () => reply(false)))
  else if (type === 'forget') event.waitUntil(forget(urls))
})

async function networkFirst (request) {
  const cache = await caches.open(CACHE)
  const kept = await cache.match(request.url, MATCH)
  try {
    const response = await fetch(request)
    // Refresh only what was asked to be kept.
    if (kept && response.ok && response.type === 'basic') await cache.put(request.url, response.clone())
    return response
  } catch (error) {
    if (kept) return kept
    throw error
  }
}

self.addEventListener('fetch', (event) => {
  const request = event.request
  if (request.method !== 'GET') return
  const url = new URL(request.url)
  if (url.origin !== self.location.origin || !keepable(url)) return
  if (DOCUMENT_PAGE.test(url.pathname) && request.mode !== 'navigate') return
  event.respondWith(networkFirst(request))
})
