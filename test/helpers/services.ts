import { openAppDb, type AppDb } from '../../src/main/db'
import { createServices, type EngineApi, type Services } from '../../src/main/services'
import { findAppRoot } from '../../src/main/paths'
import { join } from 'node:path'
import { makeTempDir } from './temp-dir'

/** Real services over a real SQLite file in a temp folder; `engine` defaults to the caller's choice. */
export async function makeServices(
  engine: EngineApi,
  opts: { mode?: 'electron' | 'web' } = {},
): Promise<{
  services: Services
  db: AppDb
  dataDir: string
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
    poolSize: 1,
  })
  return {
    services,
    db,
    dataDir: tmp.dir,
    dispose: async () => {
      await services.close()
      db.close()
      tmp.cleanup()
    },
  }
}
