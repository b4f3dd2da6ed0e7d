import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { WebSocketServer, WebSocket } from 'ws'
import {
  WEB_API_PREFIX,
  WEB_EVENTS_PATH,
  WEB_EVENTS_READY,
  WEB_MAX_BODY_BYTES,
  WEB_UPLOAD_PREFIX,
  toErrorData,
  type ApiHandlers,
  type NasErrorData,
  type Result,
} from '../../shared'
import type { EventSubscribe } from '../services'
import { dispatch, failure, isMethod } from '../services/dispatch'
import { hasValidToken, hostAndOriginAllowed, newToken, tokenMatches } from './auth'
import { contentSecurityPolicy } from './csp'
import { serveStatic } from './static'
import { receiveUpload } from './upload'

/** Options of startWebServer. */
export interface WebServerOptions {
  handlers: ApiHandlers
  events: EventSubscribe
  /** TCP port on 127.0.0.1; 0 picks a free one. */
  port: number
  /** The built renderer (out/renderer). */
  rendererDir: string
  /** Fixed token (tests only); default: a fresh random one per start. */
  token?: string
  /** Where browser uploads are stored (<dataDir>/uploads); uploads are refused when absent. */
  uploadsDir?: string
}

/** A running web-mode server. `url` includes the token: open it in a browser. */
export interface WebServer {
  url: string
  token: string
  port: number
  /** The address the socket is bound to, as the OS reports it (always 127.0.0.1). */
  host: string
  close(): Promise<void>
}

/** A WebSocket client that has this much unsent data is too slow to keep up and is dropped. */
const MAX_WS_BUFFERED_BYTES = 16 * 1024 * 1024

