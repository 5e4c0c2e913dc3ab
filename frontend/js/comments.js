// Comment anchors and their highlights in the text (issue 20).
//
// A thread is anchored to a range of the shared XmlFragment by two Yjs
// relative positions (COMMENTS.md): they follow the text as anyone edits
// around or inside it, on every client and on the server alike. The start
// sticks to the first character of the range (assoc 0: text typed just
// before it stays outside), the end to its last character (assoc -1: text
// typed just after it stays outside); text typed inside is covered.
//
// The highlights are ProseMirror inline decorations computed from those
// positions with y-tiptap's relativePositionToAbsolutePosition (the
// Collaboration extension's y-prosemirror fork). They are recomputed when a
// remote change arrives (the ySync transaction) or the threads change, and
// mapped through local edits in between, as y-prosemirror's own cursor
// plugin does: a local edit reaches the Yjs document only after its
// transaction is applied, so the positions are read when both agree.

import { Extension } from '@tiptap/core'
import { Plugin, PluginKey } from '@tiptap/pm/state'
import { Decoration, DecorationSet } from '@tiptap/pm/view'
import { absolutePositionToRelativePosition, relativePositionToAbsolutePosition, ySyncPluginKey } from '@tiptap/y-tiptap'
import { fromBase64, toBase64 } from 'lib0/buffer'
import * as Y from 'yjs'

export const commentsKey = new PluginKey('comments')

/** The Yjs side of the editor, once the binding has rendered the document (else null). */
function yState (state) {
  const ystate = ySyncPluginKey.getState(state)
  if (!ystate?.binding || !ystate.doc || ystate.binding.mapping.size === 0) return null
  return ystate
}

/**
 * The anchor of the range from..to of `state` as COMMENTS.md stores it:
 * {start, end}, each the base64 of Y.encodeRelativePosition. Null when the
 * document is not rendered from Yjs yet.
 */
export function anchorOf (state, from, to) {
  const ystate = yState(state)
  if (!ystate) return null
  const { type, binding, doc } = ystate
  // y-tiptap makes every position assoc -1 (bound to the character before it):
  // right for the end, re-made as assoc 0 (bound to the character after it) for the start.
  const startLeft = absolutePositionToRelativePosition(from, type, binding.mapping)
  const end = absolutePositionToRelativePosition(to, type, binding.mapping)
  const at = Y.createAbsolutePositionFromRelativePosition(startLeft, doc)
  const start = at ? Y.createRelativePositionFromTypeIndex(at.type, at.index, 0) : startLeft
  return { start: toBase64(Y.encodeRelativePosition(start)), end: toBase64(Y.encodeRelativePosition(end)) }
}

// Decoded relative positions, per anchor string (anchors never change once made).
const decoded = new Map()
function decode (value) {
  if (typeof value !== 'string' || !value) return null
  if (!decoded.has(value)) {
    let position = null
    try {
      position = Y.decodeRelativePosition(fromBase64(value))
    } catch {
      // Not a position this page can read: the thread is listed without a highlight.
    }
    decoded.set(value, position)
  }
  return decoded.get(value)
}

/**
 * Where `anchor` lies in `state`'s document now: {from, to}, or null when its
 * text is gone (deleted entirely) or the anchor cannot be read.
 */
export function rangeOf (state, anchor) {
  const ystate = yState(state)
  if (!ystate || !anchor) return null
  const start = decode(anchor.start)
  const end = decode(anchor.end)
  if (!start || !end) return null
  const { type, binding, doc } = ystate
  let from, to
  try {
    from = toAbsolute(doc, type, start, binding.mapping)
    to = toAbsolute(doc, type, end, binding.mapping)
  } catch {
    return null
  }
  if (from === null || to === null || from >= to || to > state.doc.content.size) return null
  // Nothing but structure between them (every character deleted): nothing to highlight.
  if (!state.doc.textBetween(from, to, '', '\ufffc').length) return null
  return { from, to }
}

