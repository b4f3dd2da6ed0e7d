import { hostname } from 'node:os'
import { join } from 'node:path'
import type { RunStore } from '../../engine/ports'
import { NasError } from '../../shared'
import { isSqliteError, openConnection, storageError, DB_FILE_NAME, type Db } from './connection'
import { DatasetsRepo } from './datasets-repo'
import { migrate } from './migrations'
import { createRunStore } from './run-store'
import { LEASE_MS, LEASE_RENEW_MS, RunsRepo, type RunOwner } from './runs-repo'
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
export { electronBindingFile, selectSqliteBinding, useSqliteBinding } from './native-binding'
export { LEASE_MS, LEASE_RENEW_MS, type RunOwner } from './runs-repo'
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
  /** Stops the lease heartbeat and closes the connection. */
  close(): void
}

/**
 * True when a run's owner still holds it. On this host the process table decides at once: a live pid other
 * than ours (pid reuse makes our own stale). Another host's pid means nothing here, so there its lease
 * decides: live until `leaseUntil` (epoch ms) has passed without the owner's heartbeat renewing it.
 */
export function isOwnerAlive(
  owner: RunOwner,
  leaseUntil: number | null = null,
  nowMs: number = Date.now(),
): boolean {
  if (owner.host !== hostname()) return leaseUntil !== null && leaseUntil > nowMs
  if (owner.pid === process.pid) return false
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
    isOwnerAlive?: (owner: RunOwner, leaseUntil: number | null) => boolean
    /** Lease length and heartbeat period in ms (defaults LEASE_MS, LEASE_RENEW_MS); tests shorten them. */
    leaseMs?: number
    leaseRenewMs?: number
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
    const runs = new RunsRepo(db, { leaseMs: opts.leaseMs ?? LEASE_MS })
    const trials = new TrialsRepo(db)
    const now = opts.now ?? (() => new Date().toISOString())
    const interruptedRunIds = runs.markInterrupted(opts.isOwnerAlive ?? isOwnerAlive, now())
    const owner: RunOwner = { pid: process.pid, host: hostname() }
    // The heartbeat: while this process owns queued or running runs, it keeps their lease from running out,
    // so a process on another host sharing this folder leaves them alone. It never keeps the process alive.
    const heartbeat = setInterval(() => {
      try {
        if (db.open) runs.renewLeases(owner)
      } catch {
        // A busy or failing database is reported by the next real write; the lease has room for a miss.
      }
    }, opts.leaseRenewMs ?? LEASE_RENEW_MS)
    heartbeat.unref()
    return {
      db,
      file: join(dataDir, DB_FILE_NAME),
      datasets,
      spaces,
      runs,
      trials,
      store: createRunStore(runs, trials, db, join(dataDir, DB_FILE_NAME)),
      owner,
      interruptedRunIds,
      close: () => {
        clearInterval(heartbeat)
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
