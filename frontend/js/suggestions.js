// Suggestions (track changes, issue 20): the "Suggesting" mode and the review of proposals.
//
// In Suggesting mode (a toolbar toggle, per tab) an owner's or editor's edits
// are rewritten before they reach the document: inserted text gets a
// `suggestionInsert` mark, deleted text is not removed but gets a
// `suggestionDelete` mark (suggestion-marks.js); deleting text that is one's
// own pending insertion removes it for real. Accepting or rejecting a
// suggestion is then an ordinary edit of the shared document:
//
//   accept insertion -> drop the mark    reject insertion -> delete the text
//   accept deletion  -> delete the text  reject deletion  -> drop the mark
//
// so everyone sees it live through Yjs and no server channel is involved. Two
// people acting on one suggestion at once converge (Yjs merges a mark removal
// and a deletion of the same text into the deletion), and only the text that
// carries the suggestion's id is touched.
//
// What is tracked: text (typing, paste, drop, Backspace/Delete over a caret or
// a selection). What is not: structure (splitting or joining paragraphs,
// lists, tables, images, rules) and formatting, which apply as ordinary edits
// (a selection over text and structure marks the text and keeps the
// structure); text typed into a code block or inline code, which cannot hold
// the mark, is refused while suggesting rather than slipped in untracked.
import { Extension } from '@tiptap/core'
import { Mapping, ReplaceStep } from '@tiptap/pm/transform'
import { Plugin, PluginKey, Selection } from '@tiptap/pm/state'
import { Fragment, Slice } from '@tiptap/pm/model'
import { ySyncPluginKey } from '@tiptap/y-tiptap'

import { SUGGESTION_DELETE, SUGGESTION_INSERT } from './suggestion-marks.js'

// Transactions of the review itself (accept, reject): applied as they are.
const REVIEW = 'suggestionReview'

function newId () {
  return globalThis.crypto?.randomUUID?.() ?? `s-${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`
}

// The proposer's mark of `type` right next to `pos` (before, then after), to
// continue one suggestion while typing or deleting on rather than make one per key.
function ownMarkAt (doc, pos, type, username) {
  const $pos = doc.resolve(Math.max(0, Math.min(pos, doc.content.size)))
  for (const node of [$pos.nodeBefore, $pos.nodeAfter]) {
    const mark = node && type.isInSet(node.marks)
    if (mark && mark.attrs.author === username) return mark.attrs
  }
  return null
}

/**
 * The transaction `tr` (made against `state`) as a suggestion by `me`: its
 * text insertions marked, its text deletions marked instead of made.
 * @param {import('@tiptap/pm/state').Transaction} tr
 * @param {import('@tiptap/pm/state').EditorState} state
 * @param {{username: string, name: string}} me
 */
