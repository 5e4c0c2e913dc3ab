// The signed-in user's feed (/ws/feed/, collab/feed.py): told within a second when a document list
// must be read again (a rename, a share given or removed, a document made or deleted, new text).
// Events are nudges, never data: the list reads itself over HTTP, where access is decided.
//
// liveFeed({ onChange, onEdited, onLive, onDown }):
//   onChange  a title, a share, a document made or deleted: re-read now
//   onEdited  text edited (told at most every few seconds per document): re-read when convenient
//   onLive    the feed is (again) open and every later change will be told: re-read once, for what
//             changed while it was not
//   onDown    the feed is closed for now (it reconnects with backoff; closed for good once signed out)

// Final: not signed in (the page's own session ended). Anything else: reconnect.
const SIGNED_OUT = 4401
const RETRY_MS = [1000, 2000, 5000, 10000, 30000]

export function liveFeed ({ onChange, onEdited, onLive, onDown }) {
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:'
  const url = `${scheme}//${location.host}/ws/feed/`
  let failures = 0
  let retry = 0

  function open () {
    const socket = new WebSocket(url)
    socket.addEventListener('message', (message) => {
      let event = null
      try { event = JSON.parse(message.data) } catch { return }
      if (event.kind === 'ready') {
        failures = 0
        onLive()
      } else if (event.kind === 'edited') {
        onEdited(event)
      } else {
        onChange(event) // renamed, shared, unshared, created, deleted, overflow, and kinds to come
      }
    })
    socket.addEventListener('close', (event) => {
      onDown()
      if (event.code === SIGNED_OUT) return
      clearTimeout(retry)
      retry = setTimeout(open, RETRY_MS[Math.min(failures++, RETRY_MS.length - 1)])
    })
  }
  open()
}
