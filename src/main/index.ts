import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { app, BrowserWindow, dialog, ipcMain, session, shell } from 'electron'
import { openAppCore, type AppCore } from './app'
import { selectSqliteBinding, useSqliteBinding } from './db'
import { findAppRoot } from './paths'
import { createTrustedSenderCheck, forwardEvents, registerIpc } from './ipc'
import { createConsoleLogger } from './logger'
import { contentSecurityPolicy } from './server/csp'
import { createMainWindow, guardWebContents, hardenSession, isAppUrl, type AppLocation } from './window'

/**
 * The Electron shell: one locked-down window showing the built UI, the contract served over IPC, and the
 * database in the user's app-data folder.
 */
const logger = createConsoleLogger('info')
const devServerUrl = process.env.ELECTRON_RENDERER_URL
let core: AppCore | null = null
/** Set once the renderer's location is known; until then no navigation counts as the app's. */
let appLocation: AppLocation | null = null

async function start(): Promise<void> {
  const dataDir = app.getPath('userData')
  // Electron's ABI differs from Node's: open the database through the binding prepared for this Electron.
  useSqliteBinding(
    selectSqliteBinding({
      root: findAppRoot(),
      versions: process.versions,
      platform: process.platform,
      arch: process.arch,
    }),
  )
  core = await openAppCore({
    dataDir,
    mode: 'electron',
    modeReason: 'Desktop app (Electron window)',
    logger,
    showInFolder: (file) => shell.showItemInFolder(file),
  })
  const { paths, services } = core
  const rendererIndex = join(paths.rendererDir, 'index.html')
  appLocation = {
    rendererIndexUrl: pathToFileURL(rendererIndex).href,
    ...(devServerUrl ? { devServerUrl } : {}),
  }

  const isTrustedSender = createTrustedSenderCheck({
    rendererDir: paths.rendererDir,
    ...(devServerUrl ? { devServerUrl } : {}),
  })
  registerIpc(ipcMain, services.handlers, { isTrustedSender })

  // The UI needs no camera, notifications, geolocation...: deny every permission; one strict CSP.
  hardenSession(session.defaultSession, contentSecurityPolicy())

  const win = createMainWindow(BrowserWindow, join(paths.root, 'out', 'preload', 'index.cjs'))
  const stopForwarding = forwardEvents(services.events, (channel, message) => {
    if (!win.isDestroyed()) win.webContents.send(channel, message)
  })
  win.on('closed', stopForwarding)
  win.once('ready-to-show', () => win.show())

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
    return `The database library in out/native/ does not match this Electron. Delete the out/native folder and start NAS Studio again with "npm start" (it prepares the library again), or use web mode: "npm run cli -- serve".\n\n${message}`
  }
  return message
}

// Every web contents (the window, and any a bug or exploit might create) only ever shows the app: no
// navigation elsewhere, no new windows (http(s) links open in the user's browser), no <webview>.
app.on('web-contents-created', (_event, contents) => {
  guardWebContents(contents, {
    isAppUrl: (url) => appLocation !== null && isAppUrl(url, appLocation),
    openExternal: (url) => void shell.openExternal(url),
  })
})

// Every renderer runs in Chromium's sandbox, whatever options a web contents was created with.
app.enableSandbox()

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
