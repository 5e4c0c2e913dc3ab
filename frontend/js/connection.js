// The connection status shown in the editor bar, from the provider's events
// and the browser's own idea of being online.

const LABELS = {
  connecting: 'Connecting…',
  connected: 'Connected',
  reconnecting: 'Reconnecting…',
  offline: 'Offline',
  closed: 'Disconnected'
}

// Why the server closed for good (collab/codes.py). By y-websocket's
// convention 4400-4499 means "do not reconnect"; the provider then stops and
// emits 'closed', and the page says why. The editor also stops on 4003 (its
// role changed) and reloads.
const REFUSALS = {
  4003: 'Your access to this document changed. Reloading it with your new access…',
  4400: 'The server could not read a change from this page. Reload to continue.',
  4401: 'You have been signed out. Taking you to the sign-in page…',
  4403: 'You no longer have access to this document.',
  4404: 'This document no longer exists.',
  4413: 'This document has reached its size limit: your latest change was not accepted. Reload to continue.'
}
// In that range but passing: a rate or connection limit, a slow handshake.
// Reconnecting (with the provider's backoff) is the cure.
const TRANSIENT = new Set([4408, 4429])

/** The provider's shouldReconnect: the library's default, except for the transient codes above. */
export function shouldReconnect (event) {
  return TRANSIENT.has(event.code) || !(event.code >= 4400 && event.code < 4500)
}

export function refusalMessage ({ code, reason }) {
  return REFUSALS[code] || `The server closed the connection (${code}${reason ? `: ${reason}` : ''}). Reload to continue.`
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
