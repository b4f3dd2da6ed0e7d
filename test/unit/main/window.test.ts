import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import type { BrowserWindowConstructorOptions } from 'electron'
import { describe, expect, it } from 'vitest'
import { contentSecurityPolicy } from '../../../src/main/server/csp'
import { findAppRoot } from '../../../src/main/paths'
import {
  externalUrlToOpen,
  guardWebContents,
  hardenSession,
  createMainWindow,
  isAppUrl,
  type PreventableEvent,
  type ResponseHeaders,
  type SessionLike,
  type WebContentsLike,
} from '../../../src/main/window'

const rendererDir = join('/opt', 'nas studio', 'out', 'renderer')
const rendererIndexUrl = pathToFileURL(join(rendererDir, 'index.html')).href

/** A WebContents stand-in that records the listeners and the window-open handler guardWebContents installs. */
class FakeWebContents implements WebContentsLike {
  readonly listeners = new Map<
    string,
    Array<(event: PreventableEvent & { url: string }, url: string) => void>
  >()
  windowOpenHandler: ((details: { url: string }) => { action: 'deny' }) | null = null

  on(event: string, listener: (event: PreventableEvent & { url: string }, url: string) => void): this {
    this.listeners.set(event, [...(this.listeners.get(event) ?? []), listener])
    return this
  }

  setWindowOpenHandler(handler: (details: { url: string }) => { action: 'deny' }): void {
    this.windowOpenHandler = handler
  }

  /** Emits will-frame-navigate (its one argument carries the URL); true when a listener cancelled it. */
  emitFrame(url: string, isMainFrame = false): boolean {
    let prevented = false
    for (const listener of this.listeners.get('will-frame-navigate') ?? []) {
      listener(
        { url, isMainFrame, preventDefault: () => (prevented = true) } as PreventableEvent & { url: string },
        url,
      )
    }
    return prevented
  }

  /** Emits `event`; true when a listener cancelled it. */
  emit(event: string, url = ''): boolean {
    let prevented = false
    for (const listener of this.listeners.get(event) ?? []) {
      listener({ url, preventDefault: () => (prevented = true) }, url)
    }
    return prevented
  }
}

/** Parses a CSP string into directive -> sources. */
function parseCsp(policy: string): Map<string, string[]> {
  const out = new Map<string, string[]>()
  for (const part of policy.split(';')) {
    const [name, ...sources] = part.trim().split(/\s+/)
    if (name) out.set(name, sources)
  }
  return out
}

/** The policy an Electron page and a web-mode page get: no remote origin, no inline or eval'd script. */
function expectStrictPolicy(policy: string): void {
  const csp = parseCsp(policy)
  expect(csp.get('default-src')).toEqual(["'self'"])
  for (const source of csp.get('script-src') ?? []) {
    expect(["'self'", "'wasm-unsafe-eval'"]).toContain(source)
  }
  expect(csp.get('object-src')).toEqual(["'none'"])
  expect(csp.get('base-uri')).toEqual(["'none'"])
  expect(csp.get('form-action')).toEqual(["'none'"])
  // Only the app itself and local WebSockets: no http(s) host anywhere, no wildcard host.
  for (const [directive, sources] of csp) {
    for (const source of sources) {
      expect(source, `${directive} allows ${source}`).not.toMatch(/^https?:|^\*$|^https?$|^ws:$|^wss:/)
      if (source.startsWith('ws://')) expect(source).toMatch(/^ws:\/\/(127\.0\.0\.1|localhost):\d+$/)
    }
  }
}

