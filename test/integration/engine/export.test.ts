import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import sharp from 'sharp'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { initCompute, tf } from '../../../src/engine/compute/backend'
import type { LoadedData } from '../../../src/engine/data/loaded-data'
import { exportModel } from '../../../src/engine/export/export-model'
import { decodeModel } from '../../../src/engine/export/onnx-proto'
import { loadTrainedModel, saveTrainedModel } from '../../../src/engine/export/trained-model'
import { predictSample } from '../../../src/engine/export'
import { Rng } from '../../../src/engine/rng'
import { sampleArchitecture } from '../../../src/engine/space'
import type { Architecture, SearchSpaceDef } from '../../../src/shared'
import { testPreprocessing, trainOnce } from '../../helpers/export-checks'

/**
 * Export of every space family: one quick training step (as a trial worker does: weights copied after the
 * epoch, saved, reloaded), then TF.js and ONNX exports reloaded in tf.loadLayersModel and onnxruntime-node
 * must predict like the trained model within 1e-4 on validation samples. Tiny inputs and channels.
 */
const IMAGE = [8, 8, 3]
const TABLE = [6]
const CLASSES = 3

/** Every op of the IR at once: strided conv, separable, 1x1 projection, add, BN, dilated strided depthwise,
 * strided zero, concat, 'same' avg pool, max pool, flatten of a feature map (layout), dense, softmax. */
const ALL_OPS: Architecture = {
  version: 1,
  nodes: [
    { id: 'in', op: 'input' },
    { id: 'a', op: 'conv2d', filters: 4, kernelSize: 3, strides: 2, activation: 'relu' },
    { id: 'b', op: 'sepConv2d', filters: 4, kernelSize: 3, activation: 'swish' },
    { id: 'p', op: 'conv2d', filters: 4, kernelSize: 1, strides: 2, activation: 'linear', useBias: false },
    { id: 's', op: 'add' },
    { id: 'bn', op: 'batchNorm' },
    { id: 'd', op: 'depthwiseConv2d', kernelSize: 3, dilation: 2, strides: 2, activation: 'elu' },
    { id: 'dw', op: 'depthwiseConv2d', kernelSize: 3, strides: 2, activation: 'selu' },
    { id: 'z', op: 'zero', strides: 2 },
    { id: 'cat', op: 'concat' },
    { id: 'act', op: 'activation', activation: 'tanh' },
    { id: 'avg', op: 'avgPool2d', poolSize: 3, strides: 1, padding: 'same' },
    { id: 'mx', op: 'maxPool2d', poolSize: 2, strides: 1, padding: 'same' },
    { id: 'id', op: 'identity' },
    { id: 'f', op: 'flatten' },
    { id: 'drop', op: 'dropout', rate: 0.2 },
    { id: 'h', op: 'dense', units: 5, activation: 'sigmoid' },
    { id: 'out', op: 'dense', units: CLASSES, activation: 'softmax' },
  ],
  edges: [
    ['in', 'a'],
    ['a', 'b'],
    ['in', 'p'],
    ['b', 's'],
    ['p', 's'],
    ['s', 'bn'],
    ['bn', 'd'],
    ['bn', 'dw'],
    ['bn', 'z'],
    ['d', 'cat'],
    ['dw', 'cat'],
    ['z', 'cat'],
    ['cat', 'act'],
    ['act', 'avg'],
    ['avg', 'mx'],
    ['mx', 'id'],
    ['id', 'f'],
    ['f', 'drop'],
    ['drop', 'h'],
    ['h', 'out'],
  ],
  output: 'out',
}

