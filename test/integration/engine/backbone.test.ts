import { writeFile } from 'node:fs/promises'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { initCompute, tf } from '../../../src/engine/compute/backend'
import type { LoadedData } from '../../../src/engine/data/loaded-data'
import { loadBackboneDir } from '../../../src/engine/evaluate/backbone-load'
import { featureCacheStats } from '../../../src/engine/evaluate/backbone-train'
import { scaleWidth } from '../../../src/engine/evaluate/proxy'
import { TwoRateOptimizer } from '../../../src/engine/evaluate/two-rate'
import type { LayerWeights } from '../../../src/engine/export/onnx'
import { loadTrainedModel, saveTrainedModel } from '../../../src/engine/export/trained-model'
import { Rng } from '../../../src/engine/rng'
import {
  buildBackboneArch,
  forgetBackbone,
  sampleArchitecture,
  validateSpace,
} from '../../../src/engine/space'
import type { Architecture, BackboneInfo, BackboneSpace, TrainSettings } from '../../../src/shared'
import { makeTempDir } from '../../helpers/temp-dir'
import { expectBothExportsVerified, trainOnce } from '../../helpers/export-checks'

/**
 * Pretrained backbones with real tf.js training on tiny data: a backbone made and trained here, saved as a
 * backbone folder, loaded back; heads trained on it keep the frozen layers' weights, share one feature pass,
 * and the whole network exports to TF.js and ONNX and reloads with the same predictions.
 */
const SHAPE = [8, 8, 1]
const CLASSES = 3
const SETTINGS: TrainSettings = { epochs: 1, batchSize: 12, learningRate: 0.01, validationFraction: 0.1 }

const BACKBONE: Architecture = {
  version: 1,
  nodes: [
    { id: 'in', op: 'input' },
    { id: 'c1', op: 'conv2d', filters: 4, kernelSize: 3, activation: 'relu' },
    { id: 'b1', op: 'batchNorm' },
    { id: 'p1', op: 'maxPool2d', poolSize: 2 },
    { id: 'c2', op: 'conv2d', filters: 6, kernelSize: 3, activation: 'relu' },
    { id: 'b2', op: 'batchNorm' },
    { id: 'c3', op: 'conv2d', filters: 6, kernelSize: 3, strides: 2, activation: 'relu' },
    { id: 'gap', op: 'globalAvgPool' },
    { id: 'fc', op: 'dense', units: 5, activation: 'softmax' },
  ],
  edges: [
    ['in', 'c1'],
    ['c1', 'b1'],
    ['b1', 'p1'],
    ['p1', 'c2'],
    ['c2', 'b2'],
    ['b2', 'c3'],
    ['c3', 'gap'],
    ['gap', 'fc'],
  ],
  output: 'fc',
}

const INFO: BackboneInfo = {
  id: 'tiny',
  name: 'Tiny test backbone',
  source: 'run',
  inputShape: [8, 8, 1],
  normalisation: { scale: 1 / 255, offset: 0 },
  cutPoints: [
    { layer: 'p1', outputShape: [4, 4, 4] },
    { layer: 'b2', outputShape: [4, 4, 6] },
    { layer: 'c3', outputShape: [2, 2, 6] },
  ],
  fineTunableBlocks: 3,
  sizeBytes: 0,
  createdAt: '2026-01-01T00:00:00.000Z',
}

const space = (over: Partial<BackboneSpace> = {}): BackboneSpace => ({
  family: 'backbone',
  version: 1,
  backbones: [{ id: 'tiny', cuts: ['b2'] }],
  fineTune: ['frozen'],
  pooling: ['globalAvg', 'flatten'],
  minBlocks: 0,
  maxBlocks: 1,
  units: [8, 12],
  activation: ['relu'],
  dropout: [0, 0.2],
  ...over,
})

function tinyData(seed: number, classes = CLASSES): LoadedData {
  const rng = new Rng(seed)
  const size = SHAPE.reduce((a, b) => a * b, 1)
  const part = (count: number) => ({
    x: Float32Array.from({ length: count * size }, () => rng.next()),
    y: Int32Array.from({ length: count }, (_, i) => i % classes),
    count,
  })
  return {
    inputShape: SHAPE,
    classNames: Array.from({ length: classes }, (_, i) => `c${i}`),
    numClasses: classes,
    train: part(24),
    validation: part(30),
    test: part(0),
  }
}

const tmp = makeTempDir('nas-backbone-')
const backboneDir = path.join(tmp.dir, 'backbones', 'tiny')
let pretrained: LayerWeights

beforeAll(async () => {
  await initCompute()
  // "pretraining": one real epoch on five other classes, saved as a backbone folder
  pretrained = await trainOnce(BACKBONE, tinyData(7, 5), SETTINGS)
  await saveTrainedModel(BACKBONE, SHAPE, pretrained, backboneDir)
  await writeFile(path.join(backboneDir, 'backbone.json'), JSON.stringify(INFO))
  await loadBackboneDir(backboneDir)
})
afterAll(() => {
  forgetBackbone('tiny')
  tmp.cleanup()
})

const same = (a: Float32Array, b: Float32Array): boolean => a.every((v, i) => v === b[i])

