import { writeFileSync } from 'node:fs'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { runCli } from '../../../src/main/cli/commands'
import { EXIT } from '../../../src/main/cli/io'
import { openAppDb } from '../../../src/main/db'
import { makeTempDir } from '../../helpers/temp-dir'
import { useTestGpuDriver } from '../../helpers/webgpu'

/**
 * `nas-studio search --backend webgpu` end to end (SwiftShader where there is no GPU): the run completes, records
 * webgpu as its backend, and scores the same candidates as the same seeded search on wasm.
 */

const noDriver = useTestGpuDriver()
if (noDriver !== null) console.warn(`CLI WebGPU search test skipped: ${noDriver}`)

const TINY_SPACE = {
  name: 'Tiny MLP',
  description: 'One or two dense layers of 8-16 units: small enough for a software GPU.',
  def: {
    family: 'sequential',
    version: 1,
    minLayers: 1,
    maxLayers: 2,
    ops: [{ op: 'dense', units: [8, 16], activation: ['relu', 'tanh'] }, { op: 'batchNorm' }],
  },
}

async function search(backend: string, dir: string, space: string, settings: string) {
  let out = ''
  let err = ''
  const args = ['search', '--space', space, '--trials', '2', '--seed', '3', '--settings', settings]
  const code = await runCli([...args, '--backend', backend, '--data-dir', dir], {
    stdout: (t) => (out += t),
    stderr: (t) => (err += t),
    signal: new AbortController().signal,
  })
  const db = openAppDb(dir)
  try {
    const run = db.runs.list()[0]!
    return { code, out, err, run, trials: db.trials.listByRun(run.id) }
  } finally {
    db.close()
  }
}

describe.skipIf(noDriver !== null)('nas-studio search --backend webgpu', () => {
  const tmp = makeTempDir()
  afterAll(() => {
    delete process.env.NAS_BACKEND
    tmp.cleanup()
  })

  it('completes, records webgpu, and scores the candidates as the same seeded search on wasm', async () => {
    const space = path.join(tmp.dir, 'tiny-mlp.json')
    const settings = path.join(tmp.dir, 'settings.json')
    writeFileSync(space, JSON.stringify(TINY_SPACE))
    writeFileSync(settings, JSON.stringify({ train: { dataFraction: 0.1 } }))
    // webgpu first: this process picks its own backend once, for the "Compute backend" line (the trials train
    // in worker threads, which read --backend when they start)
    const gpu = await search('webgpu', path.join(tmp.dir, 'gpu'), space, settings)
    const wasm = await search('wasm', path.join(tmp.dir, 'wasm'), space, settings)
    expect(gpu.err).toBe('')
    expect(gpu.code).toBe(EXIT.ok)
    expect(gpu.out).toMatch(/Compute backend: webgpu on .+ \(.+\) \(WebGPU/)
    expect(gpu.run.status).toBe('completed')
    expect(gpu.run.backend).toBe('webgpu')
    expect(wasm.run.backend).toBe('wasm')
    expect(gpu.trials.map((t) => t.status)).toEqual(['completed', 'completed'])
    // the same seed gives the same candidates; float32 rounding differs between backends, the scores barely
    expect(gpu.trials.map((t) => t.archHash)).toEqual(wasm.trials.map((t) => t.archHash))
    gpu.trials.forEach((t, i) => {
      expect(Math.abs(t.valAccuracy! - wasm.trials[i]!.valAccuracy!)).toBeLessThanOrEqual(0.02)
      expect(Math.abs(t.valLoss! - wasm.trials[i]!.valLoss!)).toBeLessThan(0.01)
    })
    // a software GPU is slow: two searches with worker start-up take minutes on a loaded machine
  }, 300_000)
})