const SPACES: Array<{ name: string; shape: number[]; def: SearchSpaceDef; samples: number }> = [
  {
    name: 'sequential',
    shape: IMAGE,
    samples: 2,
    def: {
      family: 'sequential',
      version: 1,
      minLayers: 3,
      maxLayers: 4,
      ops: [
        { op: 'conv2d', filters: [4], kernelSize: [3], activation: ['relu', 'elu'], strides: [1, 2] },
        { op: 'sepConv2d', filters: [4], kernelSize: [3], activation: ['swish'] },
        { op: 'maxPool2d', poolSize: [2] },
        { op: 'avgPool2d', poolSize: [2] },
        { op: 'batchNorm' },
        { op: 'dropout', rate: [0.1] },
        { op: 'dense', units: [6], activation: ['tanh'] },
      ],
    },
  },
  {
    name: 'chain',
    shape: IMAGE,
    samples: 2,
    def: {
      family: 'chain',
      version: 1,
      stemFilters: [4],
      minBlocks: 2,
      maxBlocks: 2,
      filters: [4, 6],
      strides: [1, 2],
      branches: [1, 2],
      merge: ['add', 'concat'],
      skip: ['add', 'concat'],
      batchNorm: [true],
      ops: [
        { op: 'conv2d', kernelSize: [3], activation: ['relu'] },
        { op: 'sepConv2d', kernelSize: [3], activation: ['relu'] },
        { op: 'maxPool2d', poolSize: [3] },
        { op: 'avgPool2d', poolSize: [3] },
        { op: 'identity' },
      ],
    },
  },
  {
    name: 'cell',
    shape: IMAGE,
    samples: 2,
    def: {
      family: 'cell',
      version: 1,
      nodes: 2,
      ops: [
        'none',
        'skip_connect',
        'sep_conv_3x3',
        'dil_conv_3x3',
        'dil_conv_5x5',
        'max_pool_3x3',
        'avg_pool_3x3',
        'conv_1x1',
      ],
      initChannels: [4],
      cellsPerStage: [1],
      stages: 2,
      stemMultiplier: 1,
      concat: 'all',
    },
  },
  {
    name: 'nb201',
    shape: IMAGE,
    samples: 2,
    def: {
      family: 'nb201',
      version: 1,
      ops: ['none', 'skip_connect', 'nor_conv_1x1', 'nor_conv_3x3', 'avg_pool_3x3'],
      channels: [4],
      cellsPerStage: [1],
    },
  },
  {
    name: 'mlp',
    shape: TABLE,
    samples: 2,
    def: {
      family: 'mlp',
      version: 1,
      minBlocks: 2,
      maxBlocks: 2,
      units: [8],
      activation: ['relu', 'elu', 'swish'],
      dropout: [0, 0.1],
      batchNorm: [true],
    },
  },
]

function tinyData(shape: number[], seed: number): LoadedData {
  const rng = new Rng(seed)
  const size = shape.reduce((a, b) => a * b, 1)
  const part = (count: number) => ({
    x: Float32Array.from({ length: count * size }, () => rng.next()),
    y: Int32Array.from({ length: count }, (_, i) => i % CLASSES),
    count,
  })
  return {
    inputShape: shape,
    classNames: ['a', 'b', 'c'],
    numClasses: CLASSES,
    train: part(24),
    validation: part(100),
    test: part(0),
  }
}

let tmp = ''
const results: Record<string, { tfjs: number; onnx: number }> = {}
const seenOps = new Set<string>()

beforeAll(async () => {
  await initCompute()
  tmp = await mkdtemp(path.join(tmpdir(), 'nas-export-'))
})
afterAll(async () => {
  // per-family maximum differences, for the record
  console.log(JSON.stringify(results))
  await rm(tmp, { recursive: true, force: true })
})

async function exportBoth(name: string, arch: Architecture, shape: number[], seed: number): Promise<void> {
  for (const n of arch.nodes)
    seenOps.add(n.op === 'depthwiseConv2d' && (n.dilation ?? 1) > 1 ? 'dilated' : n.op)
  const data = tinyData(shape, seed)
  const weights = await trainOnce(arch, data, {
    epochs: 1,
    batchSize: 12,
    learningRate: 0.01,
    validationFraction: 0.1,
  })
  const modelDir = path.join(tmp, `${name}-trained`)
  await saveTrainedModel(arch, shape, weights, modelDir)
  const before = tf.memory().numTensors
  const model = await loadTrainedModel(modelDir)
  try {
    for (const format of ['tfjs', 'onnx'] as const) {
      const r = await exportModel({
        format,
        model,
        arch,
        inputShape: shape,
        outDir: path.join(tmp, `${name}-${format}`),
        samples: { x: data.validation.x, count: data.validation.count },
        preprocessing: testPreprocessing(shape, data.classNames),
        appVersion: 'test',
      })
      expect(r.samples).toBe(100)
      expect(r.maxAbsDiff, `${name} ${format}`).toBeLessThan(1e-4)
      expect(r.verified).toBe(true)
      const family = name.split('-')[0]!
      results[family] ??= { tfjs: 0, onnx: 0 }
      results[family][format] = Math.max(results[family][format], r.maxAbsDiff)
    }
  } finally {
    model.dispose()
  }
  expect(tf.memory().numTensors).toBe(before)
}

