// The connection status shown in the editor bar, from the provider's events
// and the browser's own idea of being online.

const LABELS = {
  connecting: 'Connecting…',
  connected: 'Connected',
  reconnecting: 'Reconnecting…',
  offline: 'Offline',
  closed: 'Disconnected'
}

// Close codes (collab/codes.py; a test checks that these lists agree with it).
// By y-websocket's convention 4400-4499 means "do not reconnect": the provider
// stops and emits 'closed', and the page says why. The editor page also stops
// on 4003 (its role changed) and reloads with the new role (editor.js).
export const REFUSALS = {
  4003: 'Your access to this document changed. Reloading it with your new access…',
  4400: 'The server could not read a change from this page. Reload to continue.',
  4401: 'You have been signed out. Taking you to the sign-in page…',
  4403: 'You no longer have access to this document.',
  4404: 'This document no longer exists.',
  4413: 'This change is too large for the document\'s size limit and was not accepted. Reload to continue.'
}
// Passing conditions, outside that range: a changed role, a slow handshake, a
// restart, a slow link or a stopping server, a connection limit. The provider
// reconnects (with its backoff) and resyncs, so nothing typed is lost.
export const TRANSIENT = new Set([4003, 4008, 4011, 4013, 4029])

/** The provider's shouldReconnect: stop after a final code (4400-4499), come back after any other. */
export function shouldReconnect (event) {
  return TRANSIENT.has(event.code) || !(event.code >= 4400 && event.code < 4500)
}

/** Plain words for a final close: ours where we have them, else the server's reason. */
export function refusalMessage ({ code, reason }) {
  if (REFUSALS[code]) return REFUSALS[code]
  const why = reason ? `: ${reason.replace(/\.?$/, '.')}` : ` (code ${code}).`
  return `The server closed the connection${why} Reload to continue.`
}

export class ConnectionStatus {
  /**
   * @param {import('y-websocket').WebsocketProvider} provider
   * @param {{onChange: (state: string, label: string) => void, onRefused: (event: {code: number, reason: string}) => void}} hooks
   */
  constructor (provider, { onChange, onRefused }) {
    this.provider = provider
    this.onChange = onChange
    this.everSynced = false
    this.refused = null
    provider.on('status', () => this.update())
    provider.on('sync', (synced) => {
      if (synced) this.everSynced = true
      this.update()
    })
    provider.on('closed', (event) => {
      this.refused = event
      onRefused(event)
      this.update()
    })
    // A browser that knows it is offline: stop knocking and come back at once
    // when the network returns, instead of waiting out the provider's backoff.
    window.addEventListener('offline', () => {
      provider.disconnect()
      this.update()
    })
    window.addEventListener('online', () => {
      if (!this.refused) provider.connect()
      this.update()
    })
    if (!navigator.onLine) provider.disconnect()
    this.update()
  }

  get state () {
    if (this.refused) return 'closed'
    if (!navigator.onLine) return 'offline'
    if (this.provider.wsconnected && this.provider.synced) return 'connected'
    return this.everSynced ? 'reconnecting' : 'connecting'
  }

  update () {
    const state = this.state
    this.onChange(state, LABELS[state])
  }
}
