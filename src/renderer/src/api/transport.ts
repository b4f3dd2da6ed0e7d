import type { NasBridge } from '@shared/bridge'
import type { Result } from '@shared/errors'

/** Live-update channel state: first connect, connected, or dropped and retrying with backoff. */
export type ConnectionState = 'connecting' | 'open' | 'reconnecting'

/** Which way requests travel: Electron IPC (`window.nas`) or HTTP + WebSocket (web mode). */
export type TransportKind = 'ipc' | 'web'

/**
 * A NasBridge plus what the UI needs to know about the channel itself. `invoke` resolves to a Result for
 * application errors and rejects only when main cannot be reached at all.
 */
export interface Transport extends NasBridge {
  readonly kind: TransportKind
  /** Subscribes to connection state changes; the listener is called at once with the current state. */
  onConnection(listener: (state: ConnectionState) => void): () => void
  /** Stops reconnecting and closes sockets (tests, page unload). */
  close(): void
  /**
   * Web mode only: copies one chosen file to the server (a browser cannot hand the server a local path).
   * Resolves to the server-side folder holding this upload.
   */
  upload?(uploadId: string, relPath: string, body: Blob): Promise<Result<{ root: string }>>
}

/** Wraps the preload's `window.nas`: IPC is always connected while the window exists. */
export function createIpcTransport(bridge: NasBridge): Transport {
  return {
    kind: 'ipc',
    invoke: (method, request) => bridge.invoke(method, request),
    onEvent: (listener) => bridge.onEvent(listener),
    onConnection(listener) {
      listener('open')
      return () => {}
    },
    close() {},
  }
}
