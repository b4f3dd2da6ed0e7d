import { accessSync, closeSync, constants, existsSync, mkdirSync, openSync, statSync } from 'node:fs'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { NasError } from '../../shared'
import { sqliteBinding } from './native-binding'

/** A better-sqlite3 connection. */
export type Db = Database.Database

/** File name of the app database inside the data dir. */
export const DB_FILE_NAME = 'nas-studio.sqlite'

/** How long a write waits for another process's lock before failing, in milliseconds. */
export const BUSY_TIMEOUT_MS = 5000

/** True for an error better-sqlite3 raised (its code starts with SQLITE_). */
export function isSqliteError(err: unknown): boolean {
  const code = (err as { code?: unknown })?.code
  return typeof code === 'string' && code.startsWith('SQLITE_')
}

/**
 * Maps a SQLite failure to NasError('storage_error') with a message a person can act on; `details.sqliteCode`
 * keeps the code. A NasError passes through unchanged.
 */
export function storageError(file: string, err: unknown): NasError {
  if (err instanceof NasError) return err
  const code = (err as { code?: unknown })?.code
  const raw = err instanceof Error ? err.message : String(err)
  const hints: Record<string, string> = {
    SQLITE_FULL: `The disk holding ${file} is full, so NAS Studio could not save. Free some disk space, then resume the run; everything saved before is intact.`,
    SQLITE_IOERR: `Reading or writing ${file} failed (a disk or file-system error). Check the disk, then resume the run; everything saved before is intact.`,
    SQLITE_NOTADB: `${file} is not a NAS Studio database (it is not an SQLite file). Move it away or choose another data folder; it was left untouched.`,
    SQLITE_CORRUPT: `${file} is damaged. Restore it from a backup or move it away; it was left untouched.`,
    SQLITE_BUSY: `${file} is locked by another program. Close other NAS Studio windows or commands and try again.`,
    SQLITE_LOCKED: `${file} is locked by another program. Close other NAS Studio windows or commands and try again.`,
    SQLITE_READONLY: `${file} is read-only. Give your user write permission to it and its folder, or choose another data folder.`,
    SQLITE_CANTOPEN: `${file} cannot be opened. Check that its folder exists and that you may write to it.`,
    SQLITE_PERM: `${file} cannot be opened: permission denied. Check the file's and folder's permissions.`,
  }
  const prefix = typeof code === 'string' ? Object.keys(hints).find((k) => code.startsWith(k)) : undefined
  const message = prefix ? hints[prefix]! : `The database ${file} failed: ${raw}`
  return new NasError('storage_error', message, { file, sqliteCode: typeof code === 'string' ? code : null })
}

/** Files up to this size are checked page by page when opened (a few hundred ms per 100 MiB). */
export const QUICK_CHECK_MAX_BYTES = 1024 * 1024 * 1024

/**
 * Throws NasError('storage_error') when a bounded `PRAGMA quick_check` finds damaged pages, before anything
 * is written: a page overwritten in the middle of the file leaves the header readable, so without this the
 * damage shows only later as SQLite's raw "database disk image is malformed" in the middle of a search.
 * Files over QUICK_CHECK_MAX_BYTES are not checked at open, to keep start-up quick.
 */
function assertIntact(db: Db, file: string): void {
  let size = 0
  try {
    size = statSync(file).size
  } catch {
    return // a new file: nothing to check
  }
  if (size > QUICK_CHECK_MAX_BYTES) return
  let result: unknown
  try {
    result = db.pragma('quick_check(1)', { simple: true })
  } catch (err) {
    result = err instanceof Error ? err.message : String(err)
  }
  if (result === 'ok') return
  throw new NasError(
    'storage_error',
    `The database ${file} is damaged: some of its pages cannot be read, so its runs and datasets cannot be trusted. NAS Studio did not change it. Restore it from a backup, or move it away (NAS Studio then starts with an empty one).`,
    { file, sqliteCode: 'SQLITE_CORRUPT' },
  )
}

