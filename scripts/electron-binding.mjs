// better-sqlite3 for Electron's ABI, kept apart from the Node build that the CLI, web mode and the tests use.
//
// `npm ci` compiles (or fetches) better-sqlite3 for Node. Electron's main process has another ABI
// (NODE_MODULE_VERSION), so on first start `npm start` prepares a second binding in a folder of its own,
// out/native/better-sqlite3-electron-<version>-<platform>-<arch>/better_sqlite3.node, and the Electron main
// process opens the database with better-sqlite3's `nativeBinding` option pointing at it. The Node build in
// node_modules is never touched. src/main/db/native-binding.ts names the same folder.
import { spawnSync } from 'node:child_process'
import { cpSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'

/** The folder holding the Electron binding for one Electron version, platform and CPU. */
export function electronBindingDir(root, electronVersion, platform, arch) {
  return join(root, 'out', 'native', `better-sqlite3-electron-${electronVersion}-${platform}-${arch}`)
}

/** The binding file inside electronBindingDir. */
export const BINDING_FILE = 'better_sqlite3.node'

/** The Electron version installed in `root`'s node_modules, or null. */
export function installedElectronVersion(root) {
  try {
    return JSON.parse(readFileSync(join(root, 'node_modules', 'electron', 'package.json'), 'utf8')).version
  } catch {
    return null
  }
}

/** Runs a command; true when it exited 0. */
function defaultRun(command, args, cwd) {
  const r = spawnSync(command, args, { cwd, stdio: 'inherit', shell: process.platform === 'win32' })
  return r.status === 0
}

/** npm's own node-gyp (npm ships it), when this runs under npm; else null. */
function npmNodeGyp() {
  const npmCli = process.env.npm_execpath
  if (!npmCli) return null
  const gyp = join(dirname(npmCli), '..', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js')
  return existsSync(gyp) ? gyp : null
}

/** better-sqlite3's own downloader of published binaries, or null. */
function prebuildInstall(root) {
  try {
    return createRequire(join(root, 'node_modules', 'better-sqlite3', 'package.json')).resolve(
      'prebuild-install/bin.js',
    )
  } catch {
    return null
  }
}

/**
 * Makes sure the Electron binding exists; returns { file } or { error } (why it could not be prepared).
 * Works on a copy of node_modules/better-sqlite3's sources in out/native/.work, so a failure leaves the
 * Node build alone: first prebuild-install (better-sqlite3's own downloader: the published binary for this
 * Electron), then a compile against Electron's headers with npm's node-gyp.
 */
export function prepareElectronBinding({
  root,
  electronVersion = installedElectronVersion(root),
  platform = process.platform,
  arch = process.arch,
  run = defaultRun,
  log = (line) => console.log(line),
  nodeGyp = npmNodeGyp(),
  prebuild = prebuildInstall(root),
}) {
  if (!electronVersion) return { error: 'Electron is not installed' }
  const dir = electronBindingDir(root, electronVersion, platform, arch)
  const file = join(dir, BINDING_FILE)
  if (existsSync(file)) return { file }
  const source = join(root, 'node_modules', 'better-sqlite3')
  if (!existsSync(join(source, 'package.json'))) return { error: 'better-sqlite3 is not installed' }
  const work = join(root, 'out', 'native', '.work', `better-sqlite3-${electronVersion}-${platform}-${arch}`)
  rmSync(work, { recursive: true, force: true })
  mkdirSync(work, { recursive: true })
  for (const part of ['package.json', 'binding.gyp', 'src', 'deps', 'lib'])
    if (existsSync(join(source, part))) cpSync(join(source, part), join(work, part), { recursive: true })
  log(`Preparing the database library for Electron ${electronVersion} (first start only)...`)
  const built = join(work, 'build', 'Release', BINDING_FILE)
  const target = [
    '--runtime',
    'electron',
    '--target',
    electronVersion,
    '--arch',
    arch,
    '--platform',
    platform,
  ]
  const attempts = []
  if (prebuild) attempts.push(['prebuild-install', [prebuild, ...target]])
  if (nodeGyp)
    attempts.push([
      'node-gyp',
      [
        nodeGyp,
        'rebuild',
        '--release',
        `--target=${electronVersion}`,
        `--arch=${arch}`,
        '--runtime=electron',
        '--dist-url=https://electronjs.org/headers',
      ],
    ])
  for (const [name, args] of attempts) {
    if (run(process.execPath, args, work) && existsSync(built)) {
      mkdirSync(dir, { recursive: true })
      renameSync(built, file)
      rmSync(work, { recursive: true, force: true })
      log(`Database library for Electron ready (${name}).`)
      return { file }
    }
  }
  rmSync(work, { recursive: true, force: true })
  return {
    error:
      attempts.length === 0
        ? 'no way to fetch or build it was found (run "npm start" so npm\'s node-gyp can be used)'
        : `neither ${attempts.map(([n]) => n).join(' nor ')} could fetch or build it (no network, or no C++ compiler)`,
  }
}
