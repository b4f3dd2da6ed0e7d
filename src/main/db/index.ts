import { hostname } from 'node:os'
import { join } from 'node:path'
import type { RunStore } from '../../engine/ports'
import { NasError } from '../../shared'
import { isSqliteError, openConnection, storageError, DB_FILE_NAME, type Db } from './connection'
import { DatasetsRepo } from './datasets-repo'
import { migrate } from './migrations'
import { createRunStore } from './run-store'
import { RunsRepo, type RunOwner } from './runs-repo'
import { SpacesRepo } from './spaces-repo'
import { TrialsRepo } from './trials-repo'

export {
  DB_FILE_NAME,
  isSqliteError,
  openConnection,
  openConnectionFile,
  storageError,
  type Db,
} from './connection'
export { MIGRATIONS, SCHEMA_VERSION, migrate } from './migrations'
export type { RunOwner } from './runs-repo'
export { DatasetsRepo, RunsRepo, SpacesRepo, TrialsRepo }

/** The open app database: connection, repositories and the engine's RunStore over them. */
export interface AppDb {
  db: Db
  /** Absolute path of the SQLite file. */
  file: string
  datasets: DatasetsRepo
  spaces: SpacesRepo
  runs: RunsRepo
  trials: TrialsRepo
  store: RunStore
  /** This process, recorded as the owner of the runs it starts. */
  owner: RunOwner
  /** Runs this open marked 'interrupted' (left running by a process that stopped). */
  interruptedRunIds: string[]
  close(): void
}

/** True when `owner` is a live process on this machine other than this one (pid reuse makes self stale). */
export function isOwnerAlive(owner: RunOwner): boolean {
  if (owner.host !== hostname() || owner.pid === process.pid) return false
  try {
    process.kill(owner.pid, 0)
    return true
  } catch (err) {
    // EPERM: the process exists but belongs to another user.
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/**
 * Opens <dataDir>/nas-studio.sqlite, migrates it, and marks runs a previous process left 'queued' or
 * 'running' as 'interrupted'. Throws NasError('storage_error') when the file cannot be used.
 */
export function openAppDb(
  dataDir: string,
  opts: {
    now?: () => string
    isOwnerAlive?: (owner: RunOwner) => boolean
    /** Lock wait before SQLITE_BUSY, in ms (default BUSY_TIMEOUT_MS); tests shorten it. */
    busyTimeoutMs?: number
  } = {},
): AppDb {
  const db = openConnection(
    dataDir,
    opts.busyTimeoutMs !== undefined ? { busyTimeoutMs: opts.busyTimeoutMs } : {},
  )
  try {
    migrate(db)
    const datasets = new DatasetsRepo(db)
    const spaces = new SpacesRepo(db)
    const runs = new RunsRepo(db)
    const trials = new TrialsRepo(db)
    const now = opts.now ?? (() => new Date().toISOString())
    const interruptedRunIds = runs.markInterrupted(opts.isOwnerAlive ?? isOwnerAlive, now())
    return {
      db,
      file: join(dataDir, DB_FILE_NAME),
      datasets,
      spaces,
      runs,
      trials,
      store: createRunStore(runs, trials, db, join(dataDir, DB_FILE_NAME)),
      owner: { pid: process.pid, host: hostname() },
      interruptedRunIds,
      close: () => {
        if (db.open) db.close()
      },
    }
  } catch (err) {
    db.close()
    throw err instanceof NasError
      ? err
      : isSqliteError(err)
        ? storageError(join(dataDir, DB_FILE_NAME), err)
        : new NasError(
            'storage_error',
            `Could not prepare the database in ${dataDir}: ${(err as Error).message}`,
            { dataDir },
          )
  }
}
