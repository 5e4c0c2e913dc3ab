// The document's rich content model beyond StarterKit: headings 1-6, tables,
// task lists, images and highlighted code blocks.
//
// Every node keeps Tiptap's default name and attributes (table, tableRow,
// tableHeader, tableCell; taskList, taskItem {checked}; image {src, alt,
// title}; codeBlock {language}; heading {level}): they are what y-prosemirror
// writes into the shared `default` fragment, what documents made before keep
// holding, and what the server's exporters and importers read.
//
// Nothing here touches the DOM when imported, so a script in Node can build
// the same schema (getSchema(contentExtensions({ editable: false }))).
import { Extension } from '@tiptap/core'
import StarterKit from '@tiptap/starter-kit'
import { Table, TableRow, TableHeader, TableCell } from '@tiptap/extension-table'
import { TaskList, TaskItem } from '@tiptap/extension-list'
import Image from '@tiptap/extension-image'
import CodeBlockLowlight from '@tiptap/extension-code-block-lowlight'
import { common, createLowlight } from 'lowlight'
// Suggestions (issue 20): proposals are marks of the content model, known to every client and to the server.
import { SuggestionDelete, SuggestionInsert } from './suggestion-marks.js'

export const HEADING_LEVELS = [1, 2, 3, 4, 5, 6]

// The languages highlight.js calls "common" (lowlight bundles them): the ones
// offered in the toolbar. A block may hold any other name (from a pasted fence,
// say); it is kept as written and highlighted when lowlight knows an alias.
export const lowlight = createLowlight(common)
const LABELS = {
  plaintext: 'Plain text',
  bash: 'Bash',
  c: 'C',
  cpp: 'C++',
  csharp: 'C#',
  css: 'CSS',
  diff: 'Diff',
  go: 'Go',
  graphql: 'GraphQL',
  ini: 'INI / TOML',
  java: 'Java',
  javascript: 'JavaScript',
  json: 'JSON',
  kotlin: 'Kotlin',
  less: 'Less',
  lua: 'Lua',
  makefile: 'Makefile',
  markdown: 'Markdown',
  objectivec: 'Objective-C',
  perl: 'Perl',
  php: 'PHP',
  python: 'Python',
  r: 'R',
  ruby: 'Ruby',
  rust: 'Rust',
  scss: 'SCSS',
  shell: 'Shell session',
  sql: 'SQL',
  swift: 'Swift',
  typescript: 'TypeScript',
  xml: 'HTML / XML',
  yaml: 'YAML'
}
export const CODE_LANGUAGES = Object.keys(LABELS)
  .filter((name) => lowlight.registered(name))
  .map((name) => ({ name, label: LABELS[name] }))

// A viewer's checkbox is disabled, not merely reset after a click: it says at a
// glance (and to assistive technology) that it cannot be ticked here. Editors
// tick it live; the change is an ordinary attribute edit on the shared document.
const CheckableTaskItem = TaskItem.extend({
  addNodeView () {
    const render = this.parent()
    return (props) => {
      const view = render(props)
      const checkbox = view.dom.querySelector('input[type="checkbox"]')
      if (checkbox) checkbox.disabled = !props.editor.isEditable
      return view
    }
  }
})

// Ctrl/Cmd+Enter ticks or unticks the task item at the caret (as in Notion):
// the keyboard's way to the checkbox, which sits outside the editable text.
// Before the hard break's own Ctrl+Enter, which still applies elsewhere.
const TaskShortcut = Extension.create({
  name: 'taskShortcut',
  priority: 101,
  addKeyboardShortcuts () {
    return {
      'Mod-Enter': ({ editor }) => {
        const { $from } = editor.state.selection
        for (let depth = $from.depth; depth > 0; depth--) {
          const item = $from.node(depth)
          if (item.type.name !== 'taskItem') continue
          const pos = $from.before(depth)
          return editor.commands.command(({ tr }) => {
            tr.setNodeMarkup(pos, undefined, { ...item.attrs, checked: !item.attrs.checked })
            return true
          })
        }
        return false
      }
    }
  }
})

/**
 * The content extensions, StarterKit included, configured as the editor uses them.
 * @param {{starterKit?: object}} [options] StarterKit options of the caller's own
 *   (history, links...), merged over the content ones here.
 */
export function contentExtensions ({ starterKit = {} } = {}) {
  return [
    StarterKit.configure({
      heading: { levels: HEADING_LEVELS },
      // Replaced by the highlighting code block below (same node, `codeBlock`).
      codeBlock: false,
      ...starterKit
    }),
    CodeBlockLowlight.configure({ lowlight, defaultLanguage: null }),
    // Column resizing would write pixel widths into the shared document for
    // everyone, whatever their screen; tables take the width of the page and
    // scroll sideways when wider (see .tableWrapper in app.css).
    Table.configure({ resizable: false }),
    TableRow,
    TableHeader,
    TableCell,
    TaskList,
    CheckableTaskItem.configure({ nested: true }),
    TaskShortcut,
    // Block images, by URL. Data URIs are parsed (a paste may carry them) so that
    // images.js can upload them; they never stay in the shared document (a pasted
    // screenshot would be megabytes in every update).
    Image.configure({ inline: false, allowBase64: true }),
    SuggestionInsert,
    SuggestionDelete
  ]
}
