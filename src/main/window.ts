import type { BrowserWindowConstructorOptions } from 'electron'

/**
 * The Electron security settings of the app, as plain functions and objects so unit tests can check them
 * without an Electron binary (src/main/index.ts applies them). See docs/security.md for the checklist.
 */

/** Electron's BrowserWindow class, or a test's stand-in that records the options. */
export type BrowserWindowClass<W> = new (options: BrowserWindowConstructorOptions) => W

/**
 * Creates the one app window. Node stays out of the page (contextIsolation, sandbox, no nodeIntegration
 * anywhere), web security stays on, and features the UI never needs (webview, insecure content,
 * experimental features, middle-click "auxclick" navigation, drag-and-drop navigation) are off. The options
 * are written out at the `new BrowserWindow` call so that electronegativity can check them.
 */
export function createMainWindow<W>(BrowserWindow: BrowserWindowClass<W>, preloadPath: string): W {
  return new BrowserWindow({
    width: 1280,
    height: 820,
    show: false,
    title: 'NAS Studio',
    webPreferences: {
      preload: preloadPath,
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
    },
  })
}

/** Where the app's own page lives: the built index.html, or the dev server in development. */
export interface AppLocation {
  /** file:// URL of the built renderer's index.html. */
  rendererIndexUrl: string
  /** The electron-vite dev server (development only). */
  devServerUrl?: string
}

/**
 * True when `raw` is the app's own page: exactly the built index.html (any query or hash), or, in
 * development, a page of the dev server's origin. Anything unparsable is not.
 */
export function isAppUrl(raw: string, where: AppLocation): boolean {
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    return false
  }
  if (where.devServerUrl) return url.origin === new URL(where.devServerUrl).origin
  return url.protocol === 'file:' && `file://${url.host}${url.pathname}` === where.rendererIndexUrl
}

/**
 * The URL to hand to the user's browser when the page asks for a new window, or null. Only plain
 * http(s) links with no credentials go out: shell.openExternal with file:, smb:, custom schemes or
 * javascript: could run programs or leak credentials.
 */
export function externalUrlToOpen(raw: string): string | null {
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    return null
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return null
  if (url.username !== '' || url.password !== '') return null
  return url.href
}

/** An Electron event whose default action can be cancelled. */
export interface PreventableEvent {
  preventDefault(): void
}

/** The part of an Electron WebContents guardWebContents uses (tests pass a recording fake). */
export interface WebContentsLike {
  on(
    event: 'will-navigate' | 'will-redirect',
    listener: (event: PreventableEvent, url: string) => void,
  ): unknown
  on(event: 'will-attach-webview', listener: (event: PreventableEvent) => void): unknown
  on(event: 'will-frame-navigate', listener: (event: PreventableEvent & { url: string }) => void): unknown
  setWindowOpenHandler(handler: (details: { url: string }) => { action: 'deny' }): void
}

/**
 * Locks one web contents to the app: navigation and redirects away from the app's page, in any frame, are
 * cancelled,
 * every new window is denied (an http(s) link opens in the user's browser instead), and <webview>
 * attachment is refused. Applied to every web contents Electron creates.
 */
export function guardWebContents(
  contents: WebContentsLike,
  opts: { isAppUrl: (url: string) => boolean; openExternal: (url: string) => void },
): void {
  const blockForeign = (event: PreventableEvent, url: string): void => {
    if (!opts.isAppUrl(url)) event.preventDefault()
  }
  contents.on('will-navigate', blockForeign)
  contents.on('will-redirect', blockForeign)
  // will-navigate covers the main frame only; a sub-frame (an iframe an injection might add) navigates
  // through will-frame-navigate.
  contents.on('will-frame-navigate', (event) => blockForeign(event, event.url))
  contents.on('will-attach-webview', (event) => event.preventDefault())
  contents.setWindowOpenHandler(({ url }) => {
    const external = externalUrlToOpen(url)
    if (external !== null) opts.openExternal(external)
    return { action: 'deny' }
  })
}

/** Response headers as Electron's webRequest passes them. */
export type ResponseHeaders = Record<string, string | string[]>

/** The part of an Electron Session hardenSession uses (tests pass a recording fake). */
export interface SessionLike {
  setPermissionRequestHandler(
    handler: (webContents: unknown, permission: string, callback: (granted: boolean) => void) => void,
  ): void
  setPermissionCheckHandler(handler: (webContents: unknown, permission: string) => boolean): void
  webRequest: {
    onHeadersReceived(
      listener: (
        details: { responseHeaders?: ResponseHeaders },
        callback: (response: { responseHeaders: ResponseHeaders }) => void,
      ) => void,
    ): void
  }
}

/**
 * Hardens the window's session: every permission request (camera, notifications, geolocation...) and
 * permission check is denied, since the UI needs none, and every response gets `csp` as its
 * Content-Security-Policy, replacing any policy a server sent (the built page also carries it as a meta tag,
 * because file:// loads have no headers).
 */
export function hardenSession(session: SessionLike, csp: string): void {
  session.setPermissionRequestHandler((_webContents, _permission, callback) => callback(false))
  session.setPermissionCheckHandler(() => false)
  session.webRequest.onHeadersReceived((details, callback) => {
    const headers: ResponseHeaders = {}
    for (const [name, value] of Object.entries(details.responseHeaders ?? {})) {
      if (name.toLowerCase() !== 'content-security-policy') headers[name] = value
    }
    headers['Content-Security-Policy'] = [csp]
    callback({ responseHeaders: headers })
  })
}