export function suggestTransaction (tr, state, me, now = new Date()) {
  const insertType = state.schema.marks[SUGGESTION_INSERT]
  const deleteType = state.schema.marks[SUGGESTION_DELETE]
  const fresh = () => ({ id: newId(), author: me.username, name: me.name || me.username, at: now.toISOString() })
  const out = state.tr
  const oldSelection = state.selection
  let cursor = null
  let bias = 1
  tr.steps.forEach((step, index) => {
    // From the coordinates this step was made in to those of `out`.
    // (Mapping.slice keeps every map and only narrows the range that map() uses: invert by hand.)
    const toOut = new Mapping()
    for (let i = index - 1; i >= 0; i--) toOut.appendMap(tr.mapping.maps[i].invert())
    toOut.appendMapping(out.mapping)
    if (!(step instanceof ReplaceStep)) {
      const mapped = step.map(toOut)
      if (mapped) out.maybeStep(mapped)
      return
    }
    const from = toOut.map(step.from, 1)
    const to = Math.max(from, toOut.map(step.to, -1))
    let insertAt = to
    let deleteAttrs = null
    let inline = false
    out.doc.nodesBetween(from, to, (node) => { inline ||= node.isInline; return !inline })
    if (to > from && !inline) {
      // Structure only (a paragraph boundary that Backspace joins, an image, a rule): an ordinary edit.
      out.delete(from, to)
      insertAt = from
      cursor = from
      bias = -1
    } else if (to > from) {
      const ranges = []
      out.doc.nodesBetween(from, to, (node, pos) => {
        if (node.isInline) ranges.push({ from: Math.max(pos, from), to: Math.min(pos + node.nodeSize, to), node })
        return !node.isInline
      })
      deleteAttrs = ownMarkAt(out.doc, from, deleteType, me.username) ?? ownMarkAt(out.doc, to, deleteType, me.username) ?? fresh()
      for (const range of ranges.reverse()) {
        const inserted = insertType.isInSet(range.node.marks)
        if (inserted && inserted.attrs.author === me.username) {
          // One's own proposal, taken back: gone for real.
          out.delete(range.from, range.to)
          insertAt -= range.to - range.from
        } else if (!deleteType.isInSet(range.node.marks) && range.node.type.isText) {
          out.addMark(range.from, range.to, deleteType.create(deleteAttrs))
        }
      }
      // Backspace leaves the caret before what it marked, so that the next one goes on; Delete after it.
      const backspace = index === 0 && oldSelection.empty && step.slice.size === 0 && oldSelection.head === step.to
      cursor = backspace ? from : insertAt
      bias = backspace ? -1 : 1
    }
    if (step.slice.size === 0) return
    // Text that cannot carry the mark (in a code block, or inline code, which excludes every other
    // mark) would go in untracked: refused instead.
    const $at = out.doc.resolve(insertAt)
    let untrackable = false
    step.slice.content.descendants((node, _pos, parent) => {
      if (node.isText) {
        untrackable ||= node.marks.some((m) => m.type !== insertType && m.type.excludes(insertType)) ||
          !(parent ?? $at.parent).type.allowsMarkType(insertType)
      }
    })
    if (untrackable) return
    const before = out.steps.length
    out.replace(insertAt, insertAt, step.slice)
    if (out.steps.length === before) return
    let start = insertAt
    let end = insertAt
    out.mapping.maps[out.mapping.maps.length - 1].forEach((_oldStart, _oldEnd, newStart, newEnd) => {
      start = newStart
      end = newEnd
    })
    const attrs = ownMarkAt(out.doc, start, insertType, me.username) ??
      ownMarkAt(out.doc, end, insertType, me.username) ?? deleteAttrs ?? fresh()
    out.removeMark(start, end, deleteType)
    out.removeMark(start, end, insertType)
    out.addMark(start, end, insertType.create(attrs))
    cursor = end
    bias = 1
  })
  for (const key in tr.meta) {
    // uiEvent, paste... for the plugins that read them (the transaction is otherwise the same edit).
    if (typeof key === 'string' && !key.startsWith('y-sync')) out.setMeta(key, tr.meta[key])
  }
  if (cursor !== null) {
    out.setSelection(Selection.near(out.doc.resolve(Math.min(cursor, out.doc.content.size)), bias))
  }
  return out
}

function stripSuggestions (slice, schema) {
  const types = [schema.marks[SUGGESTION_INSERT], schema.marks[SUGGESTION_DELETE]]
  const strip = (fragment) => {
    const nodes = []
    fragment.forEach((node) => {
      if (node.isText) nodes.push(node.mark(node.marks.filter((m) => !types.includes(m.type))))
      else nodes.push(node.copy(strip(node.content)))
    })
    return Fragment.fromArray(nodes)
  }
  return new Slice(strip(slice.content), slice.openStart, slice.openEnd)
}

/**
 * Every piece of text that suggestion `id` covers: [{from, to, kind: 'insert'|'delete', attrs}].
 */
export function suggestionRanges (doc, id) {
  const ranges = []
  doc.descendants((node, pos) => {
    if (!node.isInline) return true
    for (const mark of node.marks) {
      const kind = mark.type.name === SUGGESTION_INSERT ? 'insert' : mark.type.name === SUGGESTION_DELETE ? 'delete' : null
      if (kind && mark.attrs.id === id) ranges.push({ from: pos, to: pos + node.nodeSize, kind, attrs: mark.attrs })
    }
    return false
  })
  return ranges
}

/** The pending suggestions of a document, in document order: [{id, kinds, attrs, text, from}]. */
export function pendingSuggestions (doc) {
  const byId = new Map()
  doc.descendants((node, pos) => {
    if (!node.isInline) return true
    for (const mark of node.marks) {
      const kind = mark.type.name === SUGGESTION_INSERT ? 'insert' : mark.type.name === SUGGESTION_DELETE ? 'delete' : null
      if (!kind) continue
      let entry = byId.get(mark.attrs.id)
      if (!entry) byId.set(mark.attrs.id, entry = { id: mark.attrs.id, attrs: mark.attrs, from: pos, inserted: '', deleted: '' })
      if (kind === 'insert') entry.inserted += node.textContent
      else entry.deleted += node.textContent
    }
    return false
  })
  return [...byId.values()]
}

/**
 * Accept (`accept` true) or reject suggestion `id`: one transaction, applied
 * as it is (never itself turned into a suggestion).
 * @returns {boolean} whether there was anything left to act on
 */
