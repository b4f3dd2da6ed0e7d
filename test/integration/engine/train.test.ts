import path from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import type { ArchNode, Architecture } from '../../../src/shared'
import { NasError } from '../../../src/shared'
import { initCompute, tf } from '../../../src/engine/compute/backend'
import type { LoadedData } from '../../../src/engine/data/loaded-data'
import { describeBundledDataset } from '../../../src/engine/data/bundled-sample'
import { loadDataset } from '../../../src/engine/data/load'
import { trainArchitecture } from '../../../src/engine/evaluate/train'

const RESOURCES = path.resolve(__dirname, '../../../resources')

const mlp: Architecture = {
  version: 1,
  nodes: [
    { id: 'n0', op: 'input' },
    { id: 'n1', op: 'flatten' },
    { id: 'n2', op: 'dense', units: 32, activation: 'relu' },
    { id: 'n3', op: 'batchNorm' },
    { id: 'n4', op: 'dropout', rate: 0.1 },
    { id: 'n5', op: 'dense', units: 10, activation: 'softmax' },
  ],
  edges: [
    ['n0', 'n1'],
    ['n1', 'n2'],
    ['n2', 'n3'],
    ['n3', 'n4'],
    ['n4', 'n5'],
  ],
  output: 'n5',
}

/** Keeps the first `n` samples of a part (the split is stratified, so classes stay mixed). */
/** An input followed by `layers` in a chain (ids n0, n1, ...), the last one the output. */
function chain(layers: DistributiveOmit<ArchNode, 'id'>[]): Architecture {
  const nodes = [{ op: 'input' as const }, ...layers].map((n, i) => ({ ...n, id: `n${i}` }) as ArchNode)
  return {
    version: 1,
    nodes,
    edges: nodes.slice(1).map((n, i): [string, string] => [nodes[i]!.id, n.id]),
    output: nodes.at(-1)!.id,
  }
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never

function head(data: LoadedData, nTrain: number, nVal: number): LoadedData {
  const cut = (p: LoadedData['train'], n: number) => ({
    x: p.x.slice(0, n * 784),
    y: p.y.slice(0, n),
    count: n,
  })
  return { ...data, train: cut(data.train, nTrain), validation: cut(data.validation, nVal) }
}

describe('trainArchitecture (real tf.js training)', () => {
  let data: LoadedData
  beforeAll(async () => {
    await initCompute()
    const d = await describeBundledDataset(RESOURCES)
    data = head(
      await loadDataset({ ...d, id: 'ds', createdAt: '' }, { validationFraction: 0.2, seed: 1 }),
      600,
      200,
    )
  })

  it('learns above chance in one epoch, reports epochs and leaks no tensors', async () => {
    const before = tf.memory().numTensors
    const epochs: number[] = []
    const t0 = performance.now()
    const result = await trainArchitecture(
      mlp,
      data,
      { epochs: 1, batchSize: 32, learningRate: 0.003, validationFraction: 0.2 },
      { seed: 7, onEpoch: (m) => epochs.push(m.epoch) },
    )
    const secs = (performance.now() - t0) / 1000
    console.info(`MLP training throughput: ${Math.round(600 / secs)} samples/s on ${tf.getBackend()}`)
    expect(epochs).toEqual([1])
    expect(result.valAccuracy).toBeGreaterThan(0.3) // chance is 0.1
    expect(result.params).toBe(784 * 32 + 32 + 4 * 32 + 32 * 10 + 10)
    expect(tf.memory().numTensors).toBe(before)
  })

  it('trains through the fused dense and cross-entropy kernels on wasm', async () => {
    expect(tf.getBackend()).toBe('wasm')
    const { kernelNames } = await tf.profile(async () => {
      await trainArchitecture(
        mlp,
        head(data, 64, 32),
        { epochs: 1, batchSize: 32, learningRate: 0.003, validationFraction: 0.2 },
        { seed: 2 },
      )
    })
    expect(kernelNames).toContain('NasCategoricalCrossentropyGrad')
    expect(kernelNames).toContain('NasDenseGradWeight')
    expect(kernelNames).not.toContain('Log')
  })

  it('trains batch normalisation through its fused kernels on wasm, above chance and without leaks', async () => {
    const cnn = chain([
      { op: 'conv2d', filters: 8, kernelSize: 3, activation: 'linear' },
      { op: 'batchNorm' },
      { op: 'activation', activation: 'relu' },
      { op: 'maxPool2d', poolSize: 2 },
      { op: 'flatten' },
      { op: 'dense', units: 10, activation: 'softmax' },
    ])
    const before = tf.memory().numTensors
    let valAccuracy = 0
    const { kernelNames } = await tf.profile(async () => {
      const result = await trainArchitecture(
        cnn,
        data,
        { epochs: 1, batchSize: 32, learningRate: 0.003, validationFraction: 0.2 },
        { seed: 2 },
      )
      valAccuracy = result.valAccuracy
    })
    expect(kernelNames).toContain('NasBatchNormTrain')
    expect(kernelNames).toContain('NasBatchNormTrainGrad')
    expect(valAccuracy).toBeGreaterThan(0.3)
    expect(tf.memory().numTensors).toBe(before)
  })

  it('trains a small CNN (conv gradients through the compute bridge) above chance without leaks', async () => {
    const cnn = chain([
      { op: 'conv2d', filters: 8, kernelSize: 3, activation: 'relu' },
      { op: 'maxPool2d', poolSize: 2 },
      { op: 'flatten' },
      { op: 'dense', units: 10, activation: 'softmax' },
    ])
    const before = tf.memory().numTensors
    const t0 = performance.now()
    const result = await trainArchitecture(
      cnn,
      data,
      { epochs: 1, batchSize: 32, learningRate: 0.003, validationFraction: 0.2 },
      { seed: 2 },
    )
    const secs = (performance.now() - t0) / 1000
    console.info(`CNN training throughput: ${Math.round(600 / secs)} samples/s on ${tf.getBackend()}`)
    expect(result.valAccuracy).toBeGreaterThan(0.3)
    expect(tf.memory().numTensors).toBe(before)
  })

  it('is reproducible for a seed', async () => {
    const settings = { epochs: 1, batchSize: 64, learningRate: 0.003, validationFraction: 0.2 }
    const a = await trainArchitecture(mlp, data, settings, { seed: 3 })
    const b = await trainArchitecture(mlp, data, settings, { seed: 3 })
    expect(b.valLoss).toBeCloseTo(a.valLoss, 5)
  })

  it('reports divergence as training_failed and still disposes everything', async () => {
    const before = tf.memory().numTensors
    const bad: LoadedData = {
      ...data,
      train: { ...data.train, x: data.train.x.map((v, i) => (i === 5 ? NaN : v)) },
    }
    const err = await trainArchitecture(
      mlp,
      bad,
      { epochs: 2, batchSize: 64, learningRate: 0.01, validationFraction: 0.2 },
      { seed: 1 },
    ).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(NasError)
    expect((err as NasError).code).toBe('training_failed')
    expect((err as NasError).message).toMatch(/Training diverged: loss became NaN at epoch 1/)
    expect(tf.memory().numTensors).toBe(before)
  })

  it('stops when the signal aborts', async () => {
    const before = tf.memory().numTensors
    const controller = new AbortController()
    setTimeout(() => controller.abort(), 30)
    const settings = { epochs: 50, batchSize: 16, learningRate: 0.001, validationFraction: 0.2 }
    const t0 = performance.now()
    await expect(
      trainArchitecture(mlp, data, settings, { seed: 1, signal: controller.signal }),
    ).rejects.toMatchObject({
      code: 'cancelled',
    })
    // 50 epochs take seconds; an abort after 30 ms must be seen within a few batches
    expect(performance.now() - t0).toBeLessThan(1000)
    expect(tf.memory().numTensors).toBe(before)
  })
})
