// The document title in the editor bar and the tab, live.
//
// An editor renames in the bar: saved when the field is left or Enter is
// pressed, reverted by Escape. Everyone's bar and tab follow every rename at
// once: the server announces one in its own awareness entry (`renamed`,
// documents/titles.py; only the server's entry is believed, server-peer.js),
// and on that, and on every (re)connection, this page reads the committed
// title from the API. The database holds the one title: the last rename
// committed wins everywhere, and a tab that missed a rename (asleep,
// offline) takes it when it reconnects instead of writing its stale title
// back. Someone typing a new title keeps what they typed (saving it is the
// next rename); an untouched field follows.

import { api, csrfToken } from './api.js'

const TAB_SUFFIX = ' · Coedit'

/**
 * @param {object} options
 * @param {HTMLElement} options.element the title: an <input> for those who may rename, else a heading
 * @param {string|null} options.renameUrl where a rename is posted (null: read only)
 * @param {string} options.apiUrl the document in the API (GET gives its title)
 * @param {import('./server-peer.js').ServerPeer} options.server
 * @param {{ on: Function }} options.provider the y-websocket provider (its `status` events)
 * @param {(title: string) => void} [options.onTitle] told of every new title shown
 */
export function bindTitle ({ element, renameUrl, apiUrl, server, provider, onTitle }) {
  const editable = element instanceof HTMLInputElement && Boolean(renameUrl)
  let saved = editable ? element.value : element.textContent
  // Each answer (a rename's or a read's) is numbered: one overtaken by a later one is dropped.
  let latest = 0

  const show = (title) => {
    const previous = saved
    saved = title
    document.title = `${title}${TAB_SUFFIX}`
    if (editable) {
      if (document.activeElement !== element || element.value.trim() === previous) element.value = title
    } else {
      element.textContent = title
    }
    onTitle?.(title)
  }

  const refresh = async () => {
    const mine = ++latest
    try {
      const body = await api(apiUrl)
      if (mine === latest && typeof body?.title === 'string' && body.title !== saved) show(body.title)
    } catch (error) {
      console.warn('could not read the document title', error)
    }
  }

  let heard = null
  server.awareness.on('update', () => {
    const renamed = server.state()?.renamed
    if (typeof renamed?.n !== 'string' || renamed.n === heard) return
    const first = heard === null
    heard = renamed.n
    // Shown at once; then confirmed by the committed title, in case two renames were announced
    // out of order. The first notice a connection hears may be old news: only confirmed.
    if (!first && typeof renamed.title === 'string' && renamed.title !== saved) {
      latest++
      show(renamed.title)
    }
    refresh()
  })
  provider.on('status', ({ status }) => {
    if (status === 'connected') refresh()
  })

  if (!editable) return
  const save = async () => {
    const title = element.value.trim()
    if (title === saved) return
    const mine = ++latest
    element.classList.add('is-saving')
    try {
      const response = await fetch(renameUrl, {
        method: 'POST',
        headers: { 'X-CSRFToken': csrfToken(), 'X-Requested-With': 'fetch' },
        body: new URLSearchParams({ title })
      })
      if (!response.ok) throw new Error(`HTTP ${response.status}`)
      const body = await response.json()
      element.classList.remove('is-invalid')
      element.removeAttribute('title')
      if (mine === latest) {
        element.value = body.title
        show(body.title)
      }
    } catch (error) {
      console.error('renaming failed', error)
      element.classList.add('is-invalid')
      element.title = 'The title could not be saved. Try again.'
    } finally {
      element.classList.remove('is-saving')
    }
  }
  element.addEventListener('change', save)
  element.addEventListener('keydown', (event) => {
    if (event.key === 'Enter') {
      event.preventDefault()
      element.blur()
    } else if (event.key === 'Escape') {
      element.value = saved
      element.blur()
    }
  })
}