export function resolveSuggestion (editor, id, accept) {
  const { state } = editor
  const ranges = suggestionRanges(state.doc, id)
  if (!ranges.length) return false
  const tr = state.tr
  // Last first: a deletion then leaves the positions before it as they were.
  ranges.sort((a, b) => b.from - a.from)
  for (const { from, to, kind } of ranges) {
    const a = tr.mapping.map(from, 1)
    const b = tr.mapping.map(to, -1)
    if (b <= a) continue
    const removeText = kind === 'insert' ? !accept : accept
    if (removeText) tr.delete(a, b)
    else tr.removeMark(a, b, state.schema.marks[kind === 'insert' ? SUGGESTION_INSERT : SUGGESTION_DELETE])
  }
  tr.setMeta(REVIEW, true)
  editor.view.dispatch(tr)
  return true
}

// The mode, as a Tiptap extension: its dispatchTransaction hook sees every
// local transaction before the editor applies it. Remote changes (y-sync's),
// undo/redo of Yjs (also y-sync's) and the review's own pass through.
export const Suggesting = Extension.create({
  name: 'suggesting',
  addProseMirrorPlugins () {
    return [new Plugin({
      key: new PluginKey('suggestingPaste'),
      props: {
        // Copied suggested text is pasted as text: a copy of someone's proposal (same id, their name)
        // is not theirs to carry elsewhere. In Suggesting mode the paste becomes one's own proposal.
        transformPasted: (slice, view) => stripSuggestions(slice, view.state.schema)
      }
    })]
  },
  addOptions () {
    return { user: { username: '', name: '' } }
  },
  addStorage () {
    return { enabled: false }
  },
  dispatchTransaction ({ transaction, next }) {
    const editor = this.editor
    if (!this.storage.enabled || !transaction.docChanged || transaction.getMeta(ySyncPluginKey) ||
        transaction.getMeta(REVIEW) || editor.state.doc !== transaction.before) {
      return next(transaction)
    }
    next(suggestTransaction(transaction, editor.state, this.options.user))
  }
})

// --- the page: toggle, popover -----------------------------------------------------------

const PEN = '<svg viewBox="0 0 20 20" aria-hidden="true"><path d="M12.5 4.5l3 3L8 15H5v-3zM11 6l3 3"/></svg>'

function formatTime (iso) {
  const date = new Date(iso)
  if (Number.isNaN(date.getTime())) return ''
  return date.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' })
}

/**
 * Wire the mode toggle (into the toolbar, for those who may write) and the
 * review popover (for everyone: who proposed what; Accept/Reject for writers).
 * @param {{editor, toolbar: HTMLElement|null, element: HTMLElement, canReview: boolean, storageKey: string}} options
 */
export function bindSuggestions ({ editor, toolbar, element, canReview, storageKey }) {
  const storage = editor.storage.suggesting
  let toggle = null
  const setMode = (on) => {
    storage.enabled = on
    element.dataset.mode = on ? 'suggesting' : 'editing'
    element.closest('.paper')?.classList.toggle('paper--suggesting', on)
    if (toggle) {
      toggle.setAttribute('aria-pressed', String(on))
      toggle.querySelector('.suggest-toggle__label').textContent = on ? 'Suggesting' : 'Editing'
      toggle.title = on
        ? 'Suggesting: your edits are proposals that an owner or editor accepts or rejects. Click to edit directly.'
        : 'Editing directly. Click to suggest changes instead.'
    }
    try {
      // Per tab (sessionStorage): another tab of the same person keeps its own mode.
      if (on) sessionStorage.setItem(storageKey, '1')
      else sessionStorage.removeItem(storageKey)
    } catch (error) { /* storage unavailable: the mode lasts as long as the page */ }
  }
  if (toolbar && canReview) {
    const group = document.createElement('div')
    group.className = 'toolbar__group toolbar__group--suggest'
    toggle = document.createElement('button')
    toggle.type = 'button'
    toggle.className = 'tool suggest-toggle'
    toggle.dataset.testid = 'suggest-toggle'
    toggle.innerHTML = PEN // a constant: no text from anyone
    const label = document.createElement('span')
    label.className = 'suggest-toggle__label'
    toggle.append(label)
    toggle.addEventListener('mousedown', (event) => event.preventDefault())
    toggle.addEventListener('click', () => {
      setMode(!storage.enabled)
      editor.commands.focus()
    })
    group.append(toggle)
    toolbar.append(group)
  }
  let remembered = false
  try { remembered = sessionStorage.getItem(storageKey) === '1' } catch (error) { /* as above */ }
  setMode(canReview && remembered)

  const popover = buildPopover(editor, canReview)
  // A click on a suggestion (any role: a viewer's editor has no caret)...
  element.addEventListener('click', (event) => {
    const target = event.target.closest?.('[data-suggestion-id]')
    if (target && element.contains(target)) popover.show(target.getAttribute('data-suggestion-id'), target)
  })
  // ...or the caret in one (the keyboard's way): the suggestion before the caret, else the one after
  // it; one that a click just opened stays while the caret is at its edge.
  const isSuggestion = (mark) => mark.type.name === SUGGESTION_INSERT || mark.type.name === SUGGESTION_DELETE
  editor.on('selectionUpdate', ({ editor }) => {
    const { $from, empty } = editor.state.selection
    const ids = empty
      ? [$from.nodeBefore, $from.nodeAfter].flatMap((node) => (node?.marks ?? []).filter(isSuggestion).map((m) => m.attrs.id))
      : []
    if (ids.length && !ids.includes(popover.current())) popover.show(ids[0], null)
    else if (!ids.length && !popover.element.contains(document.activeElement)) popover.hide()
  })
  editor.on('update', () => popover.refresh())
  return { setMode, popover }
}

