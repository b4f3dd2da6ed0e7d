import * as engine from '../engine'
import type { Logger } from '../engine/ports'
import type { AppInfo } from '../shared'
import { openAppDb, type AppDb } from './db'
import { appPaths, appVersion, type AppPaths } from './paths'
import { createServices, type Services } from './services'

/** Everything a shell (Electron window, web server, CLI) needs: paths, the open database and services. */
export interface AppCore {
  paths: AppPaths
  dataDir: string
  db: AppDb
  services: Services
  /** Stops runs and workers, then closes the database. Safe to call twice. */
  close(): Promise<void>
}

/**
 * The composition root shared by every shell: opens the database in `dataDir` (marking runs a previous
 * process left behind as interrupted) and composes the engine and the database into the services.
 */
export async function openAppCore(opts: {
  dataDir: string
  mode: AppInfo['mode']
  modeReason: string
  logger: Logger
  poolSize?: number
  paths?: AppPaths
  /** Opens a folder in the desktop's file manager (the desktop app passes Electron's shell). */
  showInFolder?: (path: string) => void
}): Promise<AppCore> {
  const paths = opts.paths ?? appPaths()
  const db = openAppDb(opts.dataDir)
  if (db.interruptedRunIds.length > 0) {
    opts.logger.warn(
      `Marked ${db.interruptedRunIds.length} run(s) left unfinished by an earlier session as interrupted`,
    )
  }
  let services: Services
  try {
    services = await createServices({
      db,
      engine,
      dataDir: opts.dataDir,
      resourcesDir: paths.resourcesDir,
      mode: opts.mode,
      modeReason: opts.modeReason,
      appName: 'NAS Studio',
      version: appVersion(paths.root),
      logger: opts.logger,
      ...(opts.poolSize !== undefined ? { poolSize: opts.poolSize } : {}),
      ...(opts.showInFolder ? { showInFolder: opts.showInFolder } : {}),
    })
  } catch (err) {
    db.close()
    throw err
  }
  let closing: Promise<void> | null = null
  return {
    paths,
    dataDir: opts.dataDir,
    db,
    services,
    close: () =>
      (closing ??= (async () => {
        await services.close()
        db.close()
      })()),
  }
}
