// Suggestions (track changes, issue 20): the two marks that carry a proposal
// in the document itself, so that it is as live and as durable as the text.
//
//   suggestionInsert {id, author, name, at}  text proposed for insertion
//   suggestionDelete {id, author, name, at}  text proposed for deletion
//
// `id` names one suggestion (a replacement is one id on both marks), `author`
// is the proposer's username, `name` their display name and `at` an ISO time.
// They are ordinary marks of the shared `default` fragment (y-prosemirror
// writes them as formatting attributes of the Yjs text), so accepting or
// rejecting is an ordinary edit that every tab receives, and two people acting
// on one suggestion at once converge by the CRDT (a mark removed from text that
// the other deleted is simply gone). The server's schema (documents/importing/
// schema.py) and exporters know both (documents/export/suggestions.py).
//
// Nothing here touches the DOM when imported: content.js (and Node) build the
// schema from it. The editing side, the "Suggesting" mode, is suggestions.js.
import { Mark, mergeAttributes } from '@tiptap/core'

export const SUGGESTION_INSERT = 'suggestionInsert'
export const SUGGESTION_DELETE = 'suggestionDelete'

const text = (value) => (typeof value === 'string' ? value : '')

function suggestionMark (name, tag, kind) {
  return Mark.create({
    name,
    // Typing next to a suggestion is not part of it unless the suggesting mode says so.
    inclusive: false,
    // Marks of the other kind may sit on the same text (a suggested deletion of another person's suggested insertion).
    excludes: name,
    // Outside link, bold... so that the proposal wraps its formatted text in the HTML.
    priority: 1100,
    addAttributes () {
      const attribute = (key) => ({
        default: '',
        parseHTML: (element) => element.getAttribute(`data-suggestion-${key}`) ?? '',
        renderHTML: (attributes) => ({ [`data-suggestion-${key}`]: text(attributes[key]) })
      })
      return { id: attribute('id'), author: attribute('author'), name: attribute('name'), at: attribute('at') }
    },
    parseHTML () {
      return [{ tag: `${tag}[data-suggestion-id]` }]
    },
    renderHTML ({ HTMLAttributes }) {
      return [tag, mergeAttributes(HTMLAttributes, {
        class: `suggestion suggestion--${kind}`,
        'data-suggestion': kind,
        title: `Suggested ${kind === 'insert' ? 'insertion' : 'deletion'} by ${text(HTMLAttributes['data-suggestion-name']) || text(HTMLAttributes['data-suggestion-author'])}`
      }), 0]
    }
  })
}

export const SuggestionInsert = suggestionMark(SUGGESTION_INSERT, 'ins', 'insert')
export const SuggestionDelete = suggestionMark(SUGGESTION_DELETE, 'del', 'delete')
