// Images in the editor: upload by the toolbar's file chooser, by pasting image
// files, by dropping them; images pasted from another site are fetched and
// uploaded here, or kept as a link when the site does not allow it.
//
// An upload goes to POST /api/documents/<id>/images (documents/images_http.py),
// which checks the content and answers the image's `src`: a URL on this site
// that serves it only to people with a role on the document. While it uploads,
// a placeholder with its progress stands where the image will go: a
// decoration, local to this browser, so the shared document only ever holds
// finished images. A refusal (too large, not an image) is said in words.
import { Extension } from '@tiptap/core'
import { Fragment, Slice } from '@tiptap/pm/model'
import { Plugin, PluginKey } from '@tiptap/pm/state'
import { Decoration, DecorationSet } from '@tiptap/pm/view'

import { csrfToken } from './api.js'

const placeholders = new PluginKey('imageUploadPlaceholders')
const ACCEPT = 'image/png,image/jpeg,image/gif,image/webp'
// Our images: /documents/<document>/images/<image>.
const OURS = /^\/documents\/([0-9a-f-]{36})\/images\/[0-9a-f-]{36}$/i
const MESSAGE_MS = 8000

/**
 * The uploads, as an extension: `ImageUploads.configure({ documentId, button: '#insert-image' })`.
 * Works with whichever extension registers the `image` node.
 */
export const ImageUploads = Extension.create({
  name: 'imageUploads',

  addOptions () {
    return { documentId: '', button: '#insert-image' }
  },

  addProseMirrorPlugins () {
    const uploader = () => this.storage.uploader
    return [
      new Plugin({
        key: placeholders,
        state: {
          init: () => DecorationSet.empty,
          apply (tr, set) {
            set = set.map(tr.mapping, tr.doc)
            const action = tr.getMeta(placeholders)
            if (action?.add) {
              const widget = Decoration.widget(action.add.pos, action.add.element, { id: action.add.id, side: -1 })
              set = set.add(tr.doc, [widget])
            } else if (action?.remove) {
              set = set.remove(set.find(null, null, (spec) => spec.id === action.remove))
            }
            return set
          }
        },
        props: {
          decorations (state) { return placeholders.getState(state) },
          handlePaste (view, event) {
            if (!view.editable) return false
            const files = imageFiles(event.clipboardData)
            const html = event.clipboardData?.getData('text/html') ?? ''
            // A copied image comes as a file, often with HTML that only wraps it: upload the file.
            if (files.length && !hasText(html)) {
              uploader().uploadFiles(files, view.state.selection.from)
              return true
            }
            return false // the editor's paste; images from other sites are taken over in transformPasted
          },
          handleDrop (view, event, _slice, moved) {
            if (moved || !view.editable) return false
            const files = imageFiles(event.dataTransfer)
            if (!files.length) return false
            event.preventDefault()
            const at = view.posAtCoords({ left: event.clientX, top: event.clientY })
            uploader().uploadFiles(files, at ? at.pos : view.state.selection.from)
            return true
          },
          transformPasted (slice, view) {
            // Images of another site (or document) in pasted HTML: each is fetched and uploaded
            // after the paste, its node updated to the copy; one that cannot be fetched becomes a link.
            slice.content.descendants((node) => {
              if (node.type.name === 'image' && isForeign(node.attrs.src, uploader().documentId) &&
                  !node.attrs.src.startsWith('data:')) {
                queueMicrotask(() => uploader().adopt(node.attrs.src, node.attrs.alt))
              }
            })
            // Images carried in the HTML itself (data: URIs) never enter the shared document, which
            // they could swell past its size limit: they are uploaded as files instead.
            const inline = []
            const content = withoutDataImages(slice.content, inline)
            if (!inline.length) return slice
            queueMicrotask(() => {
              for (const attrs of inline) {
                let blob
                try {
                  blob = dataUriBlob(attrs.src)
                } catch (error) {
                  showMessage(`A pasted image was not added: ${error.message}`)
                  continue
                }
                const file = new File([blob], fileNameOf(attrs.src, blob.type), { type: blob.type })
                uploader().uploadFile(file, view.state.selection.from, { alt: attrs.alt })
              }
            })
            return new Slice(content, slice.openStart, slice.openEnd)
          }
        }
      })
    ]
  },

  addStorage () {
    return { uploader: null }
  },

  onCreate () {
    this.storage.uploader = new Uploader(this.editor, this.options.documentId)
    const button = document.querySelector(this.options.button)
    if (button && this.editor.isEditable) bindButton(button, this.storage.uploader)
  }
})

