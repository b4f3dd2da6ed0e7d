import { existsSync, readFileSync } from 'node:fs'
import { homedir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const APP_PACKAGE_NAME = 'nas-studio'

/**
 * The app root: the nearest folder above `from` (default: this module) whose package.json is named
 * "nas-studio". Works from src/ (tests, tsx) and from the bundled out/main/*.js alike.
 */
export function findAppRoot(from: string = fileURLToPath(import.meta.url)): string {
  let dir = resolve(from)
  for (;;) {
    const pkgPath = join(dir, 'package.json')
    if (existsSync(pkgPath)) {
      try {
        const pkg = JSON.parse(readFileSync(pkgPath, 'utf8')) as { name?: unknown }
        if (pkg.name === APP_PACKAGE_NAME) return dir
      } catch {
        // An unreadable package.json on the way up is not ours; keep walking.
      }
    }
    const parent = dirname(dir)
    if (parent === dir) {
      throw new Error(
        `Could not find the NAS Studio folder (a package.json named "${APP_PACKAGE_NAME}") above ${from}`,
      )
    }
    dir = parent
  }
}

/** Folders the app reads from and writes to. */
export interface AppPaths {
  root: string
  /** <root>/resources: presets and the bundled sample dataset. */
  resourcesDir: string
  /** <root>/out/renderer: the built UI. */
  rendererDir: string
}

/** Resolves the app's fixed folders from its root. */
export function appPaths(root: string = findAppRoot()): AppPaths {
  return { root, resourcesDir: join(root, 'resources'), rendererDir: join(root, 'out', 'renderer') }
}

/**
 * Where CLI and web mode keep their SQLite database: `override` (--data-dir), else $NAS_STUDIO_DATA_DIR,
 * else $XDG_DATA_HOME/nas-studio, else ~/.local/share/nas-studio. (The Electron app uses userData instead.)
 */
export function defaultDataDir(override?: string, env: NodeJS.ProcessEnv = process.env): string {
  if (override) return resolve(override)
  if (env.NAS_STUDIO_DATA_DIR) return resolve(env.NAS_STUDIO_DATA_DIR)
  if (env.XDG_DATA_HOME) return join(resolve(env.XDG_DATA_HOME), 'nas-studio')
  return join(homedir(), '.local', 'share', 'nas-studio')
}

/** The app's version from its package.json ("0.0.0" if unreadable). */
export function appVersion(root: string = findAppRoot()): string {
  try {
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version?: unknown }
    return typeof pkg.version === 'string' ? pkg.version : '0.0.0'
  } catch {
    return '0.0.0'
  }
}
