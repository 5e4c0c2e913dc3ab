// The history panel of the editor page: the document's versions newest first,
// grouped by day, and one version at a time read-only with what changed.
//
// Everything comes from the REST API (documents/api.py) with the session
// cookie: the list in pages (no version's content is loaded for it), a diff
// between two versions or against the current document, a version's content
// for the first version (nothing before it to compare with). Owners and
// editors also name and restore versions; the page renders those controls
// only for them (editor.html), and the API refuses them to anyone else.
//
// The panel is not modal: the document stays usable beside it on a wide
// screen. At phone width it covers the page as a sheet. Escape closes it and
// gives the focus back to the History button.

import { DOMSerializer, Node as PMNode } from '@tiptap/pm/model'

import { api } from './api.js'
import { safeColor } from './presence.js'

const PAGE_SIZE = 50
// Below this width the list and a version cannot sit side by side (app.css).
const ONE_COLUMN = '(max-width: 1000px)'

const timeFormat = new Intl.DateTimeFormat(undefined, { timeStyle: 'short' })
const dayFormat = new Intl.DateTimeFormat(undefined, { weekday: 'long', day: 'numeric', month: 'long', year: 'numeric' })
const whenFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' })

/** A day in this browser's time zone, as a key. */
function dayKey (date) {
  return `${date.getFullYear()}-${date.getMonth() + 1}-${date.getDate()}`
}

export function dayLabel (date, now = new Date()) {
  const yesterday = new Date(now)
  yesterday.setDate(now.getDate() - 1)
  if (dayKey(date) === dayKey(now)) return 'Today'
  if (dayKey(date) === dayKey(yesterday)) return 'Yesterday'
  return dayFormat.format(date)
}

const plural = (n, one) => `${n} ${one}${n === 1 ? '' : 's'}`

/** "+3 blocks, −12 words" from a version's summary; "No text changes" when nothing moved. */
export function summaryText (summary) {
  if (!summary) return ''
  const parts = []
  const { blocks_added: ba = 0, blocks_removed: br = 0, words_added: wa = 0, words_removed: wr = 0 } = summary
  if (ba) parts.push(`+${plural(ba, 'block')}`)
  if (br) parts.push(`\u2212${plural(br, 'block')}`)
  if (wa) parts.push(`+${plural(wa, 'word')}`)
  if (wr) parts.push(`\u2212${plural(wr, 'word')}`)
  return parts.length ? parts.join(', ') : 'No text changes'
}

const KIND_BADGES = { restore: 'Restored', named: 'Named' }

function versionName (version) {
  return (version.name ?? version.label ?? '').trim()
}

function el (tag, props = {}, ...children) {
  const node = document.createElement(tag)
  for (const [key, value] of Object.entries(props)) {
    if (key === 'dataset') Object.assign(node.dataset, value)
    else if (key === 'className' || key === 'textContent' || key === 'hidden' || key === 'type') node[key] = value
    else node.setAttribute(key, value)
  }
  node.append(...children.filter((child) => child !== null && child !== undefined && child !== false))
  return node
}

/** A person as a chip: their colour and their username. */
function chip (author) {
  const node = el('span', { className: 'chip' }, el('i', { className: 'chip__dot', 'aria-hidden': 'true' }), author.username)
  node.style.setProperty('--chip', safeColor(author.color))
  return node
}

/** The pages of the version list (the API's `page` and `page_size`; `count` says when to stop). */
class VersionPages {
  constructor (url) {
    this.base = url
    this.reset()
  }

  reset () {
    this.page = 0
    this.loaded = 0
    this.done = false
  }

  async load (signal) {
    const url = new URL(this.base, location.href)
    url.searchParams.set('page', this.page + 1)
    url.searchParams.set('page_size', PAGE_SIZE)
    const body = await api(url.href, { signal })
    // A page of a list started again meanwhile must not move this one's count.
    signal?.throwIfAborted()
    const items = body.items ?? []
    this.page += 1
    this.loaded += items.length
    this.done = items.length === 0 || this.loaded >= body.count
    return items
  }
}

