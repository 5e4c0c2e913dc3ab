// The editor page: Tiptap bound to a Yjs document that an unmodified
// y-websocket WebsocketProvider keeps in sync with the server.
import { Editor, Extension } from '@tiptap/core'
import Link from '@tiptap/extension-link'
import Collaboration from '@tiptap/extension-collaboration'
import CollaborationCaret from '@tiptap/extension-collaboration-caret'
import { Placeholder } from '@tiptap/extensions'
import * as Y from 'yjs'
import { WebsocketProvider } from 'y-websocket'
import { removeAwarenessStates } from 'y-protocols/awareness'

import { ConnectionStatus, refusalMessage, shouldReconnect } from './connection.js'
import { bindHistory } from './history.js'
import { ImageUploads } from './images.js'
import { peopleOnline, renderOnline, safeColor } from './presence.js'
import { restoreMessage, watchRestores } from './restore-notice.js'
import { SaveTracker, saveLabel } from './save-state.js'
import { ServerPeer } from './server-peer.js'
import { bindTitle } from './title.js'
import { bindToolbar } from './toolbar.js'
// Rich content (issue 17): the content model beyond StarterKit, and paste that keeps structure.
import { contentExtensions } from './content.js'
import { RichPaste } from './paste.js'
// device (issue 19): offline copies.
import { copyName } from './local-copies.js'
import { LocalCopy, discardLocalCopy, forgetPageOffline, keepPageOffline } from './offline.js'
// Suggestions (issue 20): the Suggesting mode and the review popover.
import { Suggesting, bindSuggestions } from './suggestions.js'
// Comments (issue 20): highlights in the text, the panel beside it.
import { CommentHighlights } from './comments.js'
import { bindComments } from './comments-panel.js'

// The shared type Tiptap edits by default; the server and exporters read it too.
const FIELD = 'default'

const config = JSON.parse(document.getElementById('editor-config').textContent)
const $ = (selector) => document.querySelector(selector)

const ydoc = new Y.Doc()
const wsScheme = location.protocol === 'https:' ? 'wss' : 'ws'
// The provider connects to `${serverUrl}/${roomname}`: /ws/documents/<uuid>/.
// A changed role (4003) is transient for scripts, which reconnect with their
// new rights. This page was rendered for the old role: it stops instead, and
// reloads (see onRefused), so that the server renders the new one and nothing
// typed without the right to type is ever sent.
const ROLE_CHANGED = 4003
const NOT_SIGNED_IN = 4401
const provider = new WebsocketProvider(`${wsScheme}://${location.host}${config.wsPath}`, `${config.documentId}/`, ydoc, {
  shouldReconnect: (event) => event.code !== ROLE_CHANGED && shouldReconnect(event)
})
// The server's own awareness entry (saved state, restore notices), pinned from the first frame.
const server = new ServerPeer(ydoc, provider.awareness)

const user = {
  name: config.user.name,
  username: config.user.username,
  initials: config.user.initials,
  color: config.user.color
}

let linkDialog = null

// Another person's caret: a line in their colour with their name above it.
// Hidden from assistive technology, which would otherwise read the name as
// part of the text it sits in.
function renderCaret (person) {
  const caret = document.createElement('span')
  caret.className = 'collaboration-carets__caret'
  caret.setAttribute('aria-hidden', 'true')
  // Another browser's colour: checked here, not left to Tiptap's internals.
  const color = safeColor(person.color)
  caret.style.borderColor = color
  const label = document.createElement('div')
  label.className = 'collaboration-carets__label'
  label.style.backgroundColor = color
  label.textContent = person.name
  caret.append(label)
  return caret
}

const EditorShortcuts = Extension.create({
  name: 'editorShortcuts',
  addKeyboardShortcuts () {
    return {
      'Mod-k': () => {
        if (!this.editor.isEditable) return false
        linkDialog?.open()
        return true
      }
    }
  }
})

