import type { EventMessage, Method, Req, Res } from '@shared/api'
import type { Result } from '@shared/errors'
import { WEB_API_PREFIX, WEB_EVENTS_PATH, WEB_EVENTS_READY, WEB_UPLOAD_PREFIX } from '@shared/web-protocol'
import { ApiError } from './api-error'
import type { ConnectionState, Transport } from './transport'

/** The subset of the browser WebSocket the transport uses (so tests can pass a fake). */
export interface SocketLike {
  onopen: ((ev: unknown) => void) | null
  onclose: ((ev: unknown) => void) | null
  onerror: ((ev: unknown) => void) | null
  onmessage: ((ev: { data: unknown }) => void) | null
  send(data: string): void
  close(): void
}

/** Everything web mode takes from the page, injectable for tests. */
export interface WebTransportOptions {
  /** Origin of the web-mode server, e.g. "http://127.0.0.1:5123". */
  origin: string
  /** Access token from `?token=` (null: none, so every call answers unauthorized). */
  token: string | null
  fetch?: typeof fetch
  createSocket?: (url: string) => SocketLike
  /** First reconnect delay in ms; doubles on each failure up to `maxBackoffMs`. */
  initialBackoffMs?: number
  maxBackoffMs?: number
}

const UNAUTHORIZED_MESSAGE =
  'This page is no longer authorised to talk to NAS Studio (the server was restarted or the link is wrong). ' +
  'Open the address that "nas-studio serve" printed.'

/**
 * Web mode: `POST /api/<method>` with `Authorization: Bearer <token>` and a JSON body, answered with a Result
 * envelope; events arrive over a WebSocket on `/events` (the token is its first message, never in the URL or a
 * cookie) that reconnects with exponential backoff.
 */
export function createWebTransport(options: WebTransportOptions): Transport {
  const fetchImpl = options.fetch ?? globalThis.fetch.bind(globalThis)
  const createSocket = options.createSocket ?? ((url: string) => new WebSocket(url) as unknown as SocketLike)
  const initialBackoff = options.initialBackoffMs ?? 500
  const maxBackoff = options.maxBackoffMs ?? 10_000
  const host = new URL(options.origin).host

  const eventListeners = new Set<(message: EventMessage) => void>()
  const stateListeners = new Set<(state: ConnectionState) => void>()
  let state: ConnectionState = 'connecting'
  let socket: SocketLike | null = null
  let started = false
  let closed = false
  let attempt = 0
  let everOpened = false
  let timer: ReturnType<typeof setTimeout> | null = null

  const setState = (next: ConnectionState): void => {
    if (next === state) return
    state = next
    for (const l of stateListeners) l(next)
  }

  const eventsUrl = (): string => {
    const scheme = options.origin.startsWith('https:') ? 'wss' : 'ws'
    return `${scheme}://${host}${WEB_EVENTS_PATH}`
  }

  const connect = (): void => {
    if (closed) return
    const ws = createSocket(eventsUrl())
    socket = ws
    ws.onopen = () => {
      ws.send(JSON.stringify({ token: options.token ?? '' }))
    }
    ws.onmessage = (ev) => {
      if (typeof ev.data !== 'string') return
      // The server's answer to the token: only now are live updates flowing.
      if (ev.data === WEB_EVENTS_READY) {
        attempt = 0
        everOpened = true
        setState('open')
        return
      }
      let message: EventMessage
      try {
        message = JSON.parse(ev.data) as EventMessage
      } catch {
        return // a malformed frame is dropped; the next one may be fine
      }
      if (!message || typeof message.event !== 'string') return
      for (const l of eventListeners) l(message)
    }
    ws.onerror = () => {} // a close event always follows; reconnecting is handled there
    ws.onclose = () => {
      if (socket === ws) socket = null
      if (closed) return
      // Before the first successful open we are still "connecting"; afterwards a drop means "reconnecting".
      if (everOpened) setState('reconnecting')
      const delay = Math.min(maxBackoff, initialBackoff * 2 ** attempt)
      attempt += 1
      timer = setTimeout(() => {
        timer = null
        connect()
      }, delay)
    }
  }

  const ensureStarted = (): void => {
    if (started || closed) return
    started = true
    connect()
  }

  async function invoke<M extends Method>(method: M, request: Req<M>): Promise<Result<Res<M>>> {
    const headers: Record<string, string> = { 'Content-Type': 'application/json' }
    if (options.token) headers.Authorization = `Bearer ${options.token}`
    let response: Response
    try {
      response = await fetchImpl(`${options.origin}${WEB_API_PREFIX}${method}`, {
        method: 'POST',
        headers,
        body: JSON.stringify(request),
        credentials: 'same-origin',
      })
    } catch {
      throw new ApiError(
        'network',
        `Cannot reach the NAS Studio server at ${host}. Check that "nas-studio serve" is still running, then try again.`,
      )
    }
    let body: unknown
    try {
      body = await response.json()
    } catch {
      body = undefined
    }
    if (response.status === 401) {
      return { ok: false, error: { code: 'unauthorized', message: UNAUTHORIZED_MESSAGE } }
    }
    if (isResult(body)) return body as Result<Res<M>>
    return {
      ok: false,
      error: {
        code: 'internal',
        message: `The server answered "${method}" with an unreadable reply (HTTP ${response.status}). Try again; if it keeps happening, restart NAS Studio.`,
      },
    }
  }

  async function upload(uploadId: string, relPath: string, body: Blob): Promise<Result<{ root: string }>> {
    const headers: Record<string, string> = { 'Content-Type': 'application/octet-stream' }
    if (options.token) headers.Authorization = `Bearer ${options.token}`
    const encoded = [uploadId, ...relPath.split('/')].map(encodeURIComponent).join('/')
    let response: Response
    try {
      response = await fetchImpl(`${options.origin}${WEB_UPLOAD_PREFIX}${encoded}`, {
        method: 'PUT',
        headers,
        body,
        credentials: 'same-origin',
      })
    } catch {
      throw new ApiError(
        'network',
        `Uploading ${relPath} failed: the NAS Studio server at ${host} did not answer.`,
      )
    }
    if (response.status === 401) {
      return { ok: false, error: { code: 'unauthorized', message: UNAUTHORIZED_MESSAGE } }
    }
    let parsed: unknown
    try {
      parsed = await response.json()
    } catch {
      parsed = undefined
    }
    if (isResult(parsed)) return parsed as Result<{ root: string }>
    return {
      ok: false,
      error: {
        code: 'internal',
        message: `The server answered the upload of ${relPath} with HTTP ${response.status}.`,
      },
    }
  }

  return {
    kind: 'web',
    invoke,
    upload,
    onEvent(listener) {
      eventListeners.add(listener)
      ensureStarted()
      return () => eventListeners.delete(listener)
    },
    onConnection(listener) {
      stateListeners.add(listener)
      ensureStarted()
      listener(state)
      return () => stateListeners.delete(listener)
    },
    close() {
      closed = true
      if (timer) clearTimeout(timer)
      socket?.close()
      socket = null
    },
  }
}

function isResult(body: unknown): boolean {
  if (typeof body !== 'object' || body === null) return false
  const b = body as { ok?: unknown; data?: unknown; error?: unknown }
  if (b.ok === true) return 'data' in b
  if (b.ok === false) {
    const e = b.error as { code?: unknown; message?: unknown } | undefined
    return typeof e === 'object' && e !== null && typeof e.code === 'string' && typeof e.message === 'string'
  }
  return false
}
