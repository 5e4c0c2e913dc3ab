// The comments panel of the editor page (issue 20): threads beside the text.
//
// Everything comes from the REST API (/api/documents/<id>/comments/, COMMENTS.md)
// with the session cookie. The panel keeps the whole list (?status=all) and
// filters it here: open threads (the default), resolved ones, or all. It is
// live: the server announces every committed change to a comment in its own
// awareness entry (`comments: {n}`; only the server's entry is believed,
// server-peer.js), and on that notice, and on every (re)connection, the list
// is read again; the answer to a read overtaken by a later one is dropped.
//
// Threads are listed in document order, computed here from where their
// anchors are now (comments.js), so the order and "on deleted text" follow
// edits at once; the server's order is the fallback before the document is
// rendered. Every text that people wrote (bodies, names, quotes) is put in
// the page with textContent, never as HTML.
//
// Roles: owners, editors and commenters comment and reply (config.canComment);
// owners and editors resolve and re-open (config.canResolve); viewers read.
// The server decides in the end: a refusal is shown as its sentence.

import { api } from './api.js'
import { anchorOf, highlightedRanges, rangeOf, setComments } from './comments.js'
import { bindMentions } from './mentions.js'

const whenFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' })
const QUOTE_MAX = 280

function el (tag, props = {}, ...children) {
  const node = document.createElement(tag)
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue
    if (key === 'dataset') Object.assign(node.dataset, value)
    else if (['className', 'textContent', 'hidden', 'type', 'value', 'disabled', 'rows'].includes(key)) node[key] = value
    else node.setAttribute(key, value)
  }
  node.append(...children.filter((child) => child !== null && child !== undefined && child !== false))
  return node
}

const shorten = (text, max = QUOTE_MAX) => (text.length > max ? `${text.slice(0, max - 1)}…` : text)
const nameOf = (person) => person?.name || person?.username || 'Someone'

/**
 * @param {object} options
 * @param {import('@tiptap/core').Editor} options.editor
 * @param {HTMLElement} options.panel the <aside> (editor.html)
 * @param {HTMLElement} options.toggle the Comments button of the bar
 * @param {object} options.config the page's config (documentId, user, canComment, canResolve, isOwner, shareUrl)
 * @param {import('./server-peer.js').ServerPeer} options.server
 * @param {{ on: Function }} options.provider
 */
