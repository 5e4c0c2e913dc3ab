// The formatting toolbar: each button runs an editor command and shows, by
// aria-pressed, whether its mark or node is active at the selection.
import { CODE_LANGUAGES, HEADING_LEVELS } from './content.js'

const MARKS = ['bold', 'italic', 'strike', 'code', 'link']
const NODES = ['bulletList', 'orderedList', 'taskList', 'blockquote']

const COMMANDS = {
  undo: (chain) => chain.undo(),
  redo: (chain) => chain.redo(),
  bold: (chain) => chain.toggleBold(),
  italic: (chain) => chain.toggleItalic(),
  strike: (chain) => chain.toggleStrike(),
  code: (chain) => chain.toggleCode(),
  bulletList: (chain) => chain.toggleBulletList(),
  orderedList: (chain) => chain.toggleOrderedList(),
  blockquote: (chain) => chain.toggleBlockquote(),
  horizontalRule: (chain) => chain.setHorizontalRule(),
  // Rich content (issue 17): task lists, line breaks, tables.
  taskList: (chain) => chain.toggleTaskList(),
  hardBreak: (chain) => chain.setHardBreak(),
  insertTable: (chain) => chain.insertTable({ rows: 3, cols: 3, withHeaderRow: true }),
  addRowBefore: (chain) => chain.addRowBefore(),
  addRowAfter: (chain) => chain.addRowAfter(),
  addColumnBefore: (chain) => chain.addColumnBefore(),
  addColumnAfter: (chain) => chain.addColumnAfter(),
  deleteRow: (chain) => chain.deleteRow(),
  deleteColumn: (chain) => chain.deleteColumn(),
  toggleHeaderRow: (chain) => chain.toggleHeaderRow(),
  deleteTable: (chain) => chain.deleteTable()
}

const BLOCKS = {
  paragraph: (chain) => chain.setParagraph(),
  ...Object.fromEntries(HEADING_LEVELS.map((level) => [`h${level}`, (chain) => chain.setHeading({ level })])),
  codeBlock: (chain) => chain.setCodeBlock()
}

function currentBlock (editor) {
  for (const level of HEADING_LEVELS) {
    if (editor.isActive('heading', { level })) return `h${level}`
  }
  if (editor.isActive('codeBlock')) return 'codeBlock'
  return 'paragraph'
}

/**
 * @param {HTMLElement} root the toolbar
 * @param {import('@tiptap/core').Editor} editor
 * @param {{openLink: () => void}} actions
 */
export function bindToolbar (root, editor, { openLink }) {
  const buttons = [...root.querySelectorAll('button[data-cmd]')]
  const blockSelect = root.querySelector('select[data-cmd="block"]')

  for (const button of buttons) {
    // Keep the editor's selection: a click on the toolbar must not blur it.
    button.addEventListener('mousedown', (event) => event.preventDefault())
    button.addEventListener('click', () => {
      const name = button.dataset.cmd
      if (name === 'link') return openLink()
      COMMANDS[name](editor.chain().focus()).run()
    })
  }
  blockSelect?.addEventListener('change', () => {
    BLOCKS[blockSelect.value](editor.chain().focus()).run()
  })
  const language = bindLanguageSelect(root.querySelector('select[data-cmd="codeLanguage"]'), editor)
  // Row and column tools only where they apply: inside a table.
  const tableTools = root.querySelector('[data-table-tools]')

  let scheduled = false
  const refresh = () => {
    scheduled = false
    for (const button of buttons) {
      const name = button.dataset.cmd
      if (MARKS.includes(name) || NODES.includes(name)) {
        button.setAttribute('aria-pressed', String(editor.isActive(name)))
      }
      if (name === 'undo') button.disabled = !editor.can().undo()
      else if (name === 'redo') button.disabled = !editor.can().redo()
      else if (name !== 'link' && COMMANDS[name]) button.disabled = !COMMANDS[name](editor.can().chain()).run()
    }
    if (blockSelect) blockSelect.value = currentBlock(editor)
    language.refresh()
    if (tableTools) tableTools.hidden = !editor.isActive('table')
  }
  const schedule = () => {
    if (!scheduled) {
      scheduled = true
      requestAnimationFrame(refresh)
    }
  }
  editor.on('transaction', schedule)
  editor.on('focus', schedule)
  refresh()
}

// The language of the code block at the selection, shown only there. A block
// may carry a language the list does not name (a pasted fence's `py`, say): it
// is shown as written rather than silently replaced.
function bindLanguageSelect (select, editor) {
  if (!select) return { refresh () {} }
  const option = (value, label) => {
    const element = document.createElement('option')
    element.value = value
    element.textContent = label
    return element
  }
  select.replaceChildren(option('', 'Auto-detect'), ...CODE_LANGUAGES.map(({ name, label }) => option(name, label)))
  const known = select.options.length
  select.addEventListener('change', () => {
    editor.chain().focus().updateAttributes('codeBlock', { language: select.value || null }).run()
  })
  return {
    refresh () {
      const inCode = editor.isActive('codeBlock')
      select.hidden = !inCode
      if (!inCode) return
      const value = editor.getAttributes('codeBlock').language || ''
      while (select.options.length > known) select.remove(known)
      if (![...select.options].some((o) => o.value === value)) select.append(option(value, value))
      select.value = value
    }
  }
}