export function bindHistory ({ panel, button, config, schema }) {
  const base = `/api/documents/${config.documentId}/versions/`
  const pages = new VersionPages(base)
  const $ = (selector) => panel.querySelector(selector)
  const list = $('[data-history-list]')
  const listStatus = $('[data-history-list-status]')
  const more = $('[data-history-more]')
  const detail = $('[data-history-detail]')
  const detailTitle = $('[data-history-detail-title]')
  const detailMeta = $('[data-history-detail-meta]')
  const legend = $('[data-history-legend]')
  const key = $('.history__key')
  const detailStatus = $('[data-history-detail-status]')
  const content = $('[data-history-content]')
  const compare = $('[data-history-compare]')
  const nameOpen = $('[data-history-name-open]')
  const nameForm = $('[data-history-name-form]')
  const restoreButton = $('[data-history-restore]')
  const restoreDialog = document.getElementById('restore-dialog')
  const oneColumn = window.matchMedia(ONE_COLUMN)

  /** Loaded versions, newest first, and their authors' colours by id and by username. */
  let versions = []
  const colors = new Map()
  let selectedId = null
  let listAbort = null
  let detailAbort = null
  let loading = null
  let failed = false
  // This page's own restore reloads the list itself when the server answers.
  let restoring = false

  const byId = (id) => versions.find((v) => String(v.id) === String(id))

  function learnAuthors (authors) {
    for (const author of authors ?? []) {
      if (author && typeof author === 'object' && author.color) {
        colors.set(`id:${author.id}`, author.color)
        colors.set(`name:${author.username}`, author.color)
      }
    }
  }
  colors.set(`name:${config.user.username}`, config.user.color)

  function authorColor (author) {
    if (!author) return null
    return colors.get(`id:${author.id}`) ?? colors.get(`name:${author.username}`) ?? null
  }

  // --- the list ---------------------------------------------------------------------

  function versionButton (version) {
    const date = new Date(version.created_at)
    const name = versionName(version)
    const badge = KIND_BADGES[version.kind]
    const authors = (version.authors ?? []).map((a) => (typeof a === 'string' ? { username: a } : a))
    const summary = summaryText(version.summary)
    return el('button', {
      type: 'button',
      className: 'version',
      dataset: { versionId: version.id, kind: version.kind ?? '' },
      'aria-current': String(String(version.id) === String(selectedId))
    },
    el('span', { className: 'version__top' },
      el('time', { className: 'version__time', datetime: version.created_at }, timeFormat.format(date)),
      badge && (version.kind !== 'named' || !name) ? el('span', { className: `badge badge--${version.kind}` }, badge) : null,
      name ? el('span', { className: 'version__name' }, name) : null
    ),
    authors.length ? el('span', { className: 'version__authors' }, ...authors.map(chip)) : null,
    summary ? el('span', { className: 'version__summary' }, summary) : null
    )
  }

  function appendVersions (items) {
    for (const version of items) {
      learnAuthors(version.authors)
      versions.push(version)
      const date = new Date(version.created_at)
      const key = dayKey(date)
      let day = list.lastElementChild
      if (!day || day.dataset.day !== key) {
        const headingId = `history-day-${key}`
        day = el('section', { className: 'history__day', dataset: { day: key } },
          el('h3', { className: 'history__day-title', id: headingId }, dayLabel(date)),
          el('ol', { className: 'history__versions', 'aria-labelledby': headingId }))
        list.append(day)
      }
      day.querySelector('ol').append(el('li', {}, versionButton(version)))
    }
  }

  function replaceButton (version) {
    const old = list.querySelector(`[data-version-id="${CSS.escape(String(version.id))}"]`)
    if (old) old.replaceWith(versionButton(version))
  }

  /** Loads the next page; resolves to whether it arrived. */
  async function loadMore () {
    if (loading) return loading
    if (pages.done) return true
    listStatus.textContent = versions.length ? 'Loading more versions…' : 'Loading versions…'
    // Hidden while loading, so that the observer below sees it come back into view
    // (and loads again) when a page did not fill the panel.
    const hadFocus = document.activeElement === more
    more.hidden = true
    const signal = listAbort.signal
    const before = versions.length
    loading = (async () => {
      try {
        const items = await pages.load(signal)
        if (signal.aborted) return false
        appendVersions(items)
        listStatus.textContent = versions.length ? '' : 'No versions yet. One is kept a little after each burst of editing.'
        return true
      } catch (error) {
        if (error.name === 'AbortError') return false
        // Until asked again (the button): the observer must not retry in a loop.
        failed = true
        listStatus.textContent = `The versions could not be loaded. ${error.message}`
        return false
      } finally {
        if (!signal.aborted) {
          loading = null
          more.hidden = pages.done
          // A keyboard user who asked for more lands on the first of them.
          if (hadFocus) (list.querySelectorAll('[data-version-id]')[before] ?? more).focus()
        }
      }
    })()
    return loading
  }

  /** Starts the list again from the newest version (on opening, after a restore). */
  async function reloadList () {
    listAbort?.abort()
    listAbort = new AbortController()
    loading = null
    failed = false
    versions = []
    pages.reset()
    list.replaceChildren()
    more.hidden = true
    await loadMore()
  }

  // Scrolling near the end of the list loads the next page; the button does the same by keyboard.
  const nearEnd = new IntersectionObserver((entries) => {
    if (entries.some((entry) => entry.isIntersecting) && !panel.hidden && !failed) loadMore()
  }, { root: $('[data-history-scroller]'), rootMargin: '200px' })
  nearEnd.observe(more)
  more.addEventListener('click', () => {
    failed = false
    loadMore()
  })

  // Up and down arrows move between versions, Home and End to the ends of what is loaded.
  list.addEventListener('keydown', (event) => {
    const current = event.target.closest('[data-version-id]')
    if (!current || !['ArrowDown', 'ArrowUp', 'Home', 'End'].includes(event.key)) return
    const all = [...list.querySelectorAll('[data-version-id]')]
    const index = all.indexOf(current)
    const next = { ArrowDown: index + 1, ArrowUp: index - 1, Home: 0, End: all.length - 1 }[event.key]
    if (next >= 0 && next < all.length) {
      event.preventDefault()
      all[next].focus()
    } else if (event.key === 'ArrowDown' && !pages.done) {
      event.preventDefault()
      more.focus()
    }
  })

  list.addEventListener('click', (event) => {
    const target = event.target.closest('[data-version-id]')
    if (target) select(target.dataset.versionId, { focus: oneColumn.matches })
  })

  // --- one version ----------------------------------------------------------------------

  /** The version before `version` in the history, loading further pages as needed; null for the first. */
  async function previousOf (version, signal) {
    for (;;) {
      signal.throwIfAborted()
      // By id: the list may have been started again meanwhile (someone restored a version).
      const index = versions.findIndex((v) => String(v.id) === String(version.id))
      if (index >= 0 && index + 1 < versions.length) return versions[index + 1]
      if (pages.done) return null
      // Not loaded: an error stops here; an abort means the list started again, so look again.
      if (!await loadMore() && failed) throw new Error('The versions before it could not be loaded.')
    }
  }

  function showMeta (version) {
    const date = new Date(version.created_at)
    const name = versionName(version)
    detailTitle.textContent = name ? `${name}` : whenFormat.format(date)
    const authors = (version.authors ?? []).map((a) => (typeof a === 'string' ? { username: a } : a))
    detailMeta.replaceChildren(...[
      name ? el('time', { datetime: version.created_at }, whenFormat.format(date)) : null,
      KIND_BADGES[version.kind] && version.kind !== 'named' ? el('span', { className: `badge badge--${version.kind}` }, KIND_BADGES[version.kind]) : null,
      authors.length ? el('span', { className: 'version__authors' }, ...authors.map(chip)) : null,
      version.summary ? el('span', { className: 'version__summary' }, summaryText(version.summary)) : null
    ].filter(Boolean))
  }

  async function select (id, { focus = false } = {}) {
    const version = byId(id)
    if (!version) return
    selectedId = version.id
    for (const node of list.querySelectorAll('[data-version-id]')) {
      node.setAttribute('aria-current', String(node.dataset.versionId === String(version.id)))
    }
    panel.classList.add('history--detail')
    detail.hidden = false
    closeNameForm()
    showMeta(version)
    if (focus) detailTitle.focus()
    await showChanges()
  }

  async function showChanges () {
    const version = byId(selectedId)
    if (!version) return
    detailAbort?.abort()
    detailAbort = new AbortController()
    const { signal } = detailAbort
    content.setAttribute('aria-busy', 'true')
    detailStatus.textContent = ''
    try {
      if (compare.checked) {
        legend.textContent = 'Changes from this version to the current document.'
        renderDiff(await api(`${base}${version.id}/diff/current`, { signal }))
        return
      }
      const previous = await previousOf(version, signal)
      if (signal.aborted) return
      if (previous) {
        legend.textContent = `Changes since the previous version (${whenFormat.format(new Date(previous.created_at))}).`
        renderDiff(await api(`${base}${previous.id}/diff/${version.id}`, { signal }))
      } else {
        legend.textContent = 'The first version: nothing before it to compare with.'
        renderContent((await api(`${base}${version.id}/`, { signal })).content)
      }
    } catch (error) {
      if (error.name === 'AbortError') return
      content.replaceChildren()
      detailStatus.textContent = `This version could not be shown. ${error.message}`
    } finally {
      if (!signal.aborted) content.setAttribute('aria-busy', 'false')
    }
  }

  const BLOCK_TAGS = { heading: null, codeBlock: 'pre', blockquote: 'blockquote' }

  function blockElement (block) {
    if (block.type === 'heading') {
      const level = Math.min(3, Math.max(1, Math.round(Number(block.attrs?.level ?? block.level) || 2)))
      return document.createElement(`h${level}`)
    }
    return document.createElement(BLOCK_TAGS[block.type] ?? 'p')
  }

  function renderRun (run) {
    const text = typeof run.text === 'string' ? run.text : ''
    if (run.op !== 'insert' && run.op !== 'delete') return document.createTextNode(text)
    const node = el(run.op === 'insert' ? 'ins' : 'del', {}, text)
    const color = authorColor(run.author)
    if (color) node.style.setProperty('--author', safeColor(color))
    if (run.author?.username) {
      node.title = `${run.op === 'insert' ? 'Added' : 'Deleted'} by ${run.author.username}`
      node.dataset.author = run.author.username
    }
    return node
  }

  function renderDiff (diff) {
    const blocks = Array.isArray(diff?.blocks) ? diff.blocks : []
    const rendered = blocks.map((block) => {
      const node = blockElement(block)
      node.className = 'diff-block'
      node.dataset.kind = block.kind
      const runs = Array.isArray(block.runs) ? block.runs : []
      node.append(...runs.map(renderRun))
      if (!node.textContent) node.append(document.createElement('br'))
      return node
    })
    key.hidden = false
    content.replaceChildren(...rendered)
    if (!rendered.length) content.append(el('p', { className: 'muted' }, 'This version is empty.'))
    const changed = blocks.some((b) => b.kind !== 'same')
    if (!changed) detailStatus.textContent = 'No changes.'
  }

  /** A version's ProseMirror JSON, rendered by the editor's own schema (no HTML strings). */
  function renderContent (json) {
    let fragment
    try {
      const doc = PMNode.fromJSON(schema, json)
      fragment = DOMSerializer.fromSchema(schema).serializeFragment(doc.content)
    } catch (error) {
      console.warn('a version this editor cannot render', error)
      fragment = el('p', { className: 'muted' }, 'This version cannot be shown here; export it instead.')
    }
    key.hidden = true
    content.replaceChildren(fragment)
    if (!content.textContent.trim()) content.append(el('p', { className: 'muted' }, 'This version is empty.'))
  }

  compare.addEventListener('change', () => showChanges())

  $('[data-history-back]').addEventListener('click', () => {
    panel.classList.remove('history--detail')
    detail.hidden = true
    detailAbort?.abort()
    list.querySelector(`[data-version-id="${CSS.escape(String(selectedId))}"]`)?.focus()
  })

  // --- naming and restoring (owners and editors; absent from the page otherwise) -----------

  function closeNameForm () {
    if (!nameForm) return
    nameForm.hidden = true
    nameOpen.hidden = false
    nameForm.querySelector('[data-history-name-error]').textContent = ''
  }

  if (nameForm) {
    const input = nameForm.elements.name
    const error = nameForm.querySelector('[data-history-name-error]')
    nameOpen.addEventListener('click', () => {
      input.value = versionName(byId(selectedId) ?? {})
      nameForm.hidden = false
      nameOpen.hidden = true
      input.focus()
      input.select()
    })
    nameForm.querySelector('[data-history-name-cancel]').addEventListener('click', () => {
      closeNameForm()
      nameOpen.focus()
    })
    input.addEventListener('keydown', (event) => {
      if (event.key === 'Escape') {
        // Leaves the name as it was; the panel stays open.
        event.stopPropagation()
        closeNameForm()
        nameOpen.focus()
      }
    })
    nameForm.addEventListener('submit', async (event) => {
      event.preventDefault()
      const version = byId(selectedId)
      if (!version) return
      const submit = nameForm.querySelector('[type=submit]')
      submit.disabled = true
      error.textContent = ''
      try {
        const named = await api(`${base}${version.id}/`, { method: 'PATCH', json: { name: input.value.trim() } })
        Object.assign(version, named ?? { name: input.value.trim() })
        replaceButton(version)
        showMeta(version)
        closeNameForm()
        detailStatus.textContent = versionName(version) ? `Named “${versionName(version)}”.` : 'Name removed.'
        nameOpen.focus()
      } catch (failure) {
        error.textContent = failure.message
        input.focus()
      } finally {
        submit.disabled = false
      }
    })
  }

  if (restoreButton && restoreDialog) {
    const when = restoreDialog.querySelector('[data-restore-when]')
    const confirmButton = restoreDialog.querySelector('[data-restore-confirm]')
    restoreButton.addEventListener('click', () => {
      const version = byId(selectedId)
      if (!version) return
      when.textContent = whenFormat.format(new Date(version.created_at))
      restoreDialog.returnValue = ''
      restoreDialog.showModal()
      restoreDialog.querySelector('[data-close]').focus()
    })
    restoreDialog.addEventListener('close', async () => {
      if (restoreDialog.returnValue !== 'restore') {
        restoreButton.focus()
        return
      }
      const version = byId(selectedId)
      if (!version) return
      restoreButton.disabled = true
      restoring = true
      detailStatus.textContent = 'Restoring…'
      try {
        const restored = await api(`${base}${version.id}/restore`, { method: 'POST' })
        await reloadList()
        detailStatus.textContent = ''
        if (restored?.id !== undefined && byId(restored.id)) {
          await select(restored.id)
          detailStatus.textContent = `Restored the version of ${whenFormat.format(new Date(version.created_at))}.`
          list.querySelector(`[data-version-id="${CSS.escape(String(restored.id))}"]`)?.focus()
        }
      } catch (failure) {
        detailStatus.textContent = `The version was not restored. ${failure.message}`
        restoreButton.focus()
      } finally {
        restoreButton.disabled = false
        restoring = false
      }
    })
    confirmButton.addEventListener('click', () => restoreDialog.close('restore'))
  }

  // --- opening and closing ---------------------------------------------------------------

  function open () {
    panel.hidden = false
    button.setAttribute('aria-expanded', 'true')
    document.body.classList.add('history-open')
    $('[data-history-title]').focus()
    selectedId = null
    panel.classList.remove('history--detail')
    detail.hidden = true
    if (compare) compare.checked = false
    reloadList()
  }

  function close () {
    if (panel.hidden) return
    listAbort?.abort()
    detailAbort?.abort()
    panel.hidden = true
    button.setAttribute('aria-expanded', 'false')
    document.body.classList.remove('history-open')
    button.focus()
  }

  button.addEventListener('click', () => (panel.hidden ? open() : close()))
  $('[data-history-close]').addEventListener('click', close)
  panel.addEventListener('keydown', (event) => {
    if (event.key === 'Escape' && !event.defaultPrevented) {
      event.preventDefault()
      close()
    }
  })

  return {
    open,
    close,
    /** A version was added behind the panel's back (someone restored one): show it. */
    refresh () {
      if (!panel.hidden && !restoring) reloadList()
    }
  }
}