export function bindComments ({ editor, panel, toggle, config, server, provider }) {
  const base = `/api/documents/${config.documentId}/comments/`
  const peopleUrl = `/api/documents/${config.documentId}/people/`
  const me = config.user.username
  const $ = (selector) => panel.querySelector(selector)
  const list = $('[data-comments-list]')
  const status = $('[data-comments-status]')
  const filter = $('[data-comments-filter]')
  const composer = $('[data-comments-composer]')
  const offers = $('[data-comments-offers]')
  const countBadge = toggle.querySelector('[data-comments-count]')

  let threads = []
  let loaded = false
  let active = null
  let pending = null // {anchor, quote} while composing a new thread
  let editing = null // the id of the message being edited
  const drafts = new Map() // textarea key -> text typed so far, kept across renders
  let latest = 0

  // --- the panel ------------------------------------------------------------------------

  const isOpen = () => !panel.hidden
  // Beside the text, under the editor bar (which stays usable); a bottom sheet on a phone (comments.css).
  const bar = document.querySelector('.editor-bar')
  const wide = window.matchMedia('(min-width: 601px)')
  const place = () => { panel.style.top = wide.matches && bar ? `${Math.max(0, bar.getBoundingClientRect().bottom)}px` : '' }
  window.addEventListener('resize', () => isOpen() && place())
  function openPanel () {
    if (isOpen()) return
    place()
    panel.hidden = false
    toggle.setAttribute('aria-expanded', 'true')
    document.body.classList.add('comments-open')
    render()
  }
  function closePanel () {
    panel.hidden = true
    toggle.setAttribute('aria-expanded', 'false')
    document.body.classList.remove('comments-open')
    pending = null
    setActive(null)
  }
  toggle.addEventListener('click', () => (isOpen() ? closePanel() : openPanel()))
  $('[data-comments-close]').addEventListener('click', () => {
    closePanel()
    toggle.focus()
  })
  panel.addEventListener('keydown', (event) => {
    if (event.key === 'Escape' && !event.defaultPrevented) {
      closePanel()
      toggle.focus()
    }
  })
  filter.addEventListener('change', render)

  function setActive (id) {
    active = id
    setComments(editor, { threads, active, pending: pending?.anchor ?? null })
  }

  // --- reading the list ---------------------------------------------------------------------

  async function refresh () {
    const mine = ++latest
    try {
      const answer = await api(`${base}?status=all`)
      if (mine !== latest) return
      threads = Array.isArray(answer) ? answer : answer?.items ?? []
      loaded = true
      status.textContent = ''
      // The thread shown is gone, or the filter no longer lists it (resolved meanwhile): none is.
      const shown = threads.find((t) => t.id === active)
      if (active && (!shown || (filter.value === 'open' && shown.resolved) || (filter.value === 'resolved' && !shown.resolved))) active = null
      setComments(editor, { threads, active, pending: pending?.anchor ?? null })
      render()
      openFromHash()
    } catch (error) {
      if (mine === latest) status.textContent = `Comments could not be loaded: ${error.detail ?? error.message}`
    }
  }

  let heard = null
  server.awareness.on('update', () => {
    const notice = server.state()?.comments
    if (typeof notice?.n !== 'string' || notice.n === heard) return
    // Even the first notice this page hears may be news (none was out when it connected): read again.
    heard = notice.n
    refresh()
  })
  provider.on('status', ({ status }) => {
    if (status === 'connected') refresh()
  })

  // A link to a comment (a notification's): /documents/<id>/#comment-<cid>, a thread or a reply.
  let hashDone = false
  function openFromHash () {
    if (hashDone) return
    const match = /^#comment-([\w-]+)$/.exec(location.hash)
    if (!match) return
    hashDone = true
    const thread = threads.find((t) => t.id === match[1] || (t.replies ?? []).some((r) => r.id === match[1]))
    if (thread) showThread(thread.id, { reveal: true })
  }

  // --- where each thread is now --------------------------------------------------------------

  function placeOf (thread, ranges) {
    let range = ranges.get(thread.id)
    if (!range && thread.resolved) range = rangeOf(editor.state, thread.anchor)
    if (range) return { range, deleted: false, quote: editor.state.doc.textBetween(range.from, range.to, '\n', ' ') }
    // Not in the text: its text is gone. Until this page has the document, believe the server.
    const synced = editor.view.dom.closest('[aria-busy]')?.getAttribute('aria-busy') === 'false'
    return { range: null, deleted: synced || Boolean(thread.on_deleted_text), quote: thread.quote || thread.original_quote || '' }
  }

  function visibleThreads () {
    const ranges = highlightedRanges(editor.state)
    const which = filter.value
    const placed = threads
      .map((thread, index) => ({ thread, index, ...placeOf(thread, ranges) }))
      .filter(({ thread }) => which === 'all' || (which === 'resolved' ? thread.resolved : !thread.resolved))
    placed.sort((a, b) => {
      if (a.deleted !== b.deleted) return a.deleted ? 1 : -1
      const pa = a.range?.from ?? a.thread.position ?? Infinity
      const pb = b.range?.from ?? b.thread.position ?? Infinity
      return pa === pb ? a.index - b.index : pa - pb
    })
    return placed
  }

  // --- rendering ---------------------------------------------------------------------------------

  let lastSignature = ''
  function render () {
    const openCount = threads.filter((t) => !t.resolved).length
    if (countBadge) {
      countBadge.textContent = openCount ? String(openCount) : ''
      countBadge.hidden = !openCount
    }
    toggle.setAttribute('aria-label', openCount ? `Comments (${openCount} open)` : 'Comments')
    renderComposer()
    if (!isOpen()) return
    const placed = visibleThreads()
    lastSignature = signature(placed)
    // Keep the focus and caret of a box being typed in across the redraw.
    const focused = document.activeElement?.closest?.('[data-comments-list] textarea')
    const focusKey = focused?.dataset.draft
    const caret = focused ? [focused.selectionStart, focused.selectionEnd] : null
    list.replaceChildren(...placed.map(threadItem))
    if (!placed.length && loaded) {
      const empty = { open: 'No open comments.', resolved: 'No resolved comments.', all: 'No comments yet.' }[filter.value]
      list.append(el('li', { className: 'comments__empty' }, empty +
        (config.canComment && filter.value !== 'resolved' ? ' Select text and choose Comment (Ctrl+Alt+M).' : '')))
    }
    if (focusKey) {
      const again = list.querySelector(`textarea[data-draft="${CSS.escape(focusKey)}"]`)
      if (again) {
        again.focus()
        again.setSelectionRange(...caret)
      }
    }
  }

  const signature = (placed) => placed.map((p) => `${p.thread.id}:${p.deleted}:${p.quote}`).join('|')
  // The document changed: redraw only if the order, a quote or a "deleted" state changed.
  let scheduled = false
  editor.on('transaction', ({ transaction }) => {
    if (!isOpen() || scheduled || !transaction.docChanged) return
    scheduled = true
    requestAnimationFrame(() => {
      scheduled = false
      if (signature(visibleThreads()) !== lastSignature) render()
    })
  })

  function textBox ({ key, label, placeholder, testid }) {
    const textarea = el('textarea', {
      className: 'input comments__input',
      rows: 2,
      placeholder,
      'aria-label': label,
      maxlength: 10000,
      dataset: { draft: key, testid }
    })
    textarea.value = drafts.get(key) ?? ''
    textarea.addEventListener('input', () => drafts.set(key, textarea.value))
    const wrap = el('div', { className: 'comments__field' }, textarea)
    bindMentions(textarea, peopleUrl)
    return { wrap, textarea }
  }

  // Ctrl+Enter (or Cmd+Enter) sends, Escape cancels.
  function submitKeys (textarea, send, cancel) {
    textarea.addEventListener('keydown', (event) => {
      if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) {
        event.preventDefault()
        send()
      } else if (event.key === 'Escape' && cancel) {
        event.preventDefault()
        cancel()
      }
    })
  }

  function renderComposer () {
    if (!pending) {
      composer.hidden = true
      composer.replaceChildren()
      return
    }
    if (!composer.hidden && composer.dataset.for === pending.anchor.start + pending.anchor.end) return
    composer.dataset.for = pending.anchor.start + pending.anchor.end
    const { wrap, textarea } = textBox({ key: 'new', label: 'Comment', placeholder: 'Add a comment… (@ to mention)', testid: 'comment-input' })
    const error = el('p', { className: 'field__error', role: 'alert' })
    const send = el('button', { type: 'button', className: 'button button--primary button--small', dataset: { testid: 'comment-submit' } }, 'Comment')
    const cancel = el('button', { type: 'button', className: 'button button--small' }, 'Cancel')
    const post = async () => {
      const body = textarea.value.trim()
      if (!body) return textarea.focus()
      send.disabled = true
      error.textContent = ''
      try {
        const thread = await api(base, { method: 'POST', json: { body, anchor: pending.anchor } })
        drafts.delete('new')
        pending = null
        if (thread?.id) {
          threads = [...threads.filter((t) => t.id !== thread.id), thread]
          if (filter.value === 'resolved') filter.value = 'open'
          setActive(thread.id)
        }
        render()
        offerSharing(thread?.mentioned_without_access)
        refresh()
      } catch (failure) {
        error.textContent = failure.detail ?? 'The comment could not be posted.'
        send.disabled = false
      }
    }
    const stop = () => {
      drafts.delete('new')
      pending = null
      setComments(editor, { pending: null })
      render()
      editor.commands.focus()
    }
    send.addEventListener('click', post)
    cancel.addEventListener('click', stop)
    submitKeys(textarea, post, stop)
    composer.replaceChildren(
      el('blockquote', { className: 'comments__quote', dataset: { testid: 'composer-quote' } }, shorten(pending.quote)),
      wrap,
      error,
      el('div', { className: 'comments__actions' }, cancel, send)
    )
    composer.hidden = false
    textarea.focus()
  }

  function threadItem ({ thread, deleted, quote }) {
    const isActive = thread.id === active
    const item = el('li', {
      className: `thread${isActive ? ' thread--active' : ''}${thread.resolved ? ' thread--resolved' : ''}`,
      dataset: { testid: 'comment-thread', threadId: thread.id, deleted: String(deleted), resolved: String(Boolean(thread.resolved)) },
      'aria-current': isActive ? 'true' : null
    })
    const quoteButton = el('button', { type: 'button', className: 'thread__quote', 'aria-label': `Show the text: ${shorten(quote, 80)}`, dataset: { testid: 'thread-quote' } },
      deleted ? el('span', { className: 'badge thread__deleted', dataset: { testid: 'thread-deleted' } }, 'On deleted text') : null,
      el('span', { className: 'thread__quote-text' }, shorten(quote)))
    quoteButton.addEventListener('click', () => showThread(thread.id, { reveal: true }))
    item.append(quoteButton)
    const messages = el('div', { className: 'thread__messages' }, message(thread, thread, true),
      ...(thread.replies ?? []).map((reply) => message(thread, reply, false)))
    // A click anywhere on a collapsed thread opens it.
    messages.addEventListener('click', (event) => {
      if (!isActive && !event.target.closest('button, textarea, a')) showThread(thread.id, { reveal: true })
    })
    item.append(messages)
    if (thread.resolved) {
      item.append(el('p', { className: 'thread__state', dataset: { testid: 'thread-resolved' } },
        `Resolved${thread.resolved_by ? ` by ${nameOf(thread.resolved_by)}` : ''}`))
    }
    if (isActive) item.append(threadActions(thread))
    return item
  }

  function message (thread, comment, isRoot) {
    const mine = comment.author?.username === me
    const canEdit = comment.can_edit ?? mine
    const canDelete = comment.can_delete ?? (mine || config.isOwner)
    const node = el('article', { className: 'message', id: `comment-${comment.id}`, dataset: { testid: 'comment-message', commentId: comment.id } })
    const when = comment.created_at ? new Date(comment.created_at) : null
    node.append(el('header', { className: 'message__head' },
      el('strong', { className: 'message__author' }, nameOf(comment.author)),
      when ? el('time', { className: 'message__time', datetime: comment.created_at }, whenFormat.format(when)) : null,
      comment.edited_at ? el('span', { className: 'message__edited', title: `Edited ${whenFormat.format(new Date(comment.edited_at))}` }, '(edited)') : null))
    if (editing === comment.id) {
      node.append(editBox(comment))
      return node
    }
    node.append(el('p', { className: 'message__body', dataset: { testid: 'comment-body' } }, comment.body ?? ''))
    if (thread.id === active && (canEdit || canDelete)) {
      const actions = el('div', { className: 'message__actions' })
      if (canEdit) {
        const edit = el('button', { type: 'button', className: 'link-button', dataset: { testid: 'comment-edit' } }, 'Edit')
        edit.addEventListener('click', () => {
          editing = comment.id
          drafts.set(`edit:${comment.id}`, comment.body ?? '')
          render()
          list.querySelector(`textarea[data-draft="edit:${CSS.escape(comment.id)}"]`)?.focus()
        })
        actions.append(edit)
      }
      if (canDelete) {
        const remove = el('button', { type: 'button', className: 'link-button link-button--danger', dataset: { testid: 'comment-delete' } }, 'Delete')
        remove.addEventListener('click', async () => {
          const what = isRoot ? 'this comment and its replies' : 'this reply'
          if (!window.confirm(`Delete ${what}? This cannot be undone.`)) return
          await act(() => api(`${base}${comment.id}/`, { method: 'DELETE' }))
        })
        actions.append(remove)
      }
      node.append(actions)
    }
    return node
  }

  function editBox (comment) {
    const key = `edit:${comment.id}`
    const { wrap, textarea } = textBox({ key, label: 'Edit comment', placeholder: '', testid: 'comment-edit-input' })
    const save = el('button', { type: 'button', className: 'button button--primary button--small', dataset: { testid: 'comment-save' } }, 'Save')
    const cancel = el('button', { type: 'button', className: 'button button--small' }, 'Cancel')
    const stop = () => {
      editing = null
      drafts.delete(key)
      render()
    }
    const send = async () => {
      const body = textarea.value.trim()
      if (!body) return
      const answer = await act(() => api(`${base}${comment.id}/`, { method: 'PATCH', json: { body } }))
      if (answer !== undefined) {
        offerSharing(answer?.mentioned_without_access)
        stop()
      }
    }
    save.addEventListener('click', send)
    cancel.addEventListener('click', stop)
    submitKeys(textarea, send, stop)
    return el('div', { className: 'message__editing' }, wrap, el('div', { className: 'comments__actions' }, cancel, save))
  }

  function threadActions (thread) {
    const box = el('div', { className: 'thread__actions' })
    const error = el('p', { className: 'field__error', role: 'alert', dataset: { testid: 'thread-error' } })
    if (config.canComment && !thread.resolved) {
      const key = `reply:${thread.id}`
      const { wrap, textarea } = textBox({ key, label: 'Reply', placeholder: 'Reply… (@ to mention)', testid: 'reply-input' })
      const send = el('button', { type: 'button', className: 'button button--primary button--small', dataset: { testid: 'reply-submit' } }, 'Reply')
      const post = async () => {
        const body = textarea.value.trim()
        if (!body) return textarea.focus()
        const answer = await act(() => api(`${base}${thread.id}/replies/`, { method: 'POST', json: { body } }), error)
        if (answer !== undefined) {
          drafts.delete(key)
          offerSharing(answer?.mentioned_without_access)
          render()
        }
      }
      send.addEventListener('click', post)
      submitKeys(textarea, post)
      box.append(wrap)
      box.append(el('div', { className: 'comments__actions' }, resolveButton(thread, error), send))
    } else {
      const button = resolveButton(thread, error)
      if (button) box.append(el('div', { className: 'comments__actions' }, button))
    }
    box.append(error)
    return box
  }

  function resolveButton (thread, error) {
    if (!config.canResolve) return null
    const verb = thread.resolved ? 'reopen' : 'resolve'
    const button = el('button', { type: 'button', className: 'button button--small', dataset: { testid: `thread-${verb}` } },
      thread.resolved ? 'Re-open' : 'Resolve')
    button.addEventListener('click', () => act(() => api(`${base}${thread.id}/${verb}/`, { method: 'POST' }), error))
    return button
  }

  /** Runs a change, then reads the list again; undefined (and the server's sentence shown) on failure. */
  async function act (call, errorElement = status) {
    try {
      const answer = await call()
      errorElement.textContent = ''
      await refresh()
      return answer
    } catch (failure) {
      errorElement.textContent = failure.detail ?? 'That did not work. Try again.'
      return undefined
    }
  }

  // --- opening a thread ---------------------------------------------------------------------------

  function showThread (id, { reveal = false } = {}) {
    openPanel()
    const thread = threads.find((t) => t.id === id)
    if (thread && filter.value !== 'all' && Boolean(thread.resolved) !== (filter.value === 'resolved')) {
      filter.value = thread.resolved ? 'resolved' : 'open'
    }
    setActive(id)
    render()
    list.querySelector(`[data-thread-id="${CSS.escape(id)}"]`)?.scrollIntoView({ block: 'nearest' })
    if (reveal) {
      editor.view.dom.querySelector(`[data-comment-id="${CSS.escape(id)}"]`)?.scrollIntoView({ block: 'center' })
    }
  }

  // --- starting a comment ---------------------------------------------------------------------------

  /** The text selected in the editor: the page's selection when it lies in the editor, else the editor's own. */
  function selectedRange () {
    const selection = window.getSelection()
    const view = editor.view
    if (selection && !selection.isCollapsed && view.dom.contains(selection.anchorNode) && view.dom.contains(selection.focusNode)) {
      const range = selection.getRangeAt(0)
      try {
        const from = view.posAtDOM(range.startContainer, range.startOffset)
        const to = view.posAtDOM(range.endContainer, range.endOffset)
        if (from < to) return { from, to }
      } catch {
        // A selection ProseMirror cannot place (inside a widget): use the editor's own.
      }
    }
    const { from, to, empty } = editor.state.selection
    return empty ? null : { from, to }
  }

  function startComment () {
    if (!config.canComment) return
    const range = selectedRange()
    const quote = range ? editor.state.doc.textBetween(range.from, range.to, '\n', ' ').trim() : ''
    const anchor = range && quote ? anchorOf(editor.state, range.from, range.to) : null
    openPanel()
    if (!anchor) {
      status.textContent = 'Select the text you want to comment on, then choose Comment.'
      return
    }
    status.textContent = ''
    if (pending?.anchor.start !== anchor.start || pending?.anchor.end !== anchor.end) drafts.delete('new')
    pending = { anchor, quote }
    setActive(null)
    render()
  }

  // Toolbar buttons (a mousedown must not take the selection away from the text).
  for (const button of document.querySelectorAll('[data-comment-add]')) {
    button.addEventListener('mousedown', (event) => event.preventDefault())
    button.addEventListener('click', startComment)
  }
  // Ctrl+Alt+M (Cmd+Alt+M on a Mac), wherever the focus is on the page.
  document.addEventListener('keydown', (event) => {
    if (event.code === 'KeyM' && event.altKey && (event.ctrlKey || event.metaKey) && !event.shiftKey) {
      event.preventDefault()
      startComment()
    }
  })
  bindContextMenu(editor, config.canComment ? startComment : null)

  // --- sharing with people mentioned who have no access -----------------------------------------------

  // Only the owner is told of them (the API's mentioned_without_access), and only the owner can share.
  function offerSharing (people) {
    if (!config.shareUrl || !Array.isArray(people) || !people.length) return
    for (const person of people) {
      const text = el('p', {}, `${nameOf(person)} (@${person.username}) cannot open this document, so they were not notified.`)
      const offer = el('div', { className: 'comments__offer', role: 'status', dataset: { testid: 'share-offer', username: person.username } }, text)
      const dismiss = el('button', { type: 'button', className: 'button button--small' }, 'Not now')
      dismiss.addEventListener('click', () => offer.remove())
      const role = el('select', { className: 'select select--small', 'aria-label': `Role for ${person.username}`, dataset: { testid: 'share-offer-role' } },
        ...(config.shareRoles ?? [['commenter', 'Can comment'], ['viewer', 'Can view'], ['editor', 'Can edit']])
          .map(([value, label]) => el('option', { value }, label)))
      role.value = (config.shareRoles ?? []).some(([value]) => value === 'commenter') ? 'commenter' : role.value
      const share = el('button', { type: 'button', className: 'button button--primary button--small', dataset: { testid: 'share-offer-submit' } },
        `Share with ${nameOf(person)}`)
      share.addEventListener('click', async () => {
        share.disabled = true
        const done = await shareWith(person.username, role.value)
        offer.replaceChildren(el('p', {}, done))
        setTimeout(() => offer.remove(), 6000)
      })
      offer.append(el('div', { className: 'comments__actions' }, role, dismiss, share))
      offers.append(offer)
    }
  }

  // The share dialog's own form (frontend/views.py document_share), answered with the dialog's fragment.
  async function shareWith (username, role) {
    const form = new FormData()
    form.set('csrfmiddlewaretoken', document.querySelector('input[name=csrfmiddlewaretoken]')?.value ?? '')
    form.set('action', 'add')
    form.set('username', username)
    form.set('role', role)
    try {
      const response = await fetch(config.shareUrl, { method: 'POST', body: form, headers: { 'X-Requested-With': 'fetch' }, credentials: 'same-origin' })
      const html = await response.text()
      // The dialog's panel shows the new member (the server's template, escaped there).
      const panelNow = document.getElementById('share-panel')
      if (panelNow && html.includes('id="share-panel"')) {
        const fresh = new DOMParser().parseFromString(html, 'text/html').getElementById('share-panel')
        if (fresh) panelNow.replaceWith(document.adoptNode(fresh))
      }
      return response.ok ? `Shared with @${username}. Mention them again to notify them.` : `Could not share with @${username}.`
    } catch {
      return 'The server could not be reached. Try again.'
    }
  }

  window.addEventListener('hashchange', () => {
    hashDone = false
    openFromHash()
  })
  refresh()
  return { refresh, open: openPanel, showThread, startComment }
}

