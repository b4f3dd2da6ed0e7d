import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import type { Architecture, SearchSpaceDef } from '../../../src/shared'
import { initCompute } from '../../../src/engine/compute/backend'
import { buildModel } from '../../../src/engine/evaluate/build-model'
import { Rng } from '../../../src/engine/rng'
import { loadPresetSpaces } from '../../../src/engine/space/presets'
import {
  archHash,
  countParams,
  sampleArchitecture,
  spaceSize,
  validateSpace,
} from '../../../src/engine/space'
import { invalidSpaceMessage } from './space-property-helpers'

const PRESETS = path.resolve(__dirname, '../../../resources/presets')

const cnnSpace: SearchSpaceDef = {
  family: 'sequential',
  version: 1,
  minLayers: 2,
  maxLayers: 6,
  ops: [
    { op: 'conv2d', filters: [4, 8], kernelSize: [3, 5], activation: ['relu', 'elu'] },
    { op: 'maxPool2d', poolSize: [2, 3, 8] },
    { op: 'dense', units: [16, 32], activation: ['relu', 'tanh'] },
    { op: 'dropout', rate: [0.1] },
    { op: 'batchNorm' },
  ],
}

describe('sequential space', () => {
  it('validateSpace gives precise messages', () => {
    expect(() => validateSpace(cnnSpace, [28, 28, 1])).not.toThrow()
    expect(invalidSpaceMessage(() => validateSpace({ ...cnnSpace, ops: [] }))).toContain('ops')
    expect(invalidSpaceMessage(() => validateSpace({ ...cnnSpace, minLayers: 5, maxLayers: 2 }))).toContain(
      'minLayers',
    )
    expect(
      invalidSpaceMessage(() =>
        validateSpace({ ...cnnSpace, ops: [{ op: 'dense', units: [], activation: ['relu'] }] }),
      ),
    ).toContain('ops.0.units')
    expect(
      invalidSpaceMessage(() => validateSpace({ ...cnnSpace, ops: [{ op: 'maxPool2d', poolSize: [2] }] })),
    ).toContain('only maxPool2d')
    expect(
      invalidSpaceMessage(() => validateSpace({ ...cnnSpace, ops: [cnnSpace.ops[0]!] }, [784])),
    ).toContain('[784]')
    expect(
      invalidSpaceMessage(() =>
        validateSpace(
          { ...cnnSpace, ops: [cnnSpace.ops[0]!, { op: 'maxPool2d', poolSize: [8] }] },
          [4, 4, 1],
        ),
      ),
    ).toContain('larger than the 4x4 input')
  })

  it('samples chains whose pools never shrink a 28x28 input below 1x1, with flatten inserted', () => {
    const rng = new Rng(1)
    for (let i = 0; i < 200; i++) {
      const arch = sampleArchitecture(cnnSpace, rng, [28, 28, 1], 10)
      expect(arch.nodes[0]).toEqual({ id: 'n0', op: 'input' })
      expect(arch.nodes.map((n) => n.id)).toEqual(arch.nodes.map((_, k) => `n${k}`))
      const head = arch.nodes[arch.nodes.length - 1]!
      expect(head).toMatchObject({ op: 'dense', units: 10, activation: 'softmax' })
      expect(arch.output).toBe(head.id)
      expect(arch.edges.length).toBe(arch.nodes.length - 1)
      // flatten comes before every dense, and no spatial op after it
      const flatAt = arch.nodes.findIndex((n) => n.op === 'flatten')
      expect(flatAt).toBeGreaterThan(0)
      arch.nodes.forEach((n, k) => {
        if (n.op === 'dense') expect(k).toBeGreaterThan(flatAt)
        if (n.op === 'conv2d' || n.op === 'maxPool2d') expect(k).toBeLessThan(flatAt)
      })
      expect(countParams(arch, [28, 28, 1])).toBeGreaterThan(0) // throws if a pool does not fit
    }
  })

  it('is deterministic for a seed and varied across seeds', () => {
    const draw = (seed: number): Architecture[] => {
      const rng = new Rng(seed)
      return Array.from({ length: 5 }, () => sampleArchitecture(cnnSpace, rng, [28, 28, 1], 10))
    }
    expect(draw(3)).toEqual(draw(3))
    expect(draw(3).map(archHash)).not.toEqual(draw(4).map(archHash))
  })

  it('archHash is stable under key order and sensitive to content', () => {
    const arch = sampleArchitecture(cnnSpace, new Rng(8), [28, 28, 1], 10)
    const reordered = JSON.parse(
      JSON.stringify({ output: arch.output, edges: arch.edges, nodes: arch.nodes, version: 1 }),
    )
    expect(archHash(reordered)).toBe(archHash(arch))
    expect(archHash(arch)).toMatch(/^[0-9a-f]{64}$/)
    const changed = {
      ...arch,
      nodes: arch.nodes.map((n) => (n.op === 'dense' ? { ...n, units: n.units + 1 } : n)),
    }
    expect(archHash(changed)).not.toBe(archHash(arch))
  })

  it('countParams equals the built model countParams()', async () => {
    await initCompute()
    const rng = new Rng(11)
    for (let i = 0; i < 6; i++) {
      const arch = sampleArchitecture(cnnSpace, rng, [28, 28, 1], 10)
      const model = buildModel(arch, [28, 28, 1], 1)
      expect(countParams(arch, [28, 28, 1])).toBe(model.countParams())
      model.dispose()
    }
    const quick = loadPresetSpaces(PRESETS).find((p) => p.key === 'quick-mlp')!.def
    const mlp = sampleArchitecture(quick, rng, [28, 28, 1], 10)
    const model = buildModel(mlp, [28, 28, 1], 1)
    expect(countParams(mlp, [28, 28, 1], 3)).toBeLessThan(model.countParams())
    expect(countParams(mlp, [28, 28, 1])).toBe(model.countParams())
    model.dispose()
  })

  it('spaceSize counts layer sequences', () => {
    const s: SearchSpaceDef = {
      family: 'sequential',
      version: 1,
      minLayers: 1,
      maxLayers: 2,
      ops: [{ op: 'dense', units: [8, 16], activation: ['relu'] }, { op: 'batchNorm' }],
    }
    expect(spaceSize(s)).toBe(3 + 9)
  })
})

describe('presets', () => {
  it('loads the shipped presets', () => {
    const presets = loadPresetSpaces(PRESETS)
    expect(presets.map((p) => p.key)).toEqual([
      'darts',
      'mlp-tables',
      'nas-bench-201',
      'nasnet-cells',
      'quick-mlp',
      'resnet-chain',
      'small-cnn',
      'tiny-cnn',
    ])
    const mlp = presets.find((p) => p.key === 'quick-mlp')!.def
    expect(mlp.family === 'sequential' && mlp.ops.map((o) => o.op).sort()).toEqual([
      'batchNorm',
      'dense',
      'dropout',
    ])
  })

  it('names the bad file', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'presets-'))
    writeFileSync(
      path.join(dir, 'broken.json'),
      JSON.stringify({ name: 'x', description: '', def: { family: 'sequential' } }),
    )
    expect(() => loadPresetSpaces(dir)).toThrow(/Preset broken\.json is invalid at def\./)
    writeFileSync(path.join(dir, 'broken.json'), '{ nope')
    expect(() => loadPresetSpaces(dir)).toThrow(/Preset broken\.json is not valid JSON/)
  })
})