describe('export of every space family, verified in TF.js and onnxruntime-node', () => {
  it('every op of the IR at once', async () => {
    await exportBoth('ops-all', ALL_OPS, IMAGE, 5)
    const onnx = decodeModel(await readFile(path.join(tmp, 'ops-all-onnx', 'model.onnx')))
    expect((onnx.opset_import as Array<{ version: number }>)[0]!.version).toBe(13)
    const json = JSON.parse(await readFile(path.join(tmp, 'ops-all-tfjs', 'model.json'), 'utf8'))
    // standard layers only: any tf.loadLayersModel can read it without our custom classes
    expect(JSON.stringify(json.modelTopology)).not.toMatch(/Nas(Zero|DilatedDepthwiseConv2D)/)
    const meta = JSON.parse(await readFile(path.join(tmp, 'ops-all-onnx', 'preprocessing.json'), 'utf8'))
    expect(meta).toMatchObject({
      inputShape: IMAGE,
      layout: 'NHWC',
      classNames: ['a', 'b', 'c'],
      onnxOpset: 13,
    })
  })

  it.each(SPACES)('$name', async ({ name, shape, def, samples }) => {
    for (let s = 0; s < samples; s++) {
      const arch = sampleArchitecture(def, new Rng(11 + s), shape, CLASSES)
      await exportBoth(`${name}-${s}`, arch, shape, s)
    }
  })

  it('predicts one table row or one image with the written exports (try-it)', async () => {
    const row = [0.1, -0.4, 1.2, 0, 0.3, -2]
    const mlp = (kind: 'tfjs' | 'onnx') =>
      predictSample({
        kind,
        dir: path.join(tmp, `mlp-0-${kind}`),
        inputShape: TABLE,
        classNames: ['a', 'b', 'c'],
        row,
      })
    const [a, b] = await Promise.all([mlp('tfjs'), mlp('onnx')])
    expect(a.probabilities).toHaveLength(CLASSES)
    expect(a.predictedIndex).toBe(b.predictedIndex)
    for (let i = 0; i < CLASSES; i++)
      expect(Math.abs(a.probabilities[i]! - b.probabilities[i]!)).toBeLessThan(1e-4)
    await expect(
      predictSample({
        kind: 'onnx',
        dir: path.join(tmp, 'mlp-0-onnx'),
        inputShape: TABLE,
        classNames: [],
        row: [1],
      }),
    ).rejects.toThrow('The row has 1 values; this model takes 6 features')
    const png = await sharp({ create: { width: 20, height: 12, channels: 4, background: '#80402080' } })
      .png()
      .toBuffer()
    const image = await predictSample({
      kind: 'onnx',
      dir: path.join(tmp, 'ops-all-onnx'),
      inputShape: IMAGE,
      classNames: ['a', 'b', 'c'],
      image: png,
    })
    expect(image.probabilities.reduce((x, y) => x + y, 0)).toBeCloseTo(1, 5)
    await expect(
      predictSample({
        kind: 'tfjs',
        dir: path.join(tmp, 'ops-all-tfjs'),
        inputShape: IMAGE,
        classNames: [],
        image: Buffer.from('not an image'),
      }),
    ).rejects.toThrow('The image could not be decoded')
  })

  it('covered every op of the IR', () => {
    const all = [
      'input',
      'flatten',
      'dense',
      'conv2d',
      'sepConv2d',
      'depthwiseConv2d',
      'dilated',
      'maxPool2d',
      'avgPool2d',
      'globalAvgPool',
      'dropout',
      'batchNorm',
      'activation',
      'identity',
      'zero',
      'add',
      'concat',
    ]
    expect(all.filter((op) => !seenOps.has(op))).toEqual([])
  })
})
