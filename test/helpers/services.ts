import { openAppDb, type AppDb } from '../../src/main/db'
import { createServices, type EngineApi, type Services } from '../../src/main/services'
import { findAppRoot } from '../../src/main/paths'
import { join } from 'node:path'
import { makeTempDir } from './temp-dir'

/**
 * Real services over a real SQLite file in a temp folder; `engine` defaults to the caller's choice. `close`
 * shuts services and database but keeps the folder (to reopen the file); `dispose` also removes the folder.
 */
export async function makeServices(
  engine: EngineApi,
  opts: { mode?: 'electron' | 'web'; poolSize?: number } = {},
): Promise<{
  services: Services
  db: AppDb
  dataDir: string
  close: () => Promise<void>
  dispose: () => Promise<void>
}> {
  const tmp = makeTempDir()
  const db = openAppDb(tmp.dir)
  const services = await createServices({
    db,
    engine,
    dataDir: tmp.dir,
    resourcesDir: join(findAppRoot(), 'resources'),
    mode: opts.mode ?? 'web',
    modeReason: 'test',
    version: '0.0.0-test',
    poolSize: opts.poolSize ?? 1,
  })
  let open = true
  const close = async (): Promise<void> => {
    if (!open) return
    open = false
    await services.close()
    db.close()
  }
  return {
    services,
    db,
    dataDir: tmp.dir,
    close,
    dispose: async () => {
      await close()
      tmp.cleanup()
    },
  }
}