function buildPopover (editor, canReview) {
  const root = document.createElement('div')
  root.className = 'suggestion-popover'
  root.dataset.testid = 'suggestion-popover'
  root.setAttribute('role', 'dialog')
  root.setAttribute('aria-label', 'Suggestion')
  root.hidden = true
  const summary = document.createElement('div')
  summary.className = 'suggestion-popover__summary'
  const who = document.createElement('div')
  who.className = 'suggestion-popover__who'
  const actions = document.createElement('div')
  actions.className = 'suggestion-popover__actions'
  const button = (label, testid, accept) => {
    const element = document.createElement('button')
    element.type = 'button'
    element.className = `button button--small ${accept ? 'button--primary' : 'button--ghost'}`
    element.textContent = label
    element.dataset.testid = testid
    element.addEventListener('mousedown', (event) => event.preventDefault())
    element.addEventListener('click', () => {
      if (current) resolveSuggestion(editor, current, accept)
      hide()
      editor.commands.focus()
    })
    return element
  }
  if (canReview) actions.append(button('Accept', 'suggestion-accept', true), button('Reject', 'suggestion-reject', false))
  root.append(summary, who, actions)
  // Right after the page of text, so that Tab from the text reaches Accept and Reject.
  const paper = editor.view.dom.closest('.paper')
  if (paper) paper.after(root)
  else document.body.append(root)
  root.addEventListener('keydown', (event) => {
    if (event.key === 'Escape') {
      hide()
      editor.commands.focus()
    }
  })

  let current = null
  const hide = () => {
    current = null
    root.hidden = true
  }
  const place = (anchor) => {
    const ranges = suggestionRanges(editor.state.doc, current)
    let rect = anchor?.getBoundingClientRect()
    if (!rect && ranges.length) {
      const coords = editor.view.coordsAtPos(ranges[0].from)
      rect = { left: coords.left, bottom: coords.bottom, top: coords.top }
    }
    if (!rect) return
    root.style.top = `${window.scrollY + rect.bottom + 6}px`
    const width = root.offsetWidth
    const left = Math.max(8, Math.min(rect.left, document.documentElement.clientWidth - width - 8))
    root.style.left = `${window.scrollX + left}px`
  }
  const fill = () => {
    const entry = pendingSuggestions(editor.state.doc).find((s) => s.id === current)
    if (!entry) return false
    summary.replaceChildren()
    const line = (kind, text) => {
      const row = document.createElement('div')
      row.className = `suggestion-popover__line suggestion-popover__line--${kind}`
      const label = document.createElement('span')
      label.className = 'suggestion-popover__kind'
      label.textContent = kind === 'insert' ? 'Add' : 'Delete'
      const quote = document.createElement(kind === 'insert' ? 'ins' : 'del')
      quote.textContent = text.length > 80 ? `${text.slice(0, 80)}…` : text
      row.append(label, ' ', quote)
      summary.append(row)
    }
    if (entry.deleted) line('delete', entry.deleted)
    if (entry.inserted) line('insert', entry.inserted)
    who.textContent = [entry.attrs.name || entry.attrs.author, formatTime(entry.attrs.at)].filter(Boolean).join(' · ')
    root.dataset.suggestionId = current
    return true
  }
  return {
    element: root,
    current: () => current,
    show (id, anchor) {
      current = id
      if (!fill()) return hide()
      root.hidden = false
      place(anchor)
    },
    hide,
    refresh () {
      // Accepted or rejected elsewhere (or here): it closes; otherwise it shows what is pending now.
      if (current && !fill()) hide()
    }
  }
}