const editorElement = $('#editor')
const editor = new Editor({
  element: editorElement,
  editable: config.canWrite,
  extensions: [
    // StarterKit with headings 1-6 and highlighted code, tables, task lists, images (content.js).
    ...contentExtensions({
      starterKit: {
        // Yjs keeps the history (per user) instead of ProseMirror's undo.
        undoRedo: false,
        // Links are configured below; underline has no shortcut in the export formats.
        link: false,
        underline: false,
        // Would write a trailing paragraph into the shared document from every client.
        trailingNode: false
      }
    }),
    RichPaste,
    Link.configure({
      openOnClick: !config.canWrite,
      autolink: true,
      linkOnPaste: true,
      defaultProtocol: 'https',
      HTMLAttributes: { rel: 'noopener noreferrer nofollow', target: '_blank' }
    }),
    Placeholder.configure({ placeholder: config.canWrite ? 'Start writing…' : 'This document is empty.' }),
    Collaboration.configure({ fragment: ydoc.getXmlFragment(FIELD) }),
    CollaborationCaret.configure({ provider, user, render: renderCaret }),
    // Image uploads (frontend/js/images.js) by the #insert-image button, paste and drop; the node is content.js's.
    ImageUploads.configure({ documentId: config.documentId, button: '#insert-image' }),
    EditorShortcuts,
    Suggesting.configure({ user: { username: config.user.username, name: config.user.name } }),
    CommentHighlights.configure({ onOpen: (id) => comments?.showThread(id, { reveal: false }) })
  ],
  editorProps: {
    attributes: { class: 'prose', spellcheck: 'true', 'aria-label': 'Document', role: 'textbox', 'aria-multiline': 'true' }
  }
})

// --- the save indicator -----------------------------------------------------------
const saveEl = $('[data-testid="save-state"]')
const SLOW_SAVE_MS = 5000
let slowTimer = 0
let unsaved = false
let connectionState = 'connecting'
let storedLocally = false
function showSaveState () {
  if (!saveEl) return
  // Offline, nothing can reach the server: say so rather than spin, and say
  // whether this device keeps the edits meanwhile (save-state.js).
  const { state, label, title } = saveLabel({ unsaved, storedLocally, connection: connectionState })
  saveEl.dataset.state = state
  saveEl.querySelector('.save-state__text').textContent = label
  saveEl.title = title
  // Saving normally takes well under a second; past that, say that it is slow
  // (the server keeps the edits and retries) without pretending otherwise.
  clearTimeout(slowTimer)
  delete saveEl.dataset.slow
  if (state === 'saving') {
    slowTimer = setTimeout(() => {
      saveEl.dataset.slow = 'true'
      saveEl.title = storedLocally
        ? 'The server has your changes but could not store them yet; it keeps trying. This device keeps them meanwhile.'
        : 'The server has your changes but could not store them yet; it keeps trying. Keep this tab open.'
    }, SLOW_SAVE_MS)
  }
}

// --- connection status ----------------------------------------------------------
const connectionEl = $('[data-testid="connection"]')
const banner = $('[data-testid="connection-error"]')
new ConnectionStatus(provider, {
  onChange (state, label) {
    connectionState = state
    connectionEl.dataset.state = state
    connectionEl.querySelector('.conn__text').textContent = label
    showSaveState()
  },
  onRefused (event) {
    editor.setEditable(false)
    banner.textContent = refusalMessage(event)
    // device (issue 19): what the server refused for good is not kept to be sent again.
    const lost = offlineRefusal(event)
    if (lost) banner.append(' ', lost)
    if (event.code === NOT_SIGNED_IN && tracker?.unsaved) {
      // The sign-in page clears this device's copies (local-copies.js): leave the page to the person, who may copy the text first.
      banner.textContent = 'You have been signed out. Your latest changes are not saved: signing in again removes what this device kept, so copy anything you need from this page first.'
      const link = document.createElement('a')
      link.href = `/accounts/login/?next=${encodeURIComponent(location.pathname)}`
      link.textContent = 'Sign in'
      banner.append(' ', link)
    } else if (event.code === NOT_SIGNED_IN) {
      const signIn = `/accounts/login/?next=${encodeURIComponent(location.pathname)}`
      const link = document.createElement('a')
      link.href = signIn
      link.textContent = 'Sign in'
      banner.append(' ', link)
      leaveAfterNotice(() => location.assign(signIn))
    } else if (event.code === ROLE_CHANGED) {
      // What this page holds beyond the server's state was typed under the old
      // role: reloading drops it and renders the page for the new role.
      leaveAfterNotice(() => location.reload())
    }
    banner.hidden = false
  }
})

