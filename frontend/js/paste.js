// Paste that keeps what was copied.
//
// HTML goes through ProseMirror's own clipboard parser against the editor's
// schema (headings, lists, tables, links, code, images all have parse rules);
// this module only rewrites the shapes other sites give things the schema has
// but under another name: GitHub/Notion-style checkbox lists become task lists,
// a code block's language written on its <pre> or a wrapper becomes the
// `language-*` class Tiptap reads, lazily loaded images get their real src.
//
// Plain text that looks like Markdown is converted by marked (GFM: tables, task
// lists, fences...) to HTML and pasted as such, through the same pipeline. What
// the schema cannot hold degrades to its text: ProseMirror's parser keeps the
// text of every element it has no rule for.
//
// All HTML here is parsed into inert documents (DOMParser, ProseMirror's
// detached one): nothing in it runs or loads.
import { Extension } from '@tiptap/core'
import { Plugin, PluginKey } from '@tiptap/pm/state'
import { Marked } from 'marked'

const marked = new Marked({ gfm: true, breaks: false, async: false })

// Line starts that make a text Markdown rather than prose (CommonMark/GFM block syntax).
const BLOCK_SYNTAX = [
  /^ {0,3}#{1,6}[ \t]+\S/, // ATX heading
  /^ {0,3}(`{3,}|~{3,})/, // code fence
  /^ {0,3}>/, // block quote
  /^[ \t]*[-*+][ \t]+\S/, // bullet item (and task item)
  /^[ \t]*\d{1,9}[.)][ \t]+\S/, // ordered item
  /^ {0,3}\|.*\|[ \t]*$/, // table row
  /^ {0,3}([-*_])([ \t]*\1){2,}[ \t]*$/ // thematic break
]
// Inline syntax that, alone, is still clearly Markdown: links, images, strong, code.
const INLINE_SYNTAX = [
  /!?\[[^\]\n]+\]\([^)\s]+(\s+"[^"]*")?\)/,
  /(\*\*|__)(?=\S)[^\n]*?\S\1/,
  /`[^`\n]+`/
]

/** Whether plain text reads as Markdown (so converting it is what the person meant). */
export function looksLikeMarkdown (text) {
  if (!text || !text.trim()) return false
  const lines = text.split(/\r?\n/)
  if (lines.some((line) => BLOCK_SYNTAX.some((re) => re.test(line)))) return true
  return INLINE_SYNTAX.some((re) => re.test(text))
}

/** GFM Markdown to HTML (raw HTML inside it passes through to the inert parse, like GitHub renders it). */
export function markdownToHtml (text) {
  const doc = parseHtml(marked.parse(text.replace(/\r\n?/g, '\n')))
  // marked ends every code block with a newline; the block itself has none.
  for (const code of doc.body.querySelectorAll('pre > code')) {
    const last = code.lastChild
    if (last?.nodeType === Node.TEXT_NODE) last.data = last.data.replace(/\n$/, '')
  }
  return doc.body.innerHTML
}

// Elements that carry structure: HTML with none of them (a code editor's or a
// terminal's coloured spans) is text in disguise, and Markdown if it reads so.
const STRUCTURE = 'p,h1,h2,h3,h4,h5,h6,ul,ol,li,table,pre,blockquote,img,a,b,strong,em,i,code,hr,[data-pm-slice]'

function parseHtml (html) {
  return new DOMParser().parseFromString(html, 'text/html')
}

function isTextInDisguise (html) {
  return !parseHtml(html).body.querySelector(STRUCTURE)
}

// --- task lists ------------------------------------------------------------------------------
const CHECKBOX = 'input[type="checkbox"], [role="checkbox"], .checkbox, .task-list-item-checkbox'
const TEXT_MARKER = /^\s*\[( |x|X)\]\s+/

function isChecked (box) {
  return box.hasAttribute('checked') || box.getAttribute('aria-checked') === 'true' ||
    box.classList.contains('checkbox-on') || box.classList.contains('checked')
}

/**
 * The task marker an <li> starts with: a checkbox element before any text, or
 * a "[ ]"/"[x]" text prefix. Returns {checked, remove()} or null.
 */
function taskMarker (li) {
  // Google Docs marks a checklist item itself: <li role="checkbox" aria-checked>.
  if (li.getAttribute('role') === 'checkbox') return { checked: isChecked(li), remove: () => li.removeAttribute('role') }
  const walker = li.ownerDocument.createTreeWalker(li, NodeFilter.SHOW_ELEMENT | NodeFilter.SHOW_TEXT)
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    if (node.nodeType === Node.TEXT_NODE) {
      if (!node.data.trim()) continue
      const match = TEXT_MARKER.exec(node.data)
      if (!match) return null
      return { checked: match[1] !== ' ', remove: () => { node.data = node.data.slice(match[0].length) } }
    }
    // A nested list before any text: this item has no marker of its own.
    if (node.matches('ul, ol')) return null
    if (node.matches(CHECKBOX)) return { checked: isChecked(node), remove: () => node.remove() }
  }
  return null
}

function normalizeTaskLists (body) {
  let changed = false
  // Innermost lists first, so that an outer item's marker search does not see an inner one's.
  const lists = [...body.querySelectorAll('ul, ol')].reverse()
  for (const list of lists) {
    if (list.dataset.type) continue
    const items = [...list.children].filter((child) => child.tagName === 'LI')
    if (!items.length || items.length !== list.children.length) continue
    const markers = items.map(taskMarker)
    if (markers.some((marker) => !marker)) continue
    list.dataset.type = 'taskList'
    items.forEach((li, index) => {
      markers[index].remove()
      li.dataset.type = 'taskItem'
      li.dataset.checked = String(markers[index].checked)
      // Tiptap reads an item's content from its first <div>: give it one holding everything.
      const content = li.ownerDocument.createElement('div')
      content.append(...li.childNodes)
      li.replaceChildren(content)
    })
    changed = true
  }
  return changed
}

// --- code languages --------------------------------------------------------------------------
const LANGUAGE_CLASS = /^(?:language|lang|highlight-source|highlight)-([\w+#.-]+)$/

function languageOf (element) {
  for (let node = element; node && node.nodeType === Node.ELEMENT_NODE; node = node.parentElement) {
    // `lang` is a natural language on most elements; on <pre> (GitLab, old GitHub) a programming one.
    const named = node.getAttribute('data-language') || (node.tagName === 'PRE' ? node.getAttribute('lang') : null)
    if (named) return named.toLowerCase()
    for (const name of node.classList) {
      const match = LANGUAGE_CLASS.exec(name)
      if (match) return match[1].toLowerCase()
    }
    if (node.tagName === 'BODY') break
  }
  return null
}

function normalizeCodeLanguages (body) {
  let changed = false
  for (const pre of body.querySelectorAll('pre')) {
    const first = pre.firstElementChild
    if (first?.tagName === 'CODE' && [...first.classList].some((name) => name.startsWith('language-'))) continue
    const language = languageOf(first?.tagName === 'CODE' ? first : pre)
    if (!language) continue
    const code = pre.ownerDocument.createElement('code')
    code.className = `language-${language}`
    code.append(...(first?.tagName === 'CODE' && pre.children.length === 1 ? first.childNodes : pre.childNodes))
    pre.replaceChildren(code)
    changed = true
  }
  return changed
}

// --- images ----------------------------------------------------------------------------------
function normalizeImages (body) {
  let changed = false
  // An image alone in a paragraph (a web page's <p><img></p>, Markdown's
  // ![](...) line) is the image block itself: unwrapped, so that it does not
  // leave an empty paragraph behind where the paragraph was split around it.
  for (const p of body.querySelectorAll('p')) {
    const images = p.querySelectorAll('img')
    if (images.length && !p.textContent.trim()) {
      p.replaceWith(...images)
      changed = true
    }
  }
  for (const img of body.querySelectorAll('img')) {
    const src = img.getAttribute('src') || ''
    if (src && !src.startsWith('data:')) continue
    // Lazy loading: a placeholder (or nothing) in src, the real image elsewhere.
    const real = img.getAttribute('data-src') || img.getAttribute('data-original') ||
      (img.getAttribute('srcset') || img.getAttribute('data-srcset') || '').split(',')[0].trim().split(/\s+/)[0]
    if (real && !real.startsWith('data:')) {
      img.setAttribute('src', real)
      changed = true
    }
  }
  return changed
}

const NEEDS_WORK = /checkbox|\[[ xX]\]|<pre|<img/i

/** Pasted HTML with other sites' shapes rewritten to the ones the schema parses. */
export function normalizePastedHtml (html) {
  if (!NEEDS_WORK.test(html)) return html
  const doc = parseHtml(html)
  const changed = [normalizeTaskLists, normalizeCodeLanguages, normalizeImages]
    .map((normalize) => normalize(doc.body))
    .some(Boolean)
  return changed ? doc.body.innerHTML : html
}

/** Whether the paste should turn this clipboard's text from Markdown into structure. */
export function markdownToPaste (clipboard) {
  const text = clipboard.getData('text/plain')
  if (!looksLikeMarkdown(text)) return null
  const html = clipboard.getData('text/html')
  let mode = null
  try {
    mode = JSON.parse(clipboard.getData('vscode-editor-data') || 'null')?.mode
  } catch {}
  if (!html || mode === 'markdown' || isTextInDisguise(html)) return text
  return null
}

export const RichPaste = Extension.create({
  name: 'richPaste',
  // Before the code block's own handler, which would put Markdown copied from
  // VS Code into a code block.
  priority: 1000,

  addProseMirrorPlugins () {
    // Ctrl+Shift+V asks for the text as it is: no conversion.
    let plain = false
    return [
      new Plugin({
        key: new PluginKey('richPaste'),
        props: {
          handleKeyDown (view, event) {
            plain = event.shiftKey && (event.ctrlKey || event.metaKey) && event.key.toLowerCase() === 'v'
            return false
          },
          transformPastedHTML: (html) => normalizePastedHtml(html),
          handlePaste (view, event) {
            const clipboard = event.clipboardData
            const asText = plain
            plain = false
            // A synthetic event (our own pasteHTML below) carries no clipboard.
            if (!clipboard || asText) return false
            // Inside a code block, text stays text.
            if (view.state.selection.$from.parent.type.spec.code) return false
            // Files are images.js's.
            if (clipboard.files?.length) return false
            const markdown = markdownToPaste(clipboard)
            if (markdown === null) return false
            return view.pasteHTML(markdownToHtml(markdown))
          }
        }
      })
    ]
  }
})
