import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { NasError } from '../../shared'

/** A better-sqlite3 connection. */
export type Db = Database.Database

/** File name of the app database inside the data dir. */
export const DB_FILE_NAME = 'nas-studio.sqlite'

/** How long a write waits for another process's lock before failing, in milliseconds. */
export const BUSY_TIMEOUT_MS = 5000

/** Maps a SQLite failure to a message a person can act on. */
function storageError(file: string, err: unknown): NasError {
  const code = (err as { code?: unknown })?.code
  const raw = err instanceof Error ? err.message : String(err)
  const hints: Record<string, string> = {
    SQLITE_NOTADB: `${file} is not a NAS Studio database (it is not an SQLite file). Move it away or choose another data folder; it was left untouched.`,
    SQLITE_CORRUPT: `${file} is damaged. Restore it from a backup or move it away; it was left untouched.`,
    SQLITE_BUSY: `${file} is locked by another program. Close other NAS Studio windows or commands and try again.`,
    SQLITE_LOCKED: `${file} is locked by another program. Close other NAS Studio windows or commands and try again.`,
    SQLITE_READONLY: `${file} is read-only. Give your user write permission to it and its folder, or choose another data folder.`,
    SQLITE_CANTOPEN: `${file} cannot be opened. Check that its folder exists and that you may write to it.`,
    SQLITE_PERM: `${file} cannot be opened: permission denied. Check the file's and folder's permissions.`,
  }
  const prefix = typeof code === 'string' ? Object.keys(hints).find((k) => code.startsWith(k)) : undefined
  const message = prefix ? hints[prefix]! : `Could not open the database ${file}: ${raw}`
  return new NasError('storage_error', message, { file, sqliteCode: typeof code === 'string' ? code : null })
}

/**
 * Opens (creating if absent) <dataDir>/nas-studio.sqlite with WAL, foreign keys on, a busy timeout and
 * synchronous=FULL, so every committed write survives a crash or power loss (the RunStore contract).
 * Throws NasError('storage_error') for a folder it cannot create or a file that is not a usable database;
 * such a file is never overwritten or deleted.
 */
export function openConnection(dataDir: string): Db {
  try {
    mkdirSync(dataDir, { recursive: true })
  } catch (err) {
    throw new NasError(
      'storage_error',
      `Could not create the data folder ${dataDir}: ${(err as Error).message}`,
      {
        dataDir,
      },
    )
  }
  return openConnectionFile(join(dataDir, DB_FILE_NAME))
}

/** Opens a specific database file with the app's pragmas (see openConnection). */
export function openConnectionFile(file: string): Db {
  let db: Db | undefined
  try {
    db = new Database(file, { timeout: BUSY_TIMEOUT_MS })
    db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`)
    // Reading the schema first makes a non-database file fail here, before any write could touch it.
    db.prepare('SELECT count(*) FROM sqlite_master').get()
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
