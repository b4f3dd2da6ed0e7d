import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import {
  BINDING_FILE,
  electronBindingDir,
  installedElectronVersion,
  prepareElectronBinding,
} from '../../../scripts/electron-binding.mjs'
import {
  electronBindingFile,
  openConnection,
  selectSqliteBinding,
  useSqliteBinding,
} from '../../../src/main/db'
import { findAppRoot } from '../../../src/main/paths'
import { makeTempDir } from '../../helpers/temp-dir'

const ROOT = findAppRoot()
const temps: Array<ReturnType<typeof makeTempDir>> = []
const temp = () => {
  const t = makeTempDir('nas-studio-binding-')
  temps.push(t)
  return t.dir
}
afterEach(() => {
  useSqliteBinding(undefined)
  for (const t of temps.splice(0)) t.cleanup()
})

/** A stand-in app folder with better-sqlite3's sources (what the preparation copies). */
function fakeRoot(): string {
  const root = temp()
  const pkg = join(root, 'node_modules', 'better-sqlite3')
  mkdirSync(join(pkg, 'src'), { recursive: true })
  mkdirSync(join(pkg, 'build', 'Release'), { recursive: true })
  writeFileSync(join(pkg, 'package.json'), '{"name":"better-sqlite3"}')
  writeFileSync(join(pkg, 'binding.gyp'), '{}')
  writeFileSync(join(pkg, 'src', 'better_sqlite3.cpp'), '// sources')
  writeFileSync(join(pkg, 'build', 'Release', BINDING_FILE), 'node build')
  return root
}

describe('choosing the better-sqlite3 binding', () => {
  it('uses the default (Node) build under Node, and the prepared Electron build under Electron', () => {
    const node = { root: '/app', versions: { node: '24.0.0' }, platform: 'linux', arch: 'x64' }
    expect(selectSqliteBinding(node)).toBeUndefined()
    const electron = { ...node, versions: { node: '24.0.0', electron: '42.1.0' }, exists: () => true }
    expect(selectSqliteBinding(electron)).toBe(
      '/app/out/native/better-sqlite3-electron-42.1.0-linux-x64/better_sqlite3.node',
    )
    // main and the start script name the same folder
    expect(electronBindingFile('/app', '42.1.0', 'linux', 'x64')).toBe(
      join(electronBindingDir('/app', '42.1.0', 'linux', 'x64'), BINDING_FILE),
    )
  })

  it('says in plain words how to get the Electron build when it is missing', () => {
    const ctx = {
      root: '/app',
      versions: { electron: '42.1.0' },
      platform: 'linux',
      arch: 'x64',
      exists: () => false,
    }
    expect(() => selectSqliteBinding(ctx)).toThrow(
      expect.objectContaining({ code: 'storage_error', message: expect.stringMatching(/npm start/) }),
    )
    expect(() => selectSqliteBinding(ctx)).toThrow(expect.not.objectContaining({ message: /NODE_MODULE/ }))
  })

  it('opens the database through the binding it was given (nativeBinding)', () => {
    const nodeBuild = join(ROOT, 'node_modules', 'better-sqlite3', 'build', 'Release', BINDING_FILE)
    useSqliteBinding(nodeBuild)
    const db = openConnection(temp())
    expect(db.prepare('SELECT 1 AS one').get()).toEqual({ one: 1 })
    db.close()
    useSqliteBinding(join(temp(), 'missing', BINDING_FILE))
    expect(() => openConnection(temp())).toThrow()
  })
})

describe('preparing the Electron binding (npm start)', () => {
  it('fetches it with prebuild-install in a copy, into its own folder, leaving the Node build alone', () => {
    const root = fakeRoot()
    const calls: string[][] = []
    const result = prepareElectronBinding({
      root,
      electronVersion: '42.1.0',
      platform: 'linux',
      arch: 'x64',
      prebuild: '/x/prebuild-install/bin.js',
      nodeGyp: '/x/node-gyp.js',
      log: () => {},
      run: (_cmd, args, cwd) => {
        calls.push(args)
        expect(cwd).not.toBe(join(root, 'node_modules', 'better-sqlite3'))
        expect(existsSync(join(cwd, 'src', 'better_sqlite3.cpp'))).toBe(true)
        mkdirSync(join(cwd, 'build', 'Release'), { recursive: true })
        writeFileSync(join(cwd, 'build', 'Release', BINDING_FILE), 'electron build')
        return true
      },
    })
    const file = join(electronBindingDir(root, '42.1.0', 'linux', 'x64'), BINDING_FILE)
    expect(result).toEqual({ file })
    expect(calls).toEqual([
      [
        '/x/prebuild-install/bin.js',
        '--runtime',
        'electron',
        '--target',
        '42.1.0',
        '--arch',
        'x64',
        '--platform',
        'linux',
      ],
    ])
    expect(existsSync(join(root, 'out', 'native', '.work', 'better-sqlite3-42.1.0-linux-x64'))).toBe(false)
    // a second start finds it and runs nothing
    expect(
      prepareElectronBinding({
        root,
        electronVersion: '42.1.0',
        platform: 'linux',
        arch: 'x64',
        run: () => {
          throw new Error('must not run')
        },
      }),
    ).toEqual({ file })
  })

  it("falls back to npm's node-gyp against Electron's headers, and reports when neither works", () => {
    const root = fakeRoot()
    const tried: string[] = []
    const ok = prepareElectronBinding({
      root,
      electronVersion: '42.1.0',
      platform: 'linux',
      arch: 'arm64',
      prebuild: '/x/prebuild.js',
      nodeGyp: '/x/node-gyp.js',
      log: () => {},
      run: (_cmd, args, cwd) => {
        tried.push(args[0]!)
        if (args[0] !== '/x/node-gyp.js') return false
        expect(args).toContain('--runtime=electron')
        expect(args).toContain('--target=42.1.0')
        mkdirSync(join(cwd, 'build', 'Release'), { recursive: true })
        writeFileSync(join(cwd, 'build', 'Release', BINDING_FILE), 'compiled')
        return true
      },
    })
    expect(tried).toEqual(['/x/prebuild.js', '/x/node-gyp.js'])
    expect(ok.file).toBe(join(electronBindingDir(root, '42.1.0', 'linux', 'arm64'), BINDING_FILE))

    const failed = prepareElectronBinding({
      root,
      electronVersion: '42.2.0',
      platform: 'linux',
      arch: 'x64',
      prebuild: '/x/prebuild.js',
      nodeGyp: '/x/node-gyp.js',
      log: () => {},
      run: () => false,
    })
    expect(failed.error).toMatch(/neither prebuild-install nor node-gyp/)
    expect(readdirSync(join(root, 'out', 'native', '.work'))).toEqual([])
    // the Node build was never touched
    expect(readdirSync(join(root, 'node_modules', 'better-sqlite3', 'build', 'Release'))).toEqual([
      BINDING_FILE,
    ])
    expect(installedElectronVersion(ROOT)).toMatch(/^\d+\.\d+\.\d+/)
  })
})
