// `npm start`: builds the app when needed, then opens the Electron window if Electron can run here, and
// otherwise explains why and serves web mode in the foreground (open the printed URL in a browser).
//
// Electron and plain Node need better-sqlite3 compiled for different ABIs. The install builds it for
// Node (CLI, tests, web mode); before the first window this script fetches or builds a second copy for
// Electron into out/native/ (scripts/electron-binding.mjs), which the Electron main process loads through
// better-sqlite3's `nativeBinding` option. If that or the window fails, this script falls back to web mode.
import { spawn, spawnSync } from 'node:child_process'
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { prepareElectronBinding } from './electron-binding.mjs'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const outputs = [
  'out/main/index.js',
  'out/main/cli.js',
  'out/preload/index.cjs',
  'out/renderer/index.html',
].map((p) => join(root, p))
const forceWeb = process.argv.includes('--web') || process.env.NAS_STUDIO_WEB === '1'
const passThrough = process.argv.slice(2).filter((a) => a !== '--web')

/** Newest modification time (ms) of any file under `dir`, 0 if none. */
function newestMtime(dir) {
  if (!existsSync(dir)) return 0
  let newest = 0
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name)
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs)
  }
  return newest
}

function needsBuild() {
  if (!outputs.every((p) => existsSync(p))) return 'the app has not been built yet'
  const builtAt = Math.min(...outputs.map((p) => statSync(p).mtimeMs))
  return newestMtime(join(root, 'src')) > builtAt ? 'the sources changed since the last build' : null
}

/** Why Electron cannot start here, or null if it can. Never requires the electron package: that downloads. */
function electronUnavailable() {
  if (forceWeb) return 'web mode was requested'
  const pkg = join(root, 'node_modules', 'electron')
  if (!existsSync(pkg)) return 'Electron is not installed'
  const override = process.env.ELECTRON_OVERRIDE_DIST_PATH
  const pathFile = join(pkg, 'path.txt')
  if (!override && !existsSync(pathFile)) return 'its binary is not installed (it could not be downloaded)'
  const rel = existsSync(pathFile) ? readFileSync(pathFile, 'utf8').trim() : ''
  const exe = override ? join(override, rel || 'electron') : join(pkg, 'dist', rel)
  if (!existsSync(exe)) return `its binary is missing (${exe})`
  if (process.platform === 'linux' && !process.env.DISPLAY && !process.env.WAYLAND_DISPLAY) {
    return 'no display is available (neither DISPLAY nor WAYLAND_DISPLAY is set)'
  }
  return { exe }
}

function run(command, args, env = process.env) {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd: root, stdio: 'inherit', env })
    const forward = (sig) => child.kill(sig)
    process.on('SIGINT', forward)
    process.on('SIGTERM', forward)
    child.on('exit', (code, signal) => {
      process.off('SIGINT', forward)
      process.off('SIGTERM', forward)
      resolve(code ?? (signal ? 130 : 1))
    })
    child.on('error', (err) => {
      console.error(`Could not start ${command}: ${err.message}`)
      resolve(1)
    })
  })
}

const why = needsBuild()
if (why) {
  console.log(`Building NAS Studio (${why})...`)
  const build = spawnSync('npx', ['electron-vite', 'build'], {
    cwd: root,
    stdio: 'inherit',
    shell: process.platform === 'win32',
  })
  if (build.status !== 0) {
    console.error('The build failed; see the messages above.')
    process.exit(build.status ?? 1)
  }
}

let reason
const electron = electronUnavailable()
const binding = typeof electron === 'string' ? null : prepareElectronBinding({ root })
if (typeof electron === 'string') {
  reason = `Electron cannot start: ${electron}`
} else if (binding?.error) {
  reason = `the database library for Electron could not be prepared: ${binding.error}`
} else {
  const startedAt = Date.now()
  const code = await run(electron.exe, ['.', ...passThrough])
  if (code === 0 || Date.now() - startedAt > 15_000) process.exit(code)
  reason = `Electron exited with code ${code} while starting (see above)`
}
console.log(`${reason} — starting web mode instead.`)
process.exit(
  await run(process.execPath, [join(root, 'out', 'main', 'cli.js'), 'serve', ...passThrough], {
    ...process.env,
    NAS_STUDIO_MODE_REASON: reason,
  }),
)
