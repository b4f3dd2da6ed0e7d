import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'
import type { IncomingMessage } from 'node:http'
import { WEB_TOKEN_COOKIE, WEB_TOKEN_QUERY } from '../../shared'

/** A fresh random token for one server start: 32 bytes, base64url (URL- and cookie-safe). */
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

/** Reads one cookie's value from a Cookie header, or null. */
export function readCookie(header: string | undefined, name: string): string | null {
  if (!header) return null
  for (const part of header.split(';')) {
    const eq = part.indexOf('=')
    if (eq < 0) continue
    if (part.slice(0, eq).trim() === name) {
      try {
        return decodeURIComponent(part.slice(eq + 1).trim())
      } catch {
        return null
      }
    }
  }
  return null
}

/** Where a valid token was found on a request, or null if none matched. */
export type TokenSource = 'header' | 'query' | 'cookie' | null

/** Checks the token from the Authorization Bearer header, the `token` query parameter, or the cookie. */
export function findValidToken(req: IncomingMessage, url: URL, expected: string): TokenSource {
  const auth = req.headers.authorization
  if (auth?.startsWith('Bearer ') && tokenMatches(expected, auth.slice('Bearer '.length).trim()))
    return 'header'
  if (tokenMatches(expected, url.searchParams.get(WEB_TOKEN_QUERY))) return 'query'
  if (tokenMatches(expected, readCookie(req.headers.cookie, WEB_TOKEN_COOKIE))) return 'cookie'
  return null
}

/** The Set-Cookie value that lets the page's later requests (assets, fetch, WebSocket) carry the token. */
export function tokenCookie(token: string): string {
  // HttpOnly: page scripts cannot read it; SameSite=Strict: other sites cannot make the browser send it.
  return `${WEB_TOKEN_COOKIE}=${token}; Path=/; HttpOnly; SameSite=Strict`
}

/**
 * DNS-rebinding guard: a hostile page that re-points its own hostname at 127.0.0.1 reaches this server
 * with its own name in Host/Origin, so only 127.0.0.1:<port> and localhost:<port> are accepted, and an
 * Origin, when present, must be http:// one of those.
 */
export function hostAndOriginAllowed(req: IncomingMessage, port: number): boolean {
  const allowedHosts = [`127.0.0.1:${port}`, `localhost:${port}`]
  const host = req.headers.host?.toLowerCase()
  if (!host || !allowedHosts.includes(host)) return false
  const origin = req.headers.origin
  if (origin === undefined) return true
  return allowedHosts.some((h) => origin.toLowerCase() === `http://${h}`)
}
