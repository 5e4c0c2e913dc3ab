// The notifications control in the header of every signed-in page (issue 20):
// a bell with the number of unread notifications (someone mentioned you in a
// comment), and their list when opened. Opening the list marks them read.
// Each links to its comment: /documents/<id>/#comment-<cid> (the editor's
// comments panel opens that thread).
//
// The count is read when the page loads, when it comes back into view, and
// every POLL_MS while it is in view: a mention is not urgent enough for a
// socket of its own on every page.

import { api } from './api.js'

const POLL_MS = 30_000
const whenFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' })

export function bindNotifications (root) {
  if (!root) return
  const badge = root.querySelector('[data-notifications-count]')
  const list = root.querySelector('[data-notifications-list]')
  const status = root.querySelector('[data-notifications-status]')
  const button = root.querySelector('summary')

  const showCount = (count) => {
    badge.textContent = count > 99 ? '99+' : String(count)
    badge.hidden = !count
    button.setAttribute('aria-label', count ? `Notifications (${count} unread)` : 'Notifications')
  }

  let asked = 0
  const readCount = async () => {
    const mine = ++asked
    try {
      const { count } = await api('/api/notifications/unread-count/')
      if (mine === asked) showCount(Number(count) || 0)
    } catch {
      // Offline or signed out: the badge stays as it was.
    }
  }

  const item = (notification) => {
    const link = document.createElement('a')
    link.className = `notifications__item${notification.read ? '' : ' notifications__item--unread'}`
    link.dataset.testid = 'notification'
    const documentId = notification.document?.id
    if (documentId) link.href = `/documents/${documentId}/${notification.comment_id ? `#comment-${notification.comment_id}` : ''}`
    const what = document.createElement('span')
    what.className = 'notifications__what'
    const actor = notification.actor?.name || notification.actor?.username || 'Someone'
    const title = notification.document?.title || 'a document'
    what.textContent = notification.kind === 'mention' ? `${actor} mentioned you in “${title}”` : `${actor} in “${title}”`
    link.append(what)
    if (notification.excerpt) {
      const excerpt = document.createElement('span')
      excerpt.className = 'notifications__excerpt'
      excerpt.textContent = notification.excerpt
      link.append(excerpt)
    }
    if (notification.created_at) {
      const when = document.createElement('time')
      when.className = 'notifications__when'
      when.dateTime = notification.created_at
      when.textContent = whenFormat.format(new Date(notification.created_at))
      link.append(when)
    }
    // On the document's own page only the hash changes: the comments panel follows it (hashchange).
    link.addEventListener('click', () => { root.open = false })
    const li = document.createElement('li')
    li.append(link)
    return li
  }

  const readList = async () => {
    status.textContent = 'Loading…'
    try {
      const answer = await api('/api/notifications/')
      const notifications = Array.isArray(answer) ? answer : answer?.items ?? []
      list.replaceChildren(...notifications.map(item))
      status.textContent = notifications.length ? '' : 'Nothing yet. When someone mentions you in a comment, it shows here.'
      if (notifications.some((n) => !n.read)) {
        await api('/api/notifications/read-all/', { method: 'POST' })
        showCount(0)
      }
    } catch (error) {
      status.textContent = error.detail ?? 'Notifications could not be loaded.'
    }
  }

  // On a phone the list spans the screen's width (comments.css), just below the bell.
  const panel = root.querySelector('.notifications__panel')
  const narrow = window.matchMedia('(max-width: 600px)')
  root.addEventListener('toggle', () => {
    if (!root.open) return
    panel.style.top = narrow.matches ? `${Math.round(button.getBoundingClientRect().bottom + 6)}px` : ''
    readList()
  })
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'visible') readCount()
  })
  setInterval(() => {
    if (document.visibilityState === 'visible') readCount()
  }, POLL_MS)
  readCount()
}
