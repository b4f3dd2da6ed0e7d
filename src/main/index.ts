import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { app, BrowserWindow, dialog, ipcMain, session, shell } from 'electron'
import { openAppCore, type AppCore } from './app'
import { createTrustedSenderCheck, forwardEvents, registerIpc } from './ipc'
import { createConsoleLogger } from './logger'
import { contentSecurityPolicy } from './server/csp'

/**
 * The Electron shell: one locked-down window showing the built UI, the contract served over IPC, and the
 * database in the user's app-data folder.
 */
const logger = createConsoleLogger('info')
const devServerUrl = process.env.ELECTRON_RENDERER_URL
let core: AppCore | null = null

function isAppUrl(raw: string, rendererIndexUrl: string): boolean {
  try {
    const url = new URL(raw)
    if (devServerUrl) return url.origin === new URL(devServerUrl).origin
    return url.protocol === 'file:' && `file://${url.host}${url.pathname}` === rendererIndexUrl
  } catch {
    return false
  }
}

async function start(): Promise<void> {
  const dataDir = app.getPath('userData')
  core = await openAppCore({ dataDir, mode: 'electron', modeReason: 'Desktop app (Electron window)', logger })
  const { paths, services } = core
  const rendererIndex = join(paths.rendererDir, 'index.html')
  const rendererIndexUrl = pathToFileURL(rendererIndex).href

  const isTrustedSender = createTrustedSenderCheck({
    rendererDir: paths.rendererDir,
    ...(devServerUrl ? { devServerUrl } : {}),
  })
  registerIpc(ipcMain, services.handlers, { isTrustedSender })

  // The UI needs no camera, notifications, geolocation...: deny every permission request.
  session.defaultSession.setPermissionRequestHandler((_wc, _permission, callback) => callback(false))
  session.defaultSession.setPermissionCheckHandler(() => false)
  session.defaultSession.webRequest.onHeadersReceived((details, callback) => {
    callback({
      responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [contentSecurityPolicy()] },
    })
  })

  const win = new BrowserWindow({
    width: 1280,
    height: 820,
    show: false,
    title: 'NAS Studio',
    webPreferences: {
      preload: join(paths.root, 'out', 'preload', 'index.cjs'),
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      webSecurity: true,
    },
  })
  const stopForwarding = forwardEvents(services.events, (channel, message) => {
    if (!win.isDestroyed()) win.webContents.send(channel, message)
  })
  win.on('closed', stopForwarding)
  win.once('ready-to-show', () => win.show())

  // The window only ever shows the app; links to elsewhere open in the user's browser instead.
  win.webContents.on('will-navigate', (event, url) => {
    if (!isAppUrl(url, rendererIndexUrl)) event.preventDefault()
  })
  win.webContents.setWindowOpenHandler(({ url }) => {
    if (/^https?:\/\//.test(url)) void shell.openExternal(url)
    return { action: 'deny' }
  })

  const info = await services.handlers['app.info']({})
  logger.info(`Compute backend: ${info.backend.name} on ${info.backend.device} (${info.backend.detail})`)
  logger.info('Mode: electron')
  logger.info(`Data dir: ${dataDir}`)

  if (devServerUrl) await win.loadURL(devServerUrl)
  else await win.loadFile(rendererIndex)
}

function explain(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err)
  if (/NODE_MODULE_VERSION|was compiled against a different Node\.js version/.test(message)) {
    return `better-sqlite3 is built for Node.js, not for Electron. Run "npx @electron/rebuild -f -w better-sqlite3" (and "npm rebuild better-sqlite3" before using the command line again), or use web mode: "npm run cli -- serve".\n\n${message}`
  }
  return message
}

app.on('web-contents-created', (_event, contents) => {
  contents.on('will-attach-webview', (event) => event.preventDefault())
})

app.on('window-all-closed', () => app.quit())

let quitting = false
app.on('before-quit', (event) => {
  if (quitting || !core) return
  // Let running searches stop and the database close cleanly before the process exits.
  event.preventDefault()
  quitting = true
  void core.close().finally(() => app.quit())
})

app
  .whenReady()
  .then(start)
  .catch((err: unknown) => {
    const message = explain(err)
    logger.error(`NAS Studio could not start: ${message}`)
    dialog.showErrorBox('NAS Studio could not start', message)
    app.exit(1)
  })
