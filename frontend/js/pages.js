// Small enhancements shared by every page: dialogs, confirmations, menus,
// forms submitted in place, toasts. Every page works without it, less nicely.

import { bindSignOut } from './local-copies.js'
import { liveFeed } from './list-feed.js'
// Comments (issue 20): the notifications control in the header.
import { bindNotifications } from './notifications.js'

const $$ = (selector, root = document) => [...root.querySelectorAll(selector)]

// device (issue 19): signing out (and any signed-out page) removes the offline copies.
bindSignOut()
bindNotifications(document.querySelector('[data-notifications]'))

// --- dialogs -------------------------------------------------------------------------
document.addEventListener('click', (event) => {
  const opener = event.target.closest('[data-open-dialog]')
  if (opener) document.getElementById(opener.dataset.openDialog)?.showModal()
  const closer = event.target.closest('dialog [data-close]')
  if (closer) closer.closest('dialog').close()
})
// A click on the backdrop (the dialog element itself, outside its content) closes it.
document.addEventListener('mousedown', (event) => {
  if (event.target instanceof HTMLDialogElement) {
    const box = event.target.getBoundingClientRect()
    const inside = event.clientX >= box.left && event.clientX <= box.right && event.clientY >= box.top && event.clientY <= box.bottom
    if (!inside) event.target.close()
  }
})

// --- rename (document list) ---------------------------------------------------------------
const renameDialog = document.getElementById('rename-dialog')
document.addEventListener('click', (event) => {
  const button = event.target.closest('[data-action="rename"]')
  if (!button || !renameDialog) return
  const form = renameDialog.querySelector('form')
  form.setAttribute('action', button.dataset.url)
  form.elements.title.value = button.dataset.title
  renameDialog.showModal()
  form.elements.title.select()
})

// --- confirmations ---------------------------------------------------------------------------
let confirmDialog = null
function confirmWith ({ title, text, button }) {
  if (!confirmDialog) {
    confirmDialog = document.createElement('dialog')
    confirmDialog.className = 'dialog'
    confirmDialog.setAttribute('aria-labelledby', 'confirm-title')
    confirmDialog.innerHTML = `
      <form method="dialog" class="form">
        <h2 class="dialog__title" id="confirm-title"></h2>
        <p class="dialog__text"></p>
        <div class="dialog__actions">
          <button class="button" value="cancel" data-testid="confirm-cancel">Cancel</button>
          <button class="button button--danger-solid" value="ok" data-testid="confirm-ok"></button>
        </div>
      </form>`
    document.body.append(confirmDialog)
  }
  confirmDialog.querySelector('.dialog__title').textContent = title
  confirmDialog.querySelector('.dialog__text').textContent = text
  confirmDialog.querySelector('[value="ok"]').textContent = button
  confirmDialog.returnValue = ''
  confirmDialog.showModal()
  confirmDialog.querySelector('[value="cancel"]').focus()
  return new Promise((resolve) => {
    confirmDialog.addEventListener('close', () => resolve(confirmDialog.returnValue === 'ok'), { once: true })
  })
}

document.addEventListener('submit', async (event) => {
  const form = event.target
  if (!form.dataset.confirm || form.dataset.confirmed) return
  event.preventDefault()
  const ok = await confirmWith({
    title: form.dataset.confirmTitle || 'Are you sure?',
    text: form.dataset.confirm,
    button: form.dataset.confirmButton || 'OK'
  })
  if (ok) {
    form.dataset.confirmed = '1'
    form.requestSubmit()
  }
})

// --- forms submitted in place (the share panel) --------------------------------------------
async function submitInPlace (form, submitter) {
  const target = document.querySelector(form.dataset.swap)
  const body = new FormData(form, submitter)
  target.setAttribute('aria-busy', 'true')
  try {
    // getAttribute: a field named "action" would shadow form.action.
    const response = await fetch(form.getAttribute('action') || location.href, {
      method: 'POST',
      body,
      headers: { 'X-Requested-With': 'fetch' },
      credentials: 'same-origin'
    })
    const html = await response.text()
    if (!response.ok && response.status !== 400) throw new Error(`HTTP ${response.status}`)
    const fresh = new DOMParser().parseFromString(html, 'text/html').querySelector(form.dataset.swap)
    target.replaceWith(fresh)
    fresh.querySelector('.input--invalid, [name="username"]')?.focus()
  } catch (error) {
    console.error(error)
    target.removeAttribute('aria-busy')
    form.submit()
  }
}
document.addEventListener('submit', (event) => {
  const form = event.target
  if (!form.dataset.swap || event.defaultPrevented) return
  event.preventDefault()
  submitInPlace(form, event.submitter)
})
document.addEventListener('change', (event) => {
  const form = event.target.closest('form[data-autosubmit]')
  if (form) form.requestSubmit()
})