describe('pretrained backbones', () => {
  it('builds candidates on the backbone and explains spaces that cannot work in plain words', () => {
    const arch = sampleArchitecture(space(), new Rng(1), SHAPE, CLASSES)
    expect(arch.nodes.map((n) => n.id)).toEqual(expect.arrayContaining(['bb_c1', 'bb_p1', 'bb_b2']))
    expect(arch.nodes.map((n) => n.id)).not.toContain('bb_c3')
    expect(() => validateSpace(space({ backbones: [{ id: 'tiny', cuts: ['c9'] }] }))).toThrow(
      'The backbone "Tiny test backbone" cannot be cut at "c9": choose one of "p1", "b2", "c3"',
    )
    expect(() => validateSpace(space({ fineTune: [3] }))).toThrow(
      'Fine-tuning the last 3 blocks is not possible with "Tiny test backbone" cut at "b2": at most 2 blocks are there to fine-tune',
    )
    expect(() => validateSpace(space({ backbones: [{ id: 'gone', cuts: ['b2'] }] }))).toThrow(
      'The backbone "gone" is not available on this computer',
    )
    // other sizes are resized and colour turned grey; two channels cannot be converted
    expect(() => validateSpace(space(), [16, 16, 3])).not.toThrow()
    expect(() => validateSpace(space(), [16, 16, 2])).toThrow(
      'The backbone "Tiny test backbone" takes images with 1 channel; this data has 2, which cannot be converted (only grey and colour can).',
    )
    // the width proxy narrows the head only: the backbone's layers keep the shapes of their weights
    const head = sampleArchitecture(space({ minBlocks: 1 }), new Rng(2), SHAPE, CLASSES)
    const narrow = scaleWidth(head, 0.5, SHAPE)
    for (const n of narrow.nodes)
      expect(n, n.id).toEqual(
        n.id.startsWith('bb_') || n.id === head.output ? head.nodes.find((m) => m.id === n.id) : n,
      )
    expect(narrow.nodes.filter((n) => n.op === 'dense')[0]).not.toEqual(
      head.nodes.filter((n) => n.op === 'dense')[0],
    )
    expect(() => validateSpace(space({ minBlocks: 2, maxBlocks: 1 }))).toThrow(
      'minBlocks must not exceed maxBlocks',
    )
  })

  it('keeps frozen layers unchanged, trains fine-tuned ones and computes frozen features once per dataset', async () => {
    const data = tinyData(3)
    const { hits, misses } = featureCacheStats
    const gene = (fineTune: 'frozen' | 1, units: number) =>
      buildBackboneArch(
        {
          family: 'backbone',
          backbone: 'tiny',
          cut: 'b2',
          fineTune,
          fineTuneRate: 0.1,
          pooling: 'globalAvg',
          blocks: [{ units, activation: 'relu', dropout: 0 }],
        },
        SHAPE,
        CLASSES,
      )
    await trainOnce(gene('frozen', 8), data, SETTINGS)
    await trainOnce(gene('frozen', 12), data, SETTINGS)
    // train and validation splits: computed for the first head, taken from the cache for the second
    expect(featureCacheStats.misses - misses).toBe(2)
    expect(featureCacheStats.hits - hits).toBe(2)

    const arch = gene(1, 8)
    const weights = await trainOnce(arch, data, SETTINGS)
    const dir = path.join(tmp.dir, 'fine-tuned')
    await saveTrainedModel(arch, SHAPE, weights, dir)
    const saved = await loadTrainedModel(dir)
    try {
      const w = (layer: string, key: string) => {
        const v = saved.getLayer(layer).weights.find((x) => x.originalName.endsWith(`/${key}`))!
        return v.read().dataSync() as Float32Array
      }
      // the block before the boundary is frozen (batch-norm statistics included); the last block learned
      expect(same(w('bb_c1', 'kernel'), pretrained.get('c1')!['kernel']!.data)).toBe(true)
      expect(same(w('bb_b1', 'moving_mean'), pretrained.get('b1')!['moving_mean']!.data)).toBe(true)
      expect(same(w('bb_c2', 'kernel'), pretrained.get('c2')!['kernel']!.data)).toBe(false)
    } finally {
      saved.dispose()
    }
  })

  it('moves fine-tuned layers at the lower rate', () => {
    const fast = tf.variable(tf.zeros([4]), true, 'head/kernel')
    const slow = tf.variable(tf.zeros([4]), true, 'bb_x/kernel')
    const opt = new TwoRateOptimizer(tf.train.sgd(0.5), tf.train.sgd(0.5), 'bb_', 0.1)
    opt.setLearningRate(0.5)
    const grads = { 'head/kernel': tf.ones([4]), 'bb_x/kernel': tf.ones([4]) }
    opt.applyGradients(grads)
    expect(fast.dataSync()[0]).toBeCloseTo(-0.5, 6)
    expect(slow.dataSync()[0]).toBeCloseTo(-0.05, 6)
    tf.dispose([fast, slow, ...Object.values(grads)])
    opt.dispose()
  })

  it('exports backbone and head as one network to TF.js and ONNX, reloading with the same predictions', async () => {
    const arch = sampleArchitecture(space({ fineTune: [1] }), new Rng(4), SHAPE, CLASSES)
    const data = tinyData(5)
    const weights = await trainOnce(arch, data, SETTINGS)
    const dir = path.join(tmp.dir, 'export-model')
    await saveTrainedModel(arch, SHAPE, weights, dir)
    const model = await loadTrainedModel(dir)
    try {
      await expectBothExportsVerified(model, arch, data, tmp.dir)
    } finally {
      model.dispose()
    }
  })
})