// --- the context menu: "Comment" on a selection ------------------------------------------------------

function bindContextMenu (editor, startComment) {
  if (!startComment) return
  const menu = el('div', { className: 'context-menu', role: 'menu', hidden: true, dataset: { testid: 'context-menu' } })
  const item = el('button', { type: 'button', className: 'menu__item', role: 'menuitem', dataset: { testid: 'context-comment' } },
    'Comment', el('small', { className: 'context-menu__key' }, 'Ctrl+Alt+M'))
  const hint = el('p', { className: 'context-menu__hint' }, 'Shift+right-click: the browser’s menu')
  menu.append(item, hint)
  document.body.append(menu)
  const close = () => { menu.hidden = true }
  item.addEventListener('mousedown', (event) => event.preventDefault())
  item.addEventListener('click', () => {
    close()
    startComment()
  })
  editor.view.dom.addEventListener('contextmenu', (event) => {
    const selection = window.getSelection()
    const selected = (selection && !selection.isCollapsed) || !editor.state.selection.empty
    if (event.shiftKey || !selected) return
    event.preventDefault()
    menu.hidden = false
    const { innerWidth, innerHeight } = window
    const box = menu.getBoundingClientRect()
    menu.style.left = `${Math.max(4, Math.min(event.clientX, innerWidth - box.width - 4))}px`
    menu.style.top = `${Math.max(4, Math.min(event.clientY, innerHeight - box.height - 4))}px`
    item.focus({ preventScroll: true })
  })
  document.addEventListener('mousedown', (event) => {
    if (!menu.hidden && !menu.contains(event.target)) close()
  })
  document.addEventListener('keydown', (event) => {
    if (event.key === 'Escape' && !menu.hidden) {
      close()
      editor.view.focus()
    }
  })
  window.addEventListener('scroll', close, { passive: true })
}
