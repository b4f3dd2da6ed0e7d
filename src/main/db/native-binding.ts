import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { NasError } from '../../shared'

/**
 * Which compiled better-sqlite3 binding this process must load. Node (the CLI, web mode, tests) uses the one
 * `npm ci` built in node_modules; Electron's main process has another ABI and loads the one `npm start`
 * prepared in a folder of its own (scripts/electron-binding.mjs names the same folder).
 */
export function electronBindingFile(
  root: string,
  electronVersion: string,
  platform: string,
  arch: string,
): string {
  return join(
    root,
    'out',
    'native',
    `better-sqlite3-electron-${electronVersion}-${platform}-${arch}`,
    'better_sqlite3.node',
  )
}

/** What selectSqliteBinding looks at (process.versions, platform and arch; a file check for tests). */
export interface BindingContext {
  root: string
  versions: Partial<Record<string, string>>
  platform: string
  arch: string
  exists?: (path: string) => boolean
}

/**
 * The `nativeBinding` path for better-sqlite3: undefined under plain Node (the default build); under
 * Electron the binding prepared for this Electron version. NasError('storage_error') in plain words when it
 * has not been prepared.
 */
export function selectSqliteBinding(ctx: BindingContext): string | undefined {
  const electron = ctx.versions.electron
  if (!electron) return undefined
  const file = electronBindingFile(ctx.root, electron, ctx.platform, ctx.arch)
  if ((ctx.exists ?? existsSync)(file)) return file
  throw new NasError(
    'storage_error',
    `The database library for Electron ${electron} has not been prepared yet. Start NAS Studio with "npm start": on first start it fetches or builds it into out/native/ (this needs the network or a C++ compiler). Web mode works without it: "npm run cli -- serve".`,
    { file },
  )
}

let configured: string | undefined

/** Sets the binding every later connection loads (the Electron entry calls it once, before opening). */
export function useSqliteBinding(file: string | undefined): void {
  configured = file
}

/** The binding set by useSqliteBinding, if any. */
export function sqliteBinding(): string | undefined {
  return configured
}