// --- menus: one open at a time, closed by a click elsewhere or Escape ---------------------------
document.addEventListener('click', (event) => {
  for (const menu of $$('details.menu[open]')) {
    if (!menu.contains(event.target)) menu.open = false
  }
})
document.addEventListener('keydown', (event) => {
  if (event.key === 'Escape') {
    for (const menu of $$('details.menu[open]')) menu.open = false
  }
})
document.addEventListener('click', (event) => {
  // Choosing an item closes its menu.
  const item = event.target.closest('details.menu a.menu__item')
  if (item) item.closest('details').open = false
})

// --- copy buttons ------------------------------------------------------------------------------
document.addEventListener('click', async (event) => {
  const button = event.target.closest('[data-copy]')
  if (!button) return
  const field = document.querySelector(button.dataset.copy)
  field.select()
  try {
    await navigator.clipboard.writeText(field.value)
  } catch {
    document.execCommand('copy')
  }
  button.textContent = 'Copied'
  setTimeout(() => { button.textContent = 'Copy' }, 2000)
})

// --- toasts ------------------------------------------------------------------------------------
for (const toast of $$('.toast')) {
  const remove = () => toast.remove()
  toast.querySelector('[data-dismiss]')?.addEventListener('click', remove)
  if (!toast.classList.contains('toast--error')) setTimeout(remove, 5000)
}

// --- import (document list): a chosen or dropped file becomes a new document, which opens ------
// POST /api/documents/import; what the editor could not hold ("2 images skipped") is said on the
// document's page after it opens (a toast from sessionStorage), an error here, in words.
const IMPORT_NOTES = 'import-notes'
const importer = document.querySelector('[data-import]')
if (importer) {
  const status = document.querySelector('[data-testid="import-status"]')
  const dropzone = document.querySelector('[data-testid="import-dropzone"]')
  const input = importer.querySelector('input[type="file"]')
  let busy = false

  const say = (text, kind) => {
    status.hidden = false
    status.textContent = text
    status.className = `alert import__status${kind ? ` alert--${kind}` : ''}`
    status.setAttribute('role', kind === 'error' ? 'alert' : 'status')
  }

  async function importFile (file) {
    if (busy || !file) return
    busy = true
    say(`Importing “${file.name}”…`)
    const body = new FormData()
    body.append('file', file, file.name)
    try {
      const response = await fetch(importer.dataset.url, {
        method: 'POST',
        body,
        headers: { 'X-CSRFToken': importer.dataset.csrf },
        credentials: 'same-origin'
      })
      let reply = null
      try { reply = await response.json() } catch { reply = null }
      if (!response.ok) {
        const detail = reply?.detail || `the server answered ${response.status}`
        say(`“${file.name}” was not imported: ${detail}`, 'error')
        return
      }
      if (reply.notes?.length) {
        sessionStorage.setItem(IMPORT_NOTES, JSON.stringify({ id: reply.id, title: reply.title, notes: reply.notes }))
      }
      say(`Imported “${reply.title}”. Opening it…`, 'success')
      location.assign(importer.dataset.editUrl.replace('00000000-0000-0000-0000-000000000000', reply.id))
    } catch (error) {
      say(`“${file.name}” was not imported: the server could not be reached (${error.message}).`, 'error')
    } finally {
      busy = false
      input.value = ''
    }
  }

  input.addEventListener('change', () => importFile(input.files[0]))

  // Drag and drop anywhere on the page. dragenter/dragleave fire for every child crossed: count them.
  let depth = 0
  const carriesFiles = (event) => [...(event.dataTransfer?.types || [])].includes('Files')
  document.addEventListener('dragenter', (event) => {
    if (!carriesFiles(event)) return
    event.preventDefault()
    depth += 1
    dropzone.hidden = false
  })
  document.addEventListener('dragover', (event) => {
    if (!carriesFiles(event)) return
    event.preventDefault()
    event.dataTransfer.dropEffect = 'copy'
  })
  document.addEventListener('dragleave', (event) => {
    if (!carriesFiles(event)) return
    depth = Math.max(0, depth - 1)
    if (depth === 0) dropzone.hidden = true
  })
  document.addEventListener('drop', (event) => {
    if (!carriesFiles(event)) return
    event.preventDefault()
    depth = 0
    dropzone.hidden = true
    const files = [...event.dataTransfer.files]
    if (files.length > 1) say('Drop one file at a time: only the first one is imported.')
    importFile(files[0])
  })
}

