import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync } from 'node:fs'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { rm } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { chromium, type Browser, type Page } from 'playwright-core'
import { WEB_URL_PATTERN } from '../../src/shared/web-protocol'

/** Shared set-up of the end-to-end specs: the built app in web mode, and Debian's Chromium. */

export const ROOT = resolve(import.meta.dirname, '../..')
export const CLI_PATH = join(ROOT, 'out/main/cli.js')
/**
 * Where the specs write screenshots: docs/ (the README's pictures) only when NAS_UPDATE_DOCS=1, else
 * out/screenshots/, so a test run never changes tracked files.
 */
export const SCREENSHOT_DIR =
  process.env.NAS_UPDATE_DOCS === '1' ? join(ROOT, 'docs') : join(ROOT, 'out', 'screenshots')

/** Fails early, with the fix, when the app has not been built (npm test builds it before the e2e). */
export function requireBuiltCli(): void {
  if (!existsSync(CLI_PATH)) throw new Error(`${CLI_PATH} is missing: run "npx electron-vite build" first.`)
}

/**
 * Starts `nas-studio serve --port 0` on `dataDir` in its own process group and resolves with the URL it prints
 * (token included) and the process; rejects with everything it printed if no URL comes within 60 s.
 */
export function startServe(dataDir: string): Promise<{ url: string; proc: ChildProcess }> {
  const child = spawn(process.execPath, [CLI_PATH, 'serve', '--port', '0', '--data-dir', dataDir], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true, // its own process group, so cleanup can reach trial workers it spawned
  })
  let out = ''
  return new Promise((resolvePromise, reject) => {
    const timer = setTimeout(() => reject(new Error(`serve printed no URL within 60 s:\n${out}`)), 60_000)
    const onData = (chunk: Buffer) => {
      out += chunk.toString()
      const m = WEB_URL_PATTERN.exec(out)
      if (m) {
        clearTimeout(timer)
        resolvePromise({ url: m[1]!, proc: child })
      }
    }
    child.stdout!.on('data', onData)
    child.stderr!.on('data', onData)
    child.once('exit', (code, signal) => {
      clearTimeout(timer)
      reject(new Error(`serve exited (code ${code}, signal ${signal}) before printing its URL:\n${out}`))
    })
  })
}

/** Stops a server from startServe: SIGTERM, then SIGKILL to its process group if it is not gone in 15 s. */
export async function stopServe(proc: ChildProcess | null): Promise<void> {
  // a process ended by a signal has no exit code, only a signal code; it will not emit 'exit' again
  if (!proc || proc.exitCode !== null || proc.signalCode !== null) return
  const exited = new Promise<void>((r) => proc.once('exit', () => r()))
  proc.kill('SIGTERM')
  const timer = setTimeout(() => {
    try {
      process.kill(-proc.pid!, 'SIGKILL')
    } catch {
      // already gone
    }
  }, 15_000)
  await exited
  clearTimeout(timer)
}

/** Debian's Chromium, headless, with the flags this closed network needs (never a downloaded browser). */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--no-first-run',
    ],
  })
}

/**
 * Opens a page on `url` in a 1280-px-wide window `height` px high and records page errors and console errors
 * (CSP violations show up there) into `errors`. `beforeLoad` runs before navigating (e.g. to watch the
 * WebSocket, which opens while the page loads).
 */
export async function openPage(
  browser: Browser,
  url: string,
  errors: string[],
  { height = 800, beforeLoad }: { height?: number; beforeLoad?: (page: Page) => void } = {},
): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1280, height } })
  beforeLoad?.(page)
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`))
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(`console: ${m.text()}`)
  })
  await page.goto(url)
  return page
}

/** A spec's afterAll: closes the browser, stops the server and removes the spec's temporary folder `dir`. */
export async function cleanUp(
  browser: Browser | null,
  proc: ChildProcess | null,
  dir: string,
): Promise<void> {
  await browser?.close().catch(() => {})
  await stopServe(proc)
  if (dir) await rm(dir, { recursive: true, force: true })
}

/**
 * Requests a throwaway server on another port of 127.0.0.1 with `page`'s cookie jar (page.request shares the
 * browser context's cookies) and answers the Cookie header it received ('' when none): whatever the app
 * keeps must not reach it.
 */
export async function cookieSentToAnotherPort(page: Page): Promise<string> {
  let cookie = ''
  const other = createServer((req, res) => {
    cookie = req.headers.cookie ?? ''
    res.end('other server')
  })
  await new Promise<void>((resolve) => other.listen(0, '127.0.0.1', resolve))
  const { port } = other.address() as AddressInfo
  try {
    await page.request.get(`http://127.0.0.1:${port}/`)
  } finally {
    await new Promise<void>((resolve) => other.close(() => resolve()))
  }
  return cookie
}
