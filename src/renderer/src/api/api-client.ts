import type { EventName, EventPayload, Method, Req, Res } from '@shared/api'
import type { NasBridge } from '@shared/bridge'
import { WEB_TOKEN_QUERY } from '@shared/web-protocol'
import { ApiError } from './api-error'
import { createIpcTransport, type ConnectionState, type Transport, type TransportKind } from './transport'
import { createWebTransport, type SocketLike } from './web-transport'

/** The renderer's one door to main: typed calls that throw ApiError, and typed event subscriptions. */
export interface ApiClient {
  readonly transport: TransportKind
  /** Calls `method`; resolves to its response or throws an ApiError with a message fit to show a person. */
  call<M extends Method>(method: M, request: Req<M>): Promise<Res<M>>
  /** Subscribes to one event; returns the unsubscribe function. */
  onEvent<E extends EventName>(name: E, callback: (payload: EventPayload<E>) => void): () => void
  /** Subscribes to the live-update connection state (called at once with the current state). */
  onConnection(callback: (state: ConnectionState) => void): () => void
  close(): void
  /**
   * Present in web mode only: copies one chosen file to the server and returns the server-side folder of the
   * upload; throws ApiError like `call`.
   */
  uploadFile?: (uploadId: string, relPath: string, body: Blob) => Promise<{ root: string }>
}

/** Turns any Transport into the typed, throwing ApiClient. */
export function clientFromTransport(transport: Transport): ApiClient {
  return {
    transport: transport.kind,
    async call(method, request) {
      let result
      try {
        result = await transport.invoke(method, request)
      } catch (err) {
        if (err instanceof ApiError) throw err
        throw new ApiError('network', 'NAS Studio did not answer. Restart the app and try again.')
      }
      if (result.ok) return result.data
      throw ApiError.fromData(result.error)
    },
    onEvent(name, callback) {
      return transport.onEvent((message) => {
        if (message.event === name) callback(message.payload as EventPayload<typeof name>)
      })
    },
    onConnection: (callback) => transport.onConnection(callback),
    close: () => transport.close(),
    ...(transport.upload
      ? {
          uploadFile: async (uploadId: string, relPath: string, body: Blob) => {
            const result = await transport.upload!(uploadId, relPath, body)
            if (result.ok) return result.data
            throw ApiError.fromData(result.error)
          },
        }
      : {}),
  }
}

const TOKEN_STORAGE_KEY = 'nas-studio.token'

/** The page pieces token handling touches, injectable for tests. */
export interface TokenPage {
  location: { href: string }
  history: Pick<History, 'replaceState' | 'state'>
  sessionStorage: Pick<Storage, 'getItem' | 'setItem'>
}

/**
 * Reads the web-mode token: from `?token=` when present (then kept in sessionStorage so reloads work, and
 * removed from the address bar so it is not shared by copy-paste or history), else from sessionStorage.
 * Null when neither has one (the server's cookie may still authorise requests).
 */
export function takeWebToken(page: TokenPage): string | null {
  const url = new URL(page.location.href)
  const fromUrl = url.searchParams.get(WEB_TOKEN_QUERY)
  if (fromUrl) {
    try {
      page.sessionStorage.setItem(TOKEN_STORAGE_KEY, fromUrl)
    } catch {
      // storage may be disabled; the token still works for this page's lifetime
    }
    url.searchParams.delete(WEB_TOKEN_QUERY)
    page.history.replaceState(page.history.state, '', url.pathname + url.search + url.hash)
    return fromUrl
  }
  try {
    return page.sessionStorage.getItem(TOKEN_STORAGE_KEY)
  } catch {
    return null
  }
}

/** Overrides for createApiClient (tests); by default everything comes from the page. */
export interface ApiClientOptions {
  bridge?: NasBridge | null
  page?: TokenPage
  fetch?: typeof fetch
  createSocket?: (url: string) => SocketLike
}

/**
 * Picks the transport: Electron IPC when the preload exposed `window.nas`, else web mode (HTTP + WebSocket
 * to the server that served this page, authorised by the page's token).
 */
export function createApiClient(options: ApiClientOptions = {}): ApiClient {
  const bridge = options.bridge === undefined ? window.nas : options.bridge
  if (bridge) return clientFromTransport(createIpcTransport(bridge))
  const page = options.page ?? window
  const token = takeWebToken(page)
  return clientFromTransport(
    createWebTransport({
      origin: new URL(page.location.href).origin,
      token,
      ...(options.fetch ? { fetch: options.fetch } : {}),
      ...(options.createSocket ? { createSocket: options.createSocket } : {}),
    }),
  )
}