// On the page of a document just imported: what the import dropped or simplified.
{
  let pending = null
  try { pending = JSON.parse(sessionStorage.getItem(IMPORT_NOTES) || 'null') } catch { pending = null }
  if (pending && location.pathname.includes(pending.id)) {
    sessionStorage.removeItem(IMPORT_NOTES)
    let toasts = document.querySelector('.toasts')
    if (!toasts) {
      toasts = document.createElement('div')
      toasts.className = 'toasts'
      toasts.setAttribute('role', 'status')
      toasts.setAttribute('aria-live', 'polite')
      document.body.append(toasts)
    }
    const toast = document.createElement('div')
    toast.className = 'toast toast--notes'
    toast.dataset.testid = 'import-notes'
    const text = document.createElement('span')
    text.textContent = `Imported “${pending.title}”, with changes: ${pending.notes.join('; ')}.`
    const close = document.createElement('button')
    close.className = 'toast__close'
    close.type = 'button'
    close.setAttribute('aria-label', 'Dismiss')
    close.textContent = '×'
    close.addEventListener('click', () => toast.remove())
    toast.append(text, close)
    toasts.append(toast)
  }
}

// --- the document list: search as you type, and live ----------------------------------------
// The list region is rendered by the server (titles, roles, snippets with their matches in <mark>,
// every text escaped there) and swapped in whole. It is read again when the user's feed says it
// changed (list-feed.js: a rename, a new share or a lost one, within a second), when it comes back
// into view, and every 10 s only while the feed is down.
const docList = document.querySelector('[data-doc-list]')
if (docList) {
  const form = document.querySelector('[data-search]')
  const input = form?.elements.q
  let latest = 0
  async function refreshList (url) {
    const mine = ++latest
    try {
      const response = await fetch(url, { credentials: 'same-origin', headers: { 'X-Requested-With': 'fetch' } })
      if (!response.ok) return
      const html = await response.text()
      const fresh = new DOMParser().parseFromString(html, 'text/html').querySelector('[data-doc-list]')
      // An older answer arriving after a newer one is dropped.
      if (fresh && mine === latest) swapList(fresh)
    } catch (error) {
      console.error('could not refresh the document list', error)
    }
  }
  // Keeps the keyboard focus on the same control of the same row, if it is still there.
  function swapList (fresh) {
    const current = document.querySelector('[data-doc-list]')
    const focused = current.contains(document.activeElement) ? document.activeElement : null
    const row = focused?.closest('[data-document-id]')
    const index = row ? [...row.querySelectorAll('a, button')].indexOf(focused) : -1
    current.replaceWith(fresh)
    if (row && index >= 0) {
      const again = fresh.querySelector(`[data-document-id="${row.dataset.documentId}"]`)
      again?.querySelectorAll('a, button')[index]?.focus()
    }
  }
  const searchUrl = () => {
    const url = new URL(location.href)
    const query = input.value.trim()
    if (query) url.searchParams.set('q', query)
    else url.searchParams.delete('q')
    url.searchParams.delete('page')
    return url
  }
  const search = () => {
    const url = searchUrl()
    history.replaceState(null, '', url)
    refreshList(url)
  }
  let typing = 0
  input?.addEventListener('input', () => {
    clearTimeout(typing)
    typing = setTimeout(search, 250)
  })
  form?.addEventListener('submit', (event) => {
    event.preventDefault()
    clearTimeout(typing)
    search()
  })

  // Told or not, a list out of view is read when it comes back (focus, visibility); one with a dialog
  // open (rename, a delete's confirmation: their forms are in the rows) when the dialog closes.
  let pending = 0
  let stale = false
  function refreshSoon () {
    if (document.hidden) {
      stale = true
      return
    }
    const dialog = document.querySelector('dialog[open]')
    if (dialog) {
      stale = true
      dialog.addEventListener('close', () => { if (stale) refreshSoon() }, { once: true })
      return
    }
    stale = false
    clearTimeout(pending)
    pending = setTimeout(() => refreshList(location.href), 30) // one read for a burst of events
  }
  window.addEventListener('focus', refreshSoon)
  document.addEventListener('visibilitychange', () => {
    if (!document.hidden) refreshSoon()
  })

  // Text edits only move a row's time and snippet: read for them at most this often.
  const EDITED_MS = 10000
  let editedAt = 0
  let editedTimer = 0
  function edited () {
    if (editedTimer) return
    editedTimer = setTimeout(() => {
      editedTimer = 0
      editedAt = Date.now()
      refreshSoon()
    }, Math.max(0, editedAt + EDITED_MS - Date.now()))
  }

  // While the feed is down, the list reads itself as it did before it had one.
  const LIST_REFRESH_MS = 10000
  let polling = 0
  liveFeed({
    onChange: refreshSoon,
    onEdited: edited,
    onLive: () => {
      clearInterval(polling)
      polling = 0
      document.documentElement.dataset.feed = 'live' // for the tests, and a style if ever wanted
      refreshSoon()
    },
    onDown: () => {
      document.documentElement.dataset.feed = 'down'
      if (!polling) polling = setInterval(() => { if (!document.hidden) refreshList(location.href) }, LIST_REFRESH_MS)
    }
  })
}
