// The formatting toolbar: each button runs an editor command and shows, by
// aria-pressed, whether its mark or node is active at the selection.

const MARKS = ['bold', 'italic', 'strike', 'code', 'link']
const NODES = ['bulletList', 'orderedList', 'blockquote']

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
  horizontalRule: (chain) => chain.setHorizontalRule()
}

const BLOCKS = {
  paragraph: (chain) => chain.setParagraph(),
  h1: (chain) => chain.setHeading({ level: 1 }),
  h2: (chain) => chain.setHeading({ level: 2 }),
  h3: (chain) => chain.setHeading({ level: 3 }),
  codeBlock: (chain) => chain.setCodeBlock()
}

function currentBlock (editor) {
  for (const level of [1, 2, 3]) {
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