describe('Electron window options', () => {
  it('keeps Node out of the page and web security on', () => {
    class FakeWindow {
      constructor(readonly options: BrowserWindowConstructorOptions) {}
    }
    const { options } = createMainWindow(FakeWindow, '/app/out/preload/index.cjs')
    expect(options.show).toBe(false)
    expect(options.webPreferences).toEqual({
      preload: '/app/out/preload/index.cjs',
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      experimentalFeatures: false,
      webviewTag: false,
      navigateOnDragDrop: false,
      disableBlinkFeatures: 'Auxclick',
    })
  })

  it('the shell builds its window with createMainWindow and guards every web contents', () => {
    // The options above only protect the app if index.ts uses them, and nothing else builds a window.
    const source = readFileSync(join(findAppRoot(), 'src', 'main', 'index.ts'), 'utf8')
    expect(source).toContain('createMainWindow(BrowserWindow, ')
    expect(source).not.toMatch(/new BrowserWindow\b|new BrowserView\b|new WebContentsView\b/)
    expect(source).toMatch(/app\.on\('web-contents-created',[\s\S]*guardWebContents\(contents/)
    expect(source).toContain('hardenSession(session.defaultSession, contentSecurityPolicy())')
    expect(source).toMatch(/registerIpc\(ipcMain, [^)]*isTrustedSender/)
    // the sandbox for every renderer, switched on before the app is ready
    expect(source).toMatch(/^app\.enableSandbox\(\)/m)
    expect(source.indexOf('app.enableSandbox()')).toBeLessThan(source.indexOf('.whenReady()'))
  })
})

describe('navigation and new windows', () => {
  const where = { rendererIndexUrl }

  it('recognises only the built index.html, or the dev server origin in development', () => {
    expect(isAppUrl(`${rendererIndexUrl}#/history`, where)).toBe(true)
    expect(isAppUrl(`${rendererIndexUrl}?x=1`, where)).toBe(true)
    for (const url of [
      'https://evil.example/',
      pathToFileURL(join(rendererDir, 'other.html')).href,
      'file:///etc/passwd',
      'javascript:alert(1)',
      'not a url',
      'http://localhost:5173/',
    ]) {
      expect(isAppUrl(url, where), url).toBe(false)
    }
    const dev = { rendererIndexUrl, devServerUrl: 'http://localhost:5173/' }
    expect(isAppUrl('http://localhost:5173/#/design', dev)).toBe(true)
    expect(isAppUrl('http://localhost:5174/', dev)).toBe(false)
  })

  it('cancels navigation and redirects away from the app and refuses <webview>', () => {
    const contents = new FakeWebContents()
    const opened: string[] = []
    guardWebContents(contents, { isAppUrl: (u) => isAppUrl(u, where), openExternal: (u) => opened.push(u) })
    expect(contents.emit('will-navigate', 'https://evil.example/')).toBe(true)
    expect(contents.emit('will-navigate', 'file:///etc/passwd')).toBe(true)
    expect(contents.emit('will-redirect', 'https://evil.example/')).toBe(true)
    expect(contents.emit('will-navigate', `${rendererIndexUrl}#/runs`)).toBe(false)
    expect(contents.emit('will-attach-webview')).toBe(true)
    // a sub-frame navigating away is cancelled too; one staying on the app is not
    expect(contents.emitFrame('https://evil.example/')).toBe(true)
    expect(contents.emitFrame('file:///etc/passwd', true)).toBe(true)
    expect(contents.emitFrame(`${rendererIndexUrl}#/runs`)).toBe(false)
    expect(opened).toEqual([])
  })

  it('denies every new window and hands only plain http(s) links to the browser', () => {
    const contents = new FakeWebContents()
    const opened: string[] = []
    guardWebContents(contents, { isAppUrl: () => true, openExternal: (u) => opened.push(u) })
    const handler = contents.windowOpenHandler!
    for (const url of [
      'https://example.org/docs',
      'http://example.org/',
      'file:///bin/sh',
      'smb://host/share',
      'javascript:alert(1)',
      'https://user:pw@example.org/',
      rendererIndexUrl,
      '',
    ]) {
      expect(handler({ url })).toEqual({ action: 'deny' })
    }
    expect(opened).toEqual(['https://example.org/docs', 'http://example.org/'])
    expect(externalUrlToOpen('ms-msdt:/id')).toBeNull()
  })
})

describe('session hardening', () => {
  function fakeSession() {
    const recorded: {
      request?: Parameters<SessionLike['setPermissionRequestHandler']>[0]
      check?: Parameters<SessionLike['setPermissionCheckHandler']>[0]
      headers?: Parameters<SessionLike['webRequest']['onHeadersReceived']>[0]
    } = {}
    const session: SessionLike = {
      setPermissionRequestHandler: (h) => (recorded.request = h),
      setPermissionCheckHandler: (h) => (recorded.check = h),
      webRequest: { onHeadersReceived: (l) => (recorded.headers = l) },
    }
    return { session, recorded }
  }

  it('denies every permission request and check', () => {
    const { session, recorded } = fakeSession()
    hardenSession(session, contentSecurityPolicy())
    for (const permission of ['media', 'geolocation', 'notifications', 'clipboard-read', 'openExternal']) {
      const answers: boolean[] = []
      recorded.request!(null, permission, (granted) => answers.push(granted))
      expect(answers, permission).toEqual([false])
      expect(recorded.check!(null, permission), permission).toBe(false)
    }
  })

  it("sets the app's CSP on every response, replacing a server's own policy", () => {
    const { session, recorded } = fakeSession()
    hardenSession(session, contentSecurityPolicy())
    let out: ResponseHeaders | undefined
    recorded.headers!(
      { responseHeaders: { 'content-security-policy': ['default-src *'], 'X-Other': ['1'] } },
      (r) => (out = r.responseHeaders),
    )
    expect(out).toEqual({ 'X-Other': ['1'], 'Content-Security-Policy': [contentSecurityPolicy()] })
    recorded.headers!({}, (r) => (out = r.responseHeaders))
    expect(out).toEqual({ 'Content-Security-Policy': [contentSecurityPolicy()] })
  })
})

describe('Content-Security-Policy', () => {
  it('the header policy allows no remote content and no inline or eval script', () => {
    expectStrictPolicy(contentSecurityPolicy())
    expectStrictPolicy(contentSecurityPolicy(['ws://127.0.0.1:4000', 'ws://localhost:4000']))
    expect(parseCsp(contentSecurityPolicy()).get('frame-ancestors')).toEqual(["'none'"])
  })

  it('the page carries the same strict policy as a meta tag (file:// loads have no headers)', () => {
    const html = readFileSync(join(findAppRoot(), 'src', 'renderer', 'index.html'), 'utf8')
    const meta = /<meta\s+http-equiv="Content-Security-Policy"\s+content="([^"]+)"/i.exec(html)
    expect(meta, 'index.html has no CSP meta tag').not.toBeNull()
    expectStrictPolicy(meta![1]!)
    expect(parseCsp(meta![1]!).get('script-src')).toEqual(["'self'"])
    // no WebSocket to any port of this machine: another local server is not the app's
    expect(parseCsp(meta![1]!).get('connect-src')).toEqual(["'self'"])
  })
})
