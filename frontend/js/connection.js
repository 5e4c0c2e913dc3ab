// The connection status shown in the editor bar, from the provider's events
// and the browser's own idea of being online.

const LABELS = {
  connecting: 'Connecting…',
  connected: 'Connected',
  reconnecting: 'Reconnecting…',
  offline: 'Offline',
  closed: 'Disconnected'
}

// Close codes after which the server will not let us in (DESIGN.md); the
// provider stops reconnecting on its own for 4400-4499 and emits 'closed'.
const REFUSALS = {
  4401: 'You have been signed out. Sign in again to keep editing.',
  4403: 'You no longer have access to this document.',
  4404: 'This document no longer exists.'
}

export function refusalMessage ({ code, reason }) {
  return REFUSALS[code] || `The server closed the connection (${code}${reason ? `: ${reason}` : ''}).`
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