function imageFiles (transfer) {
  return [...(transfer?.files ?? [])].filter((file) => file.type.startsWith('image/'))
}

function withoutDataImages (fragment, found) {
  const nodes = []
  fragment.forEach((node) => {
    if (node.type.name === 'image' && String(node.attrs.src).startsWith('data:')) found.push(node.attrs)
    else nodes.push(node.isLeaf ? node : node.copy(withoutDataImages(node.content, found)))
  })
  return Fragment.fromArray(nodes)
}

function hasText (html) {
  if (!html) return false
  const parsed = new DOMParser().parseFromString(html, 'text/html')
  return parsed.body.textContent.trim() !== ''
}

function isForeign (src, documentId) {
  if (typeof src !== 'string' || !src) return false
  if (src.startsWith('data:image/')) return true
  let url
  try {
    url = new URL(src, location.href)
  } catch {
    return false
  }
  if (url.origin === location.origin) {
    const match = OURS.exec(url.pathname)
    return !match || match[1] !== documentId || src !== url.pathname
  }
  return url.protocol === 'https:' || url.protocol === 'http:'
}

function bindButton (button, uploader) {
  button.hidden = false // the toolbar may render it hidden until uploads are wired
  const input = document.createElement('input')
  input.type = 'file'
  input.accept = ACCEPT
  input.multiple = true
  input.hidden = true
  input.dataset.testid = 'image-file-input'
  button.after(input)
  button.addEventListener('mousedown', (event) => event.preventDefault()) // keep the editor's selection
  button.addEventListener('click', () => input.click())
  input.addEventListener('change', () => {
    const files = [...input.files]
    input.value = ''
    if (files.length) uploader.uploadFiles(files, uploader.editor.state.selection.from)
  })
}

class Uploader {
  constructor (editor, documentId) {
    this.editor = editor
    this.documentId = documentId
    this.counter = 0
    this.adopting = new Set()
  }

  uploadFiles (files, pos) {
    for (const file of files) this.uploadFile(file, pos)
  }

  async uploadFile (file, pos, { alt = '' } = {}) {
    const id = `upload-${++this.counter}`
    const element = placeholderElement(file.name || 'image')
    this.dispatch({ add: { id, pos: Math.min(pos, this.editor.state.doc.content.size), element } })
    try {
      const image = await this.send(file, (fraction) => {
        element.querySelector('progress').value = fraction
      })
      const at = this.placeholderPos(id)
      this.dispatch({ remove: id })
      const node = { type: 'image', attrs: { src: image.src, alt: alt || altFrom(file.name), title: null } }
      this.editor.chain().insertContentAt(at ?? this.editor.state.selection.from, node).run()
      return image
    } catch (error) {
      this.dispatch({ remove: id })
      showMessage(`“${file.name || 'The image'}” was not added: ${error.message}`)
      return null
    }
  }

  dispatch (action) {
    const { view } = this.editor
    if (view.isDestroyed) return
    view.dispatch(view.state.tr.setMeta(placeholders, action).setMeta('addToHistory', false))
  }

  placeholderPos (id) {
    const found = placeholders.getState(this.editor.state).find(null, null, (spec) => spec.id === id)
    return found.length ? found[0].from : null
  }

  // XMLHttpRequest rather than fetch: it reports the upload's progress.
  send (file, onProgress) {
    return new Promise((resolve, reject) => {
      const request = new XMLHttpRequest()
      request.open('POST', `/api/documents/${this.documentId}/images`)
      request.setRequestHeader('X-CSRFToken', csrfToken())
      request.setRequestHeader('Accept', 'application/json')
      request.responseType = 'json'
      request.upload.addEventListener('progress', (event) => {
        if (event.lengthComputable) onProgress(event.loaded / event.total)
      })
      request.addEventListener('load', () => {
        if (request.status === 201) return resolve(request.response)
        const detail = typeof request.response?.detail === 'string'
          ? request.response.detail
          : `the server answered ${request.status}`
        reject(new Error(detail))
      })
      request.addEventListener('error', () => reject(new Error('the server could not be reached')))
      const form = new FormData()
      form.append('file', file, file.name || 'image')
      request.send(form)
    })
  }