const STATUS_TEXT: Record<number, string> = { 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found' }

/** How long a new event socket may take to send its token before it is closed. */
const WS_AUTH_TIMEOUT_MS = 5000

/** The token of a first WebSocket message `{"token": "..."}`, or null for anything else. */
function inBandToken(data: unknown): string | null {
  try {
    const text = Buffer.isBuffer(data) ? data.toString('utf8') : String(data)
    const parsed = JSON.parse(text) as { token?: unknown }
    return typeof parsed?.token === 'string' ? parsed.token : null
  } catch {
    return null
  }
}

/**
 * Starts web mode: the contract over HTTP (`POST /api/<method>`) and a WebSocket (`/events`) on 127.0.0.1
 * only, every request guarded by a per-start token and a Host/Origin check, plus the built UI.
 */
export async function startWebServer(opts: WebServerOptions): Promise<WebServer> {
  const token = opts.token ?? newToken()
  let port = 0
  const clients = new Set<WebSocket>()
  // Clients never need to send anything, so a tiny frame limit bounds what a client can make us buffer.
  const wss = new WebSocketServer({ noServer: true, maxPayload: 4096 })

  const server = createServer((req, res) => {
    handleRequest(req, res).catch((err: unknown) => {
      if (!res.headersSent) sendJson(res, 500, failure('internal', `Unexpected server error: ${String(err)}`))
      else res.destroy()
    })
  })

  async function handleRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    res.setHeader('X-Content-Type-Options', 'nosniff')
    // The token travels in the page URL; never leak it to another site through Referer.
    res.setHeader('Referrer-Policy', 'no-referrer')
    res.setHeader('X-Frame-Options', 'DENY')
    if (!hostAndOriginAllowed(req, port)) {
      sendJson(
        res,
        403,
        failure('unauthorized', 'This address is not allowed: open NAS Studio at 127.0.0.1 or localhost.'),
      )
      return
    }
    const url = new URL(req.url ?? '/', `http://127.0.0.1:${port}`)
    const isApi = url.pathname.startsWith(WEB_API_PREFIX)
    const isUpload = url.pathname.startsWith(WEB_UPLOAD_PREFIX)
    // The built UI is the same for everyone and holds no data, so it is served without the token (a page
    // cannot attach a header to its own script and style requests); everything that reads or changes data
    // needs the header.
    if ((isApi || isUpload) && !hasValidToken(req, token)) {
      sendJson(
        res,
        401,
        failure('unauthorized', 'Missing or wrong token. Open the URL that nas-studio serve printed.'),
      )
      return
    }
    if (isApi) {
      await handleApi(req, res, url.pathname.slice(WEB_API_PREFIX.length))
      return
    }
    if (isUpload) {
      await handleUpload(req, res, url.pathname.slice(WEB_UPLOAD_PREFIX.length))
      return
    }
    if (url.pathname === WEB_EVENTS_PATH) {
      sendText(res, 426, 'Connect to /events with a WebSocket.\n')
      return
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('Allow', 'GET, HEAD')
      sendText(res, 405, 'Method not allowed.\n')
      return
    }
    res.setHeader(
      'Content-Security-Policy',
      contentSecurityPolicy([`ws://127.0.0.1:${port}`, `ws://localhost:${port}`]),
    )
    serveStatic(opts.rendererDir, url.pathname, res, req.method === 'HEAD')
  }

  async function handleApi(req: IncomingMessage, res: ServerResponse, method: string): Promise<void> {
    if (req.method !== 'POST') {
      res.setHeader('Allow', 'POST')
      sendJson(res, 405, failure('bad_request', `Use POST for ${WEB_API_PREFIX}${method}.`))
      return
    }
    if (!isMethod(method)) {
      sendJson(res, 404, failure('not_found', `Unknown method "${method}".`))
      return
    }
    const body = await readBody(req, WEB_MAX_BODY_BYTES)
    if (body === 'too_large') {
      // The rest of the body is read and thrown away rather than the connection closed at once: a client
      // still writing would otherwise get a broken pipe instead of this answer. A body that has not ended
      // 2 s later (an endless upload) is cut off.
      if (!req.readableEnded) {
        const cutOff = setTimeout(() => req.destroy(), 2000).unref()
        req.once('end', () => clearTimeout(cutOff))
        req.once('close', () => clearTimeout(cutOff))
      }
      sendJson(
        res,
        413,
        failure('bad_request', `The request body is larger than ${WEB_MAX_BODY_BYTES} bytes.`),
      )
      return
    }
    let request: unknown = {}
    if (body.trim().length > 0) {
      try {
        request = JSON.parse(body)
      } catch {
        sendJson(res, 400, failure('bad_request', 'The request body is not valid JSON.'))
        return
      }
    }
    sendJson(res, 200, await dispatch(opts.handlers, method, request))
  }

  async function handleUpload(req: IncomingMessage, res: ServerResponse, rest: string): Promise<void> {
    if (req.method !== 'PUT') {
      res.setHeader('Allow', 'PUT')
      sendJson(res, 405, failure('bad_request', `Use PUT for ${WEB_UPLOAD_PREFIX}.`))
      return
    }
    if (opts.uploadsDir === undefined) {
      sendJson(res, 404, failure('not_found', 'This server does not accept uploads.'))
      return
    }
    const slash = rest.indexOf('/')
    let uploadId = ''
    let relPath = ''
    try {
      uploadId = decodeURIComponent(rest.slice(0, slash < 0 ? rest.length : slash))
      relPath =
        slash < 0
          ? ''
          : rest
              .slice(slash + 1)
              .split('/')
              .map(decodeURIComponent)
              .join('/')
    } catch {
      sendJson(res, 400, failure('bad_request', 'The upload path is not valid URL encoding.'))
      return
    }
    try {
      const { root } = await receiveUpload(req, opts.uploadsDir, uploadId, relPath)
      sendJson(res, 200, { ok: true, data: { root } })
    } catch (err) {
      const error = toErrorData(err)
      if (!req.complete) res.setHeader('Connection', 'close')
      sendJson(res, error.code === 'bad_request' ? 400 : 500, { ok: false, error })
    }
  }

  // A request that is not valid HTTP (bad request line, headers too large, conflicting lengths) never reaches
  // handleRequest: answer it with the same kind of envelope, then close the connection.
  server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
    if (err.code === 'ECONNRESET' || !socket.writable) {
      socket.destroy()
      return
    }
    const [status, message] =
      err.code === 'HPE_HEADER_OVERFLOW'
        ? ['431 Request Header Fields Too Large', 'The request headers are too large.']
        : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
          ? ['408 Request Timeout', 'The request took too long to arrive.']
          : ['400 Bad Request', `The request is not valid HTTP (${err.code ?? 'parse error'}).`]
    const body = JSON.stringify(failure('bad_request', message))
    socket.end(
      `HTTP/1.1 ${status}\r\nContent-Type: application/json; charset=utf-8\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    )
  })

  server.on('upgrade', (req, socket, head) => {
    const reject = (status: number): void => {
      socket.end(
        `HTTP/1.1 ${status} ${STATUS_TEXT[status] ?? 'Error'}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`,
      )
    }
    const url = new URL(req.url ?? '/', `http://127.0.0.1:${port}`)
    if (url.pathname !== WEB_EVENTS_PATH) return reject(404)
    if (!hostAndOriginAllowed(req, port)) return reject(403)
    wss.handleUpgrade(req, socket, head, (ws) => {
      // A browser cannot put a header on a WebSocket, so the page sends the token as its first message
      // (`{"token": "..."}`); a client that sent the Bearer header is authorised at once. Until then the
      // socket gets no events, and one that does not authenticate in time is closed.
      let authorised = hasValidToken(req, token)
      const authTimer = authorised
        ? null
        : setTimeout(() => ws.close(1008, 'Not authorised: send the token first.'), WS_AUTH_TIMEOUT_MS)
      const admit = (): void => {
        authorised = true
        clients.add(ws)
        ws.send(WEB_EVENTS_READY)
      }
      if (authorised) admit()
      ws.on('message', (data, isBinary) => {
        if (!authorised && !isBinary && tokenMatches(token, inBandToken(data))) {
          if (authTimer) clearTimeout(authTimer)
          admit()
          return
        }
        // The socket only carries events to the page; anything else a client sends is refused and ends it.
        ws.close(
          1008,
          authorised ? 'NAS Studio event sockets accept no messages.' : 'Not authorised: wrong token.',
        )
      })
      ws.on('close', () => {
        if (authTimer) clearTimeout(authTimer)
        clients.delete(ws)
      })
      ws.on('error', () => clients.delete(ws))
    })
  })

  const unsubscribe = opts.events((message) => {
    const data = JSON.stringify(message)
    for (const ws of clients) {
      if (ws.readyState !== WebSocket.OPEN) continue
      if (ws.bufferedAmount > MAX_WS_BUFFERED_BYTES) ws.terminate()
      else ws.send(data)
    }
  })

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    // 127.0.0.1 only: web mode is for this machine (reach a remote GPU box through an SSH tunnel).
    server.listen(opts.port, '127.0.0.1', () => {
      server.off('error', reject)
      resolve()
    })
  }).catch((err: unknown) => {
    unsubscribe()
    throw err
  })
  const bound = server.address() as AddressInfo
  port = bound.port

  let closing: Promise<void> | null = null
  return {
    url: `http://127.0.0.1:${port}/?token=${token}`,
    token,
    port,
    host: bound.address,
    close: () =>
      (closing ??= (async () => {
        unsubscribe()
        for (const ws of clients) ws.terminate()
        clients.clear()
        wss.close()
        await new Promise<void>((resolve) => {
          server.close(() => resolve())
          server.closeAllConnections()
        })
      })()),
  }
}

/** Reads a request body as UTF-8 up to `limit` bytes; 'too_large' as soon as it is exceeded. */
function readBody(req: IncomingMessage, limit: number): Promise<string | 'too_large'> {
  const declared = Number(req.headers['content-length'])
  if (Number.isFinite(declared) && declared > limit) {
    req.resume()
    return Promise.resolve('too_large')
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    let done = false
    req.on('data', (chunk: Buffer) => {
      if (done) return
      size += chunk.length
      if (size > limit) {
        done = true
        req.resume()
        resolve('too_large')
        return
      }
      chunks.push(chunk)
    })
    req.on('end', () => {
      if (!done) resolve(Buffer.concat(chunks).toString('utf8'))
    })
    req.on('error', (err) => {
      if (!done) reject(err)
    })
  })
}

function sendJson(
  res: ServerResponse,
  status: number,
  body: Result<unknown> | { ok: false; error: NasErrorData },
): void {
  const text = JSON.stringify(body)
  res.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(text),
    'Cache-Control': 'no-store',
  })
  res.end(text)
}

function sendText(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, {
    'Content-Type': 'text/plain; charset=utf-8',
    'Content-Length': Buffer.byteLength(text),
  })
  res.end(text)
}