// Long enough to read the banner that says why the page is about to change.
const NOTICE_MS = 1500
let leaving = false
function leaveAfterNotice (go) {
  leaving = true // deliberately discarding: no "unsaved changes" prompt
  setTimeout(go, NOTICE_MS)
}
provider.on('sync', (synced) => {
  if (synced) editorElement.setAttribute('aria-busy', 'false')
})

let tracker = null
if (config.canWrite) {
  tracker = new SaveTracker(ydoc, provider.awareness, (value) => {
    const here = tracker?.storedLocally ?? false
    if (value !== unsaved || here !== storedLocally) {
      unsaved = value
      storedLocally = here
      showSaveState()
    }
  }, server)
  tracker.check()
  window.addEventListener('beforeunload', (event) => {
    // Kept on this device, the edits survive the tab: no need to hold it open (device, issue 19).
    if (tracker.unsaved && !tracker.storedLocally && !leaving) event.preventDefault()
  })
}

// --- people online --------------------------------------------------------------------
const onlineList = $('[data-testid="online-list"]')
const showOnline = () => renderOnline(onlineList, peopleOnline(provider.awareness, ydoc.clientID))
provider.awareness.on('change', showOnline)
showOnline()
// Tell the others at once that we left, rather than after the awareness timeout.
window.addEventListener('pagehide', () => removeAwarenessStates(provider.awareness, [ydoc.clientID], 'window closed'))

// --- version history and restore notices ------------------------------------------------
const history = bindHistory({
  panel: $('#history-panel'),
  button: $('[data-testid="history-button"]'),
  config,
  schema: editor.schema
})
const notices = $('[data-testid="notices"]')
watchRestores(server, (restored) => {
  showNotice(restoreMessage(restored, config.user.username))
  history.refresh()
})

function showNotice (message) {
  const dismiss = document.createElement('button')
  dismiss.type = 'button'
  dismiss.className = 'notice__close'
  dismiss.setAttribute('aria-label', 'Dismiss')
  dismiss.textContent = '\u00d7'
  const notice = document.createElement('div')
  notice.className = 'notice'
  notice.dataset.testid = 'restore-notice'
  const text = document.createElement('span')
  text.textContent = message
  notice.append(text, dismiss)
  dismiss.addEventListener('click', () => notice.remove())
  // One notice at a time: the latest restore is what the text now shows.
  notices.replaceChildren(notice)
}

// --- comments (issue 20) ---------------------------------------------------------------------------
const comments = bindComments({ editor, panel: $('#comments-panel'), toggle: $('[data-testid="comments-button"]'), config, server, provider })

// --- title, toolbar, link dialog -----------------------------------------------------------
// Live for everyone: a rename anywhere shows here and in the tab at once (title.js).
bindTitle({
  element: $('#doc-title'),
  renameUrl: config.canWrite ? config.renameUrl : null,
  apiUrl: `/api/documents/${config.documentId}/`,
  server,
  provider,
  onTitle: (title) => {
    const shareTitle = $('#share-dialog-title')
    if (shareTitle) shareTitle.textContent = `Share “${title}”`
  }
})
if (config.canWrite) {
  linkDialog = bindLinkDialog($('#link-dialog'), editor)
  bindToolbar($('[data-testid="toolbar"]'), editor, { openLink: () => linkDialog.open() })
}
bindSuggestions({
  editor,
  toolbar: $('[data-testid="toolbar"]'),
  element: editorElement,
  canReview: config.canWrite,
  storageKey: `suggesting:${config.documentId}`
})

