import path from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import type { Architecture } from '../../../src/shared'
import { initCompute, tf } from '../../../src/engine/compute/backend'
import type { LoadedData } from '../../../src/engine/data/loaded-data'
import { describeBundledDataset } from '../../../src/engine/data/bundled-sample'
import { loadDataset } from '../../../src/engine/data/load'
import {
  movingStatistics,
  recalibrateBatchNorm,
  recalibrationWeight,
} from '../../../src/engine/evaluate/bn-recalibrate'
import { buildModel } from '../../../src/engine/evaluate/build-model'
import { trainArchitecture } from '../../../src/engine/evaluate/train'

const RESOURCES = path.resolve(__dirname, '../../../resources')

/** two conv -> batch norm -> relu blocks, dropout, dense: a proxy-sized CNN whose score depends on batch norm. */
const cnn: Architecture = {
  version: 1,
  nodes: [
    { id: 'n0', op: 'input' },
    { id: 'n1', op: 'conv2d', filters: 8, kernelSize: 3, activation: 'linear' },
    { id: 'n2', op: 'batchNorm' },
    { id: 'n3', op: 'activation', activation: 'relu' },
    { id: 'n4', op: 'maxPool2d', poolSize: 2 },
    { id: 'n8', op: 'conv2d', filters: 8, kernelSize: 3, activation: 'linear' },
    { id: 'n9', op: 'batchNorm' },
    { id: 'n10', op: 'activation', activation: 'relu' },
    { id: 'n5', op: 'flatten' },
    { id: 'n6', op: 'dropout', rate: 0.3 },
    { id: 'n7', op: 'dense', units: 10, activation: 'softmax' },
  ],
  edges: [
    ['n0', 'n1'],
    ['n1', 'n2'],
    ['n2', 'n3'],
    ['n3', 'n4'],
    ['n4', 'n8'],
    ['n8', 'n9'],
    ['n9', 'n10'],
    ['n10', 'n5'],
    ['n5', 'n6'],
    ['n6', 'n7'],
  ],
  output: 'n7',
}

describe('batch-norm recalibration', () => {
  let data: LoadedData
  beforeAll(async () => {
    await initCompute()
    const d = await describeBundledDataset(RESOURCES)
    data = await loadDataset({ ...d, id: 'ds', createdAt: '' }, { validationFraction: 0.2, seed: 1 })
  })

  it('sets moving statistics to the mean of the batch statistics and restores momentum and dropout', () => {
    const before = tf.memory().numTensors
    const model = buildModel(cnn, data.inputShape, 5)
    const n = 256
    const part = { x: data.train.x.slice(0, n * 784), y: data.train.y.slice(0, n), count: n }
    const bn = model.getLayer('n2') as unknown as { momentum: number; getWeights(): tf.Tensor[] }
    // what the layer sees: the conv output of each batch of 64
    const convOut = tf.model({
      inputs: model.inputs,
      outputs: model.getLayer('n1').output as tf.SymbolicTensor,
    })
    const batchMoments = [0, 1, 2, 3].map((b) =>
      tf.tidy(() => {
        const x = tf.tensor(part.x.slice(b * 64 * 784, (b + 1) * 64 * 784), [64, 28, 28, 1])
        const m = tf.moments(convOut.predict(x) as tf.Tensor, [0, 1, 2])
        return [m.mean.arraySync() as number[], m.variance.arraySync() as number[]]
      }),
    )
    const expectMean = batchMoments[0]![0]!.map((_, c) => batchMoments.reduce((s, m) => s + m[0]![c]!, 0) / 4)
    const expectVar = batchMoments[0]![1]!.map((_, c) => batchMoments.reduce((s, m) => s + m[1]![c]!, 0) / 4)

    expect(recalibrateBatchNorm(model, part, data.inputShape, 64)).toBe(true)
    const [, , movingMean, movingVar] = bn.getWeights().map((w) => w.arraySync() as number[])
    movingMean!.forEach((v, c) => expect(v).toBeCloseTo(expectMean[c]!, 4))
    movingVar!.forEach((v, c) => expect(v).toBeCloseTo(expectVar[c]!, 4))
    expect(bn.momentum).toBe(0.9)
    expect((model.getLayer('n6') as unknown as { rate: number }).rate).toBe(0.3)
    model.dispose()
    expect(tf.memory().numTensors).toBe(before)
  })

  it.each([64, 48])(
    'split over two ranks (batch %i), the weighted mean of their statistics is one full recalibration',
    (batch) => {
      const before = tf.memory().numTensors
      const n = 256 // batch 48: 5 batches, 3 for rank 0 and 2 for rank 1
      const part = { x: data.train.x.slice(0, n * 784), y: data.train.y.slice(0, n), count: n }
      const stats = (model: tf.LayersModel): number[][] =>
        movingStatistics(model).map((v) => Array.from(v.read().dataSync()))
      const full = buildModel(cnn, data.inputShape, 5)
      expect(recalibrateBatchNorm(full, part, data.inputShape, batch)).toBe(true)
      const want = stats(full)
      const ranks = [0, 1].map((rank) => {
        const model = buildModel(cnn, data.inputShape, 5)
        recalibrateBatchNorm(model, part, data.inputShape, batch, { rank, size: 2 })
        const w = recalibrationWeight(n, batch, { rank, size: 2 })
        const s = stats(model).map((row) => row.map((v) => v * w))
        model.dispose()
        return s
      })
      expect(want).toHaveLength(4)
      want.forEach((row, i) =>
        row.forEach((v, c) => expect((ranks[0]![i]![c]! + ranks[1]![i]![c]!) / 2).toBeCloseTo(v, 4)),
      )
      full.dispose()
      expect(tf.memory().numTensors).toBe(before)
    },
  )

  it('makes a network trained for a few steps score in inference mode what it learned', async () => {
    // 10 steps of 32: the moving averages (momentum 0.9) would still be dominated by their initial values
    const head = (p: LoadedData['train'], k: number): LoadedData['train'] => ({
      x: p.x.slice(0, k * 784),
      y: p.y.slice(0, k),
      count: k,
    })
    const small = { ...data, train: head(data.train, 320), validation: head(data.validation, 300) }
    const result = await trainArchitecture(
      cnn,
      small,
      { epochs: 1, batchSize: 32, learningRate: 0.003, validationFraction: 0.2 },
      { seed: 3 },
    )
    // without recalibration this network scores about 0.48 here, with it about 0.70 (chance is 0.1)
    expect(result.valAccuracy).toBeGreaterThan(0.6)
  })
})