// y-tiptap refuses a position bound to a character of the document's first
// text (it takes it for one misplaced by a structural change, a cursor's
// concern): that character's place is the place of its text's start, which
// it does resolve (a position bound to the text, not a character), plus its index.
function toAbsolute (doc, type, position, mapping) {
  const pos = relativePositionToAbsolutePosition(doc, type, position, mapping)
  if (pos !== null) return pos
  const at = Y.createAbsolutePositionFromRelativePosition(position, doc)
  if (!at || !(at.type instanceof Y.XmlText) || position.item === null) return null
  const textStart = relativePositionToAbsolutePosition(doc, type, Y.createRelativePositionFromTypeIndex(at.type, 0, -1), mapping)
  return textStart === null ? null : textStart + at.index
}

function buildDecorations (state, { threads, active, pending }) {
  const decorations = []
  for (const thread of threads) {
    if (thread.resolved && thread.id !== active) continue
    const range = rangeOf(state, thread.anchor)
    if (!range) continue
    const classes = ['comment-highlight']
    if (thread.id === active) classes.push('comment-highlight--active')
    decorations.push(Decoration.inline(range.from, range.to,
      { class: classes.join(' '), 'data-comment-id': thread.id },
      { threadId: thread.id }))
  }
  if (pending) {
    const range = rangeOf(state, pending)
    if (range) {
      decorations.push(Decoration.inline(range.from, range.to,
        { class: 'comment-highlight comment-highlight--pending' }, { threadId: null }))
    }
  }
  return DecorationSet.create(state.doc, decorations)
}

/**
 * The threads' highlights. `threads` (the list, with anchors), `active` (the
 * thread shown) and `pending` (the anchor being commented on) are set with
 * setComments(); a click on a highlight calls onOpen(threadId).
 */
export const CommentHighlights = Extension.create({
  name: 'commentHighlights',

  addOptions () {
    return { onOpen: () => {} }
  },

  addStorage () {
    return { threads: [], active: null, pending: null }
  },

  addProseMirrorPlugins () {
    const storage = this.storage
    const options = this.options
    return [new Plugin({
      key: commentsKey,
      state: {
        init: () => DecorationSet.empty,
        apply (tr, previous, _old, state) {
          const remote = tr.getMeta(ySyncPluginKey) !== undefined
          if (tr.getMeta(commentsKey) || remote) return buildDecorations(state, storage)
          return previous.map(tr.mapping, tr.doc)
        }
      },
      props: {
        decorations (state) {
          return commentsKey.getState(state)
        },
        handleClick (view, pos, event) {
          const target = event.target instanceof Element ? event.target.closest('[data-comment-id]') : null
          // Where highlights overlap, the innermost (shortest) thread is the one meant.
          const found = commentsKey.getState(view.state).find(pos, pos)
            .filter((d) => d.spec.threadId)
            .sort((a, b) => (a.to - a.from) - (b.to - b.from))
          const id = target?.dataset.commentId ?? found[0]?.spec.threadId
          if (!id || !view.state.selection.empty) return false
          options.onOpen(id)
          return false
        }
      }
    })]
  }
})

/** Sets the threads, the active thread and the pending anchor, and redraws the highlights. */
export function setComments (editor, changes) {
  const storage = editor.storage.commentHighlights
  Object.assign(storage, changes)
  editor.view.dispatch(editor.state.tr.setMeta(commentsKey, true).setMeta('addToHistory', false))
}

/** Each highlighted thread's range now: Map id -> {from, to}. */
export function highlightedRanges (state) {
  const ranges = new Map()
  for (const decoration of commentsKey.getState(state)?.find() ?? []) {
    const id = decoration.spec.threadId
    if (!id) continue
    const known = ranges.get(id)
    ranges.set(id, known
      ? { from: Math.min(known.from, decoration.from), to: Math.max(known.to, decoration.to) }
      : { from: decoration.from, to: decoration.to })
  }
  return ranges
}
