import path from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import type { Architecture } from '../../../src/shared'
import { initCompute } from '../../../src/engine/compute/backend'
import type { tf } from '../../../src/engine/compute/backend'
import type { LoadedData } from '../../../src/engine/data/loaded-data'
import { describeBundledDataset } from '../../../src/engine/data/bundled-sample'
import { loadDataset } from '../../../src/engine/data/load'
import { observeBuiltModels } from '../../../src/engine/evaluate/build-model'
import { trainArchitecture } from '../../../src/engine/evaluate/train'

const mlp: Architecture = {
  version: 1,
  nodes: [
    { id: 'n0', op: 'input' },
    { id: 'n1', op: 'flatten' },
    { id: 'n2', op: 'dense', units: 16, activation: 'relu' },
    { id: 'n3', op: 'dense', units: 10, activation: 'softmax' },
  ],
  edges: [
    ['n0', 'n1'],
    ['n1', 'n2'],
    ['n2', 'n3'],
  ],
  output: 'n3',
}

describe('training under a time limit (final training)', () => {
  let data: LoadedData
  beforeAll(async () => {
    await initCompute()
    const d = await describeBundledDataset(path.resolve(__dirname, '../../../resources'))
    const full = await loadDataset({ ...d, id: 'ds', createdAt: '' }, { validationFraction: 0.2, seed: 0 })
    const cut = (p: LoadedData['train'], n: number) => ({
      x: p.x.slice(0, n * 784),
      y: p.y.slice(0, n),
      count: n,
    })
    data = {
      ...full,
      train: cut(full.train, 200),
      validation: cut(full.validation, 50),
      test: cut(full.test, 100),
    }
  })

  it('re-plans its epochs from the latest pace, fewer when slow and more when fast, with a gliding rate', async () => {
    // a fake clock: every reading costs 1 s during epoch 1 (a loaded machine), 10 ms afterwards
    let t = 0
    let cost = 1000
    const rates: number[] = []
    let model: tf.LayersModel | null = null
    const stop = observeBuiltModels((m) => (model = m))
    try {
      const r = await trainArchitecture(
        mlp,
        data,
        { epochs: 10, batchSize: 50, learningRate: 0.01, validationFraction: 0.2, schedule: 'cosine' },
        {
          seed: 1,
          mode: 'final',
          timeLimitMs: 40_000,
          now: () => (t += cost),
          onEpoch: () => {
            cost = 10
            rates.push((model!.optimizer as unknown as { learningRate: number }).learningRate)
          },
        },
      )
      // after epoch 1 (about 10 s) only 2-3 more seemed to fit; then the pace rose and all 10 were trained
      expect(r.epochs).toBe(10)
      // the rate never jumps back up when the plan changes, and ends near zero
      rates.slice(1).forEach((v, i) => expect(v).toBeLessThanOrEqual(rates[i]! + 1e-12))
      expect(rates[rates.length - 1]!).toBeLessThan(0.01 * 0.05)
    } finally {
      stop()
    }
  })

  it('uses the time left when it is less than an epoch: a partial last epoch that the limit ends', async () => {
    const settings = { epochs: 10, batchSize: 50, learningRate: 0.01, validationFraction: 0.2 }
    // every clock reading costs 1 s; a first run measures when epoch 1 ends and how long it took
    let t = 0
    let epochEnd = 0
    let pace = 0
    await trainArchitecture(
      mlp,
      data,
      { ...settings, epochs: 1 },
      {
        seed: 1,
        mode: 'final',
        now: () => (t += 1000),
        onEpoch: (m) => {
          epochEnd = t
          pace = m.timeMs
        },
      },
    )
    // the limit leaves half an epoch after the first: stopping there would waste a third of the time
    const limit = epochEnd + pace / 2
    t = 0
    const planned: Array<number | undefined> = []
    const r = await trainArchitecture(mlp, data, settings, {
      seed: 1,
      mode: 'final',
      timeLimitMs: limit,
      now: () => (t += 1000),
      onEpoch: (m) => planned.push(m.epochs),
    })
    expect(r.epochs).toBe(2)
    // each epoch reports the epochs then planned, not the 10 set: progress reads "epoch 1/2", "epoch 2/2"
    expect(planned).toEqual([2, 2])
    expect(r.trainTimeMs).toBeGreaterThanOrEqual(limit)
    // ended by the limit, not by a whole second epoch
    expect(r.trainTimeMs).toBeLessThan(epochEnd + pace * 2)
  })

  it('stops mid-epoch when the limit is reached, and still scores the test split', async () => {
    let t = 0
    const r = await trainArchitecture(
      mlp,
      data,
      { epochs: 10, batchSize: 50, learningRate: 0.01, validationFraction: 0.2 },
      // every clock reading costs 1 s: the 3-s limit ends training within the first epoch
      { seed: 1, mode: 'final', timeLimitMs: 3_000, now: () => (t += 1000) },
    )
    expect(r.epochs).toBe(1)
    expect(r.testAccuracy).toBeGreaterThanOrEqual(0)
    expect(t).toBeLessThan(20_000)
  })
})
