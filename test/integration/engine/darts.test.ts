import path from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import type { SearchSpaceDef } from '../../../src/shared'
import { initCompute, tf } from '../../../src/engine/compute/backend'
import type { LoadedData } from '../../../src/engine/data/loaded-data'
import { describeBundledDataset } from '../../../src/engine/data/bundled-sample'
import { loadDataset } from '../../../src/engine/data/load'
import { Nb201Table } from '../../../src/engine/evaluate/nb201-table'
import { searchOneShot } from '../../../src/engine/strategy/darts'
import { SMALL_NB201 } from '../../helpers/nb201-space'

const RESOURCES = path.resolve(__dirname, '../../../resources')
const NB201_FILE = path.join(RESOURCES, 'benchmarks', 'nasbench201.json')

const nb201 = SMALL_NB201
/** The DARTS cell space cut to 2 nodes and 4 ops so a wasm supernet step stays fast in a test. */
const dartsSmall: SearchSpaceDef = {
  family: 'cell',
  version: 1,
  nodes: 2,
  ops: ['none', 'skip_connect', 'sep_conv_3x3', 'max_pool_3x3'],
  initChannels: [4],
  cellsPerStage: [1],
  stages: 3,
  stemMultiplier: 3,
  concat: 'all',
}

describe('DARTS and PC-DARTS on Fashion-MNIST (tiny proxy)', () => {
  let data: LoadedData
  let table: Nb201Table
  beforeAll(async () => {
    await initCompute()
    const d = await describeBundledDataset(RESOURCES)
    data = await loadDataset({ ...d, id: 'ds', createdAt: '' }, { validationFraction: 0.2, seed: 0 })
    table = Nb201Table.load(NB201_FILE)
  })

  it.each(['darts', 'pc-darts'] as const)(
    '%s on the NAS-Bench-201 cell: alphas recorded per epoch, a cell derived and looked up, no tensor leak',
    async (method) => {
      const before = tf.memory().numTensors
      const snaps: number[] = []
      const found = await searchOneShot({
        method,
        space: nb201,
        data,
        seed: 1,
        settings: { images: 128, epochs: 2, batchSize: 32, channels: 4 },
        onSnapshot: (s) => snaps.push(s.epoch),
      })
      expect(snaps).toEqual([0, 1, 2])
      const first = found.snapshots[0]!.weights
      const last = found.snapshots.at(-1)!.weights
      expect(last).toHaveLength(6)
      expect(last[0]).toHaveLength(5)
      expect(last).not.toEqual(first)
      if (method === 'pc-darts') expect(found.snapshots.at(-1)!.beta).toBeDefined()
      const entry = table.entry(table.indexOf(found.architecture))
      expect(entry.cell).toBe(found.cell)
      expect(entry.index).not.toBe(1835) // the all-skip_connect collapse
      expect(tf.memory().numTensors).toBe(before)
    },
  )

  it('keeps alpha still during warm-up epochs, and weight decay on alpha keeps it nearer uniform', async () => {
    const run = (settings: { warmupEpochs?: number; archWeightDecay?: number }) =>
      searchOneShot({
        method: 'darts',
        space: nb201,
        data,
        seed: 3,
        settings: { images: 64, epochs: 2, batchSize: 32, channels: 4, archLr: 0.05, ...settings },
      })
    const warm = await run({ warmupEpochs: 1 })
    const [start, afterWarmup, end] = warm.snapshots.map((x) => x.weights)
    expect(afterWarmup).toEqual(start)
    expect(end).not.toEqual(start)
    // distance of alpha's softmax from uniform (0.2 per op) after the last epoch
    const spread = (w: number[][]) => w.flat().reduce((a, v) => a + Math.abs(v - 0.2), 0)
    const free = await run({})
    const decayed = await run({ archWeightDecay: 5 })
    expect(spread(decayed.snapshots.at(-1)!.weights)).toBeLessThan(spread(free.snapshots.at(-1)!.weights))
  })

  it('pc-darts on a DARTS cell space derives a normal and a reduction cell of 2 inputs per node', async () => {
    const found = await searchOneShot({
      method: 'pc-darts',
      space: dartsSmall,
      data,
      seed: 2,
      settings: { images: 64, epochs: 1, batchSize: 32, channels: 4 },
    })
    const g = found.architecture.genotype
    expect(g?.family).toBe('cell')
    if (g?.family !== 'cell') return
    expect(g.normal).toHaveLength(2)
    expect(g.reduce).toHaveLength(2)
    expect(g.normal.flatMap((n) => n.ops)).not.toContain('none')
    expect(found.snapshots.map((s) => s.cell)).toEqual(['normal', 'reduce', 'normal', 'reduce'])
  })
})