  // An image pasted from elsewhere: fetched by this browser (with its cookies when it is
  // one of ours) and uploaded; if the site refuses (CORS, CSP, gone), a link to it instead.
  async adopt (src, alt) {
    if (this.adopting.has(src)) return
    this.adopting.add(src)
    try {
      let image = null
      let reason = ''
      try {
        const blob = await fetchImage(src)
        const name = fileNameOf(src, blob.type)
        image = await this.send(new File([blob], name, { type: blob.type }), () => {})
      } catch (error) {
        reason = error.message
      }
      this.replaceNodes(src, (node) => image
        ? { type: 'image', attrs: { ...node.attrs, src: image.src } }
        : linkInstead(src, node.attrs.alt || alt))
      if (!image) {
        const where = src.startsWith('data:') ? 'pasted data' : new URL(src, location.href).host
        showMessage(src.startsWith('data:')
          ? `A pasted image was not added: ${reason}`
          : `An image from ${where} could not be copied here (${reason}); it is kept as a link.`)
      }
    } finally {
      this.adopting.delete(src)
    }
  }

  replaceNodes (src, replacement) {
    const { state } = this.editor
    const found = []
    state.doc.descendants((node, pos) => {
      if (node.type.name === 'image' && node.attrs.src === src) found.push({ node, pos })
    })
    if (!found.length) return
    let chain = this.editor.chain()
    // From the end, so that earlier positions stay right.
    for (const { node, pos } of found.reverse()) {
      const content = replacement(node)
      if (!content) continue
      chain = chain.insertContentAt({ from: pos, to: pos + node.nodeSize }, content)
    }
    chain.run()
  }
}

async function fetchImage (src) {
  if (src.startsWith('data:')) return dataUriBlob(src)
  let response
  try {
    const url = new URL(src, location.href)
    response = await fetch(url, { credentials: url.origin === location.origin ? 'same-origin' : 'omit' })
  } catch {
    throw new Error('the site does not allow it')
  }
  if (!response.ok) throw new Error(`the site answered ${response.status}`)
  return response.blob()
}

function dataUriBlob (src) {
  const match = /^data:([^;,]+)(;base64)?,(.*)$/s.exec(src)
  if (!match) throw new Error('the data cannot be read')
  const text = match[2] ? atob(match[3]) : decodeURIComponent(match[3])
  const bytes = Uint8Array.from(text, (c) => c.charCodeAt(0))
  return new Blob([bytes], { type: match[1] })
}

function linkInstead (src, alt) {
  if (src.startsWith('data:')) return null // nothing to link to: the node stays, the message says so
  return {
    type: 'paragraph',
    content: [{ type: 'text', text: alt || src, marks: [{ type: 'link', attrs: { href: src } }] }]
  }
}

function fileNameOf (src, type) {
  const extension = { 'image/png': 'png', 'image/jpeg': 'jpg', 'image/gif': 'gif', 'image/webp': 'webp' }[type] ?? 'img'
  if (src.startsWith('data:')) return `pasted.${extension}`
  const last = new URL(src, location.href).pathname.split('/').pop()
  return last && last.includes('.') ? last : `${last || 'image'}.${extension}`
}

function altFrom (name) {
  return (name || '').replace(/\.[a-z0-9]+$/i, '').replace(/[-_]+/g, ' ').trim()
}

function placeholderElement (name) {
  const element = document.createElement('span')
  element.className = 'image-upload'
  element.dataset.testid = 'image-upload'
  element.setAttribute('contenteditable', 'false')
  const label = document.createElement('span')
  label.className = 'image-upload__label'
  label.textContent = `Uploading ${name}…`
  const progress = document.createElement('progress')
  progress.className = 'image-upload__progress'
  progress.max = 1
  element.append(label, progress)
  return element
}

let messageTimer = 0
function showMessage (text) {
  let element = document.querySelector('[data-testid="image-error"]')
  if (!element) {
    element = document.createElement('div')
    element.className = 'banner banner--error'
    element.dataset.testid = 'image-error'
    element.setAttribute('role', 'alert')
    document.querySelector('.canvas')?.before(element)
  }
  element.textContent = text
  element.hidden = false
  clearTimeout(messageTimer)
  messageTimer = setTimeout(() => { element.hidden = true }, MESSAGE_MS)
}
