// "Alice restored the version of 3 Dec, 14:03": said to everyone who has the
// document open when a version is restored, instead of the text silently
// changing under them.
//
// The server announces a restore in its own awareness entry (server-peer.js:
// only that entry is believed, so no peer can fake a restore notice):
// `restored: {by, version_time, version, at}`, the latest restore of the
// document. The first value this page sees is history (a restore before the
// page was opened): it is remembered, not announced. Every later change is
// announced, a restore made while this page was reconnecting included.

/** A restore record as the server publishes it, or null for anything else. */
export function readRestored (value) {
  if (!value || typeof value !== 'object') return null
  const { by, version_time: versionTime, version, at } = value
  if (typeof by !== 'string' || typeof versionTime !== 'string' || Number.isNaN(Date.parse(versionTime))) return null
  return { by, versionTime: new Date(versionTime), version, at: typeof at === 'string' ? at : '' }
}

const WHEN = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' })

/** The notice's sentence, the version's time in this browser's time zone. */
export function restoreMessage (restored, ownUsername) {
  const who = restored.by === ownUsername ? 'You' : restored.by
  return `${who} restored the version of ${WHEN.format(restored.versionTime)}`
}

/**
 * Calls onRestored(record) for each new restore the server announces.
 * @param {import('./server-peer.js').ServerPeer} server
 */
export function watchRestores (server, onRestored) {
  let seen = false
  let last = ''
  const check = () => {
    const state = server.state()
    // No server entry (disconnected, or not pinned yet): nothing new to say.
    if (!state) return
    const restored = readRestored(state.restored)
    const key = restored ? JSON.stringify([restored.version, restored.at, restored.by]) : ''
    if (!seen) {
      seen = true
      last = key
      return
    }
    if (key === last) return
    last = key
    if (restored) onRestored(restored)
  }
  server.awareness.on('update', check)
  check()
  return () => server.awareness.off('update', check)
}
