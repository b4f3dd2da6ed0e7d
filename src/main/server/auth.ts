import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'
import type { IncomingMessage } from 'node:http'

/** A fresh random token for one server start: 32 bytes, base64url (URL-safe). */
export function newToken(): string {
  return randomBytes(32).toString('base64url')
}

/**
 * Constant-time token comparison. Both sides are hashed first so the compared buffers always have equal
 * length (timingSafeEqual requires it) and the expected token's length does not leak either.
 */
export function tokenMatches(expected: string, given: string | null | undefined): boolean {
  if (typeof given !== 'string' || given.length === 0) return false
  const a = createHash('sha256').update(expected).digest()
  const b = createHash('sha256').update(given).digest()
  return timingSafeEqual(a, b)
}

/**
 * True when the request carries the token in an `Authorization: Bearer` header. The token is accepted from
 * nowhere else: a cookie would be sent to every server on 127.0.0.1 (cookies are not bound to a port), and a
 * query parameter ends up in logs and history. The page keeps the token itself and sends it as this header;
 * its WebSocket, which cannot carry headers from a browser, authenticates in its first message.
 */
export function hasValidToken(req: IncomingMessage, expected: string): boolean {
  const auth = req.headers.authorization
  return auth?.startsWith('Bearer ') === true && tokenMatches(expected, auth.slice('Bearer '.length).trim())
}

/**
 * DNS-rebinding guard: a hostile page that re-points its own hostname at 127.0.0.1 reaches this server
 * with its own name in Host/Origin, so only 127.0.0.1:<port> and localhost:<port> are accepted, and an
 * Origin, when present, must be http:// one of those. Node keeps only the first of repeated Host headers,
 * so the raw headers are counted: a request with several is refused, as is an absolute-form target
 * (`GET http://evil.example/ HTTP/1.1`), whose host would win over the Host header for a proxy or a
 * later URL parse.
 */
export function hostAndOriginAllowed(req: IncomingMessage, port: number): boolean {
  const allowedHosts = [`127.0.0.1:${port}`, `localhost:${port}`]
  let hostHeaders = 0
  for (let i = 0; i < req.rawHeaders.length; i += 2)
    if (req.rawHeaders[i]!.toLowerCase() === 'host') hostHeaders += 1
  if (hostHeaders !== 1) return false
  if (!(req.url ?? '/').startsWith('/')) return false
  const host = req.headers.host?.toLowerCase()
  if (!host || !allowedHosts.includes(host)) return false
  const origin = req.headers.origin
  if (origin === undefined) return true
  return allowedHosts.some((h) => origin.toLowerCase() === `http://${h}`)
}
