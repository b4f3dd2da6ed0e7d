import { describe, expect, it } from 'vitest'
import { runCli } from '../../../src/main/cli/commands'
import { EXIT } from '../../../src/main/cli/io'
import { defaultDataDir } from '../../../src/main/paths'
import { makeTempDir } from '../../helpers/temp-dir'

async function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = ''
  let err = ''
  const code = await runCli(args, {
    stdout: (t) => (out += t),
    stderr: (t) => (err += t),
    signal: new AbortController().signal,
    env: {},
  })
  return { code, out, err }
}

describe('nas-studio command line', () => {
  it('exits 2 with a clear message for an unknown command or flag', async () => {
    const cmd = await cli(['frobnicate'])
    expect(cmd.code).toBe(EXIT.usage)
    expect(cmd.err).toContain('unknown command "frobnicate"')
    const flag = await cli(['runs', '--nope'])
    expect(flag.code).toBe(EXIT.usage)
    expect(flag.err).toContain("'--nope'")
    const value = await cli(['search', '--space', 'x', '--trials', '1.5', '--data-dir', '/tmp/unused'])
    expect(value.code).toBe(EXIT.usage)
    expect(value.err).toContain('--trials must be a whole number')
  })

  it('rejects an unknown --backend before starting anything, and documents the flag', async () => {
    const bad = await cli(['search', '--space', 'x', '--backend', 'quantum', '--data-dir', '/tmp/unused'])
    expect(bad.code).toBe(EXIT.usage)
    expect(bad.err).toContain('--backend must be one of tensorflow, webgpu, wasm, cpu, got "quantum"')
    expect(process.env.NAS_BACKEND).toBeUndefined()
    expect((await cli(['help'])).out).toContain('--backend B')
  })

  it('prints help with exit 0', async () => {
    const help = await cli(['help'])
    expect(help.code).toBe(0)
    expect(help.out).toContain('nas-studio <command>')
  })

  it('lists no runs in an empty data folder', async () => {
    const tmp = makeTempDir()
    try {
      const res = await cli(['runs', '--data-dir', tmp.dir])
      expect(res.code).toBe(0)
      expect(res.out).toContain('No runs yet')
    } finally {
      tmp.cleanup()
    }
  })

  it('resolves the data folder: flag, then NAS_STUDIO_DATA_DIR, then XDG_DATA_HOME', () => {
    expect(defaultDataDir('/a', { NAS_STUDIO_DATA_DIR: '/b' })).toBe('/a')
    expect(defaultDataDir(undefined, { NAS_STUDIO_DATA_DIR: '/b', XDG_DATA_HOME: '/c' })).toBe('/b')
    expect(defaultDataDir(undefined, { XDG_DATA_HOME: '/c' })).toBe('/c/nas-studio')
    expect(defaultDataDir(undefined, {})).toMatch(/\.local\/share\/nas-studio$/)
  })
})