function bindLinkDialog (dialog, editor) {
  const form = dialog.querySelector('form')
  const { href: hrefInput, text: textInput } = form.elements
  const textField = dialog.querySelector('[data-link-text-field]')
  const removeButton = dialog.querySelector('[data-link-remove]')
  // Act once the dialog has closed and given the focus back to the editor:
  // acting on submit would let that focus restoration reset the selection
  // after the command ran. The editor keeps (and maps through remote edits)
  // its selection while the dialog is open.
  dialog.addEventListener('close', () => {
    const action = dialog.returnValue
    const href = hrefInput.value.trim()
    const chain = editor.chain().focus()
    if (action === 'apply' && href && !textField.hidden) {
      // Nothing was selected: insert the link's text, linked.
      const text = textInput.value.trim() || href
      chain.insertContent({ type: 'text', text, marks: [{ type: 'link', attrs: { href } }] }).run()
    } else if (action === 'apply' && href) {
      chain.extendMarkRange('link').setLink({ href }).run()
    } else if (action === 'apply' || action === 'remove') {
      chain.extendMarkRange('link').unsetLink().run()
    } else {
      chain.run()
    }
  })
  removeButton.addEventListener('click', () => dialog.close('remove'))
  return {
    open () {
      const inLink = editor.isActive('link')
      textField.hidden = inLink || !editor.state.selection.empty
      removeButton.hidden = !inLink
      hrefInput.value = editor.getAttributes('link').href ?? ''
      textInput.value = ''
      dialog.returnValue = ''
      dialog.showModal()
      ;(textField.hidden ? hrefInput : textInput).select()
    }
  }
}

// --- offline: this device's copy of the document (device, issue 19) ---------------------------
// An editor keeps the document in IndexedDB, loaded alongside the provider
// (offline.js), and the page in the service worker's cache, so that edits made
// offline survive closing the tab and are sent when the connection returns.
// A viewer keeps nothing that could be sent.
const copy = copyName(config.user.username, config.documentId)
let localCopy = null
if (config.canWrite) {
  localCopy = new LocalCopy(ydoc, copy, {
    onChange: () => tracker.check(),
    // Edits read back from the copy were made under earlier client ids: the server must cover them too.
    onLoaded: (vector) => tracker.expect(vector)
  })
  tracker.keepLocally(localCopy)
  keepPageOffline()
} else {
  forgetPageOffline()
  const synced = new Promise((resolve) => provider.on('sync', (isSynced) => isSynced && resolve(ydoc)))
  discardLocalCopy(copy, synced).then((lost) => {
    if (lost) showNotice('Changes made on this device while you could edit this document were not saved: you can now only view it.')
  }).catch((error) => console.warn('could not remove the local copy', error))
}

// Codes after which the server will never take this page's edits: the copy goes, and the page says what was lost.
const DISCARDING = new Set([4400, 4403, 4404, 4413])
function offlineRefusal (event) {
  if (!localCopy || !DISCARDING.has(event.code)) return ''
  const pending = tracker.unsaved
  localCopy.discard().catch((error) => console.warn('could not remove the local copy', error))
  forgetPageOffline() // a document that is gone, or no longer this person's to open
  return pending ? 'Your latest changes were not saved; copy anything you need from this page before leaving it.' : ''
}

// A page that went offline (or was reloaded from the cache) may have lost the
// right to write meanwhile: a viewer's connection is let in and its updates
// are ignored, so nothing would ever be saved. Ask once per connection while
// edits are pending; reload with the current role if it changed.
provider.on('sync', async (isSynced) => {
  if (!isSynced || !tracker?.unsaved) return
  try {
    const response = await fetch(`/api/documents/${config.documentId}/`, { credentials: 'same-origin', headers: { Accept: 'application/json' } })
    if (!response.ok) return // the socket is closed with the reason (4401, 4403, 4404)
    const { role } = await response.json()
    if (!['owner', 'editor'].includes(role)) {
      banner.textContent = refusalMessage({ code: ROLE_CHANGED })
      banner.hidden = false
      editor.setEditable(false)
      leaveAfterNotice(() => location.reload())
    }
  } catch (error) {
    // Offline again: asked on the next connection.
  }
})