/** Options of openConnection / openConnectionFile. */
export interface ConnectionOptions {
  /** How long a statement waits for another connection's lock before SQLITE_BUSY (default BUSY_TIMEOUT_MS). */
  busyTimeoutMs?: number
}

/**
 * Throws NasError('storage_error') when `path` exists but this process may not write to it: read-only
 * permissions, an immutable file (chattr +i, which even root cannot write) or a read-only mount. Checked
 * before opening, because SQLite would otherwise open such a database read-only without a word and only
 * fail at the first write.
 */
function assertWritable(path: string, what: 'folder' | 'file'): void {
  if (!existsSync(path)) return
  try {
    accessSync(path, constants.W_OK)
  } catch (err) {
    const why = (err as NodeJS.ErrnoException).code ?? 'EACCES'
    throw new NasError(
      'storage_error',
      what === 'folder'
        ? `The data folder ${path} is read-only (${why}), so NAS Studio cannot save anything there. Give your user write permission to it, or choose another data folder.`
        : `The database ${path} is read-only (${why}), so NAS Studio cannot save anything. Give your user write permission to it, or choose another data folder; it was left untouched.`,
      { path, errno: why },
    )
  }
}

/**
 * Opens (creating if absent) <dataDir>/nas-studio.sqlite with WAL, foreign keys on, a busy timeout and
 * synchronous=FULL, so every committed write survives a crash or power loss (the RunStore contract).
 * Throws NasError('storage_error') for a folder it cannot create or write to, or a file that is not a
 * usable (writable) database; such a file is never overwritten or deleted.
 */
export function openConnection(dataDir: string, opts: ConnectionOptions = {}): Db {
  try {
    // Datasets, models, the database and settings live here: a folder this program creates is for its user
    // alone (an existing folder keeps the permissions its owner gave it).
    mkdirSync(dataDir, { recursive: true, mode: 0o700 })
  } catch (err) {
    throw new NasError(
      'storage_error',
      `Could not create the data folder ${dataDir}: ${(err as Error).message}`,
      {
        dataDir,
      },
    )
  }
  // SQLite writes <file>-wal and -shm next to the database, so the folder must be writable too
  assertWritable(dataDir, 'folder')
  return openConnectionFile(join(dataDir, DB_FILE_NAME), opts)
}

/** Opens a specific database file with the app's pragmas (see openConnection). */
export function openConnectionFile(file: string, opts: ConnectionOptions = {}): Db {
  const timeout = opts.busyTimeoutMs ?? BUSY_TIMEOUT_MS
  assertWritable(file, 'file')
  // A new database is created readable by its user alone; SQLite gives its -wal and -shm files the same
  // permissions.
  if (!existsSync(file)) {
    try {
      closeSync(openSync(file, 'wx', 0o600))
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw storageError(file, err)
    }
  }
  let db: Db | undefined
  try {
    const nativeBinding = sqliteBinding()
    db = new Database(file, { timeout, ...(nativeBinding ? { nativeBinding } : {}) })
    db.pragma(`busy_timeout = ${timeout}`)
    // Reading the schema first makes a non-database file fail here, before any write could touch it.
    db.prepare('SELECT count(*) FROM sqlite_master').get()
    assertIntact(db, file)
    const mode = db.pragma('journal_mode = WAL', { simple: true })
    if (String(mode).toLowerCase() !== 'wal') {
      throw Object.assign(new Error(`journal_mode is ${String(mode)}, expected wal`), {
        code: 'SQLITE_READONLY',
      })
    }
    db.pragma('foreign_keys = ON')
    db.pragma('synchronous = FULL')
    return db
  } catch (err) {
    try {
      db?.close()
    } catch {
      // Closing a half-open handle can fail too; the original error is the one to report.
    }
    throw err instanceof NasError ? err : storageError(file, err)
  }
}
