import { writeFile } from 'node:fs/promises'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { inspectBackbone } from '../../../src/engine/backbone-import/inspect'
import { initCompute, tf } from '../../../src/engine/compute/backend'
import type { LoadedData } from '../../../src/engine/data/loaded-data'
import { loadBackboneDir, modelToArchitecture } from '../../../src/engine/evaluate/backbone-load'
import { buildModel, observeBuiltModels } from '../../../src/engine/evaluate/build-model'
import { trainArchitecture } from '../../../src/engine/evaluate/train'
import { fileSaveHandler, readLayerWeights, writeLayerWeights } from '../../../src/engine/export/tfjs-files'
import { Rng } from '../../../src/engine/rng'
import { forgetBackbone, inferShapes, sampleArchitecture } from '../../../src/engine/space'
import type { BackboneInfo, BackboneSpace } from '../../../src/shared'
import { makeTempDir } from '../../helpers/temp-dir'
import { expectBothExportsVerified } from '../../helpers/export-checks'

/**
 * The layers MobileNetV2-style models are made of: ZeroPadding2D before a strided 'valid' convolution, ReLU
 * capped at 6 (as a ReLU layer and as an Activation), 'valid' depthwise convolutions. A model of them made
 * here is imported as a backbone, rebuilt with the same outputs, trained through and exported.
 */
const SHAPE = [9, 9, 3]
const tmp = makeTempDir('nas-mobilenet-layers-')
const dir = path.join(tmp.dir, 'backbones', 'mobile')
let original: tf.LayersModel

function mobileNetLike(): tf.LayersModel {
  const apply = (layer: tf.layers.Layer, x: tf.SymbolicTensor) => layer.apply(x) as tf.SymbolicTensor
  const input = tf.input({ shape: SHAPE, name: 'image' })
  let x = apply(
    tf.layers.zeroPadding2d({
      name: 'stem_pad',
      padding: [
        [0, 1],
        [0, 1],
      ],
    }),
    input,
  )
  x = apply(
    tf.layers.conv2d({
      name: 'stem',
      filters: 8,
      kernelSize: 3,
      strides: 2,
      padding: 'valid',
      useBias: false,
    }),
    x,
  )
  x = apply(tf.layers.batchNormalization({ name: 'stem_bn' }), x)
  x = apply(tf.layers.reLU({ name: 'stem_relu', maxValue: 6 }), x)
  x = apply(tf.layers.depthwiseConv2d({ name: 'dw1', kernelSize: 3, padding: 'same', useBias: false }), x)
  x = apply(tf.layers.batchNormalization({ name: 'dw1_bn' }), x)
  x = apply(tf.layers.activation({ name: 'dw1_relu', activation: 'relu6' }), x)
  x = apply(tf.layers.conv2d({ name: 'project', filters: 6, kernelSize: 1, padding: 'same' }), x)
  x = apply(tf.layers.zeroPadding2d({ name: 'dw2_pad', padding: 1 }), x)
  x = apply(tf.layers.depthwiseConv2d({ name: 'dw2', kernelSize: 3, strides: 2, padding: 'valid' }), x)
  x = apply(tf.layers.reLU({ name: 'dw2_relu' }), x)
  x = apply(tf.layers.globalAveragePooling2d({ name: 'features' }), x)
  const out = apply(tf.layers.dense({ name: 'classes', units: 4, activation: 'softmax' }), x)
  const model = tf.model({ inputs: input, outputs: out, name: 'mobilenet_like' })
  // weights and batch-norm statistics far from their initial values, so a wrong rebuild shows
  const rng = new Rng(3)
  model.setWeights(
    model.weights.map((w) => {
      const shape = w.shape as number[]
      const n = shape.reduce((a, b) => a * b, 1)
      const positive = w.name.includes('variance')
      return tf.tensor(
        Float32Array.from({ length: n }, () => (positive ? 0.5 + rng.next() : 2 * rng.next() - 1)),
        shape,
      )
    }),
  )
  return model
}

const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>): number =>
  Array.from(a).reduce((m, v, i) => Math.max(m, Math.abs(v - b[i]!)), 0)

function images(count: number, seed: number): Float32Array {
  const rng = new Rng(seed)
  return Float32Array.from({ length: count * SHAPE.reduce((a, b) => a * b, 1) }, () => rng.next())
}

beforeAll(async () => {
  await initCompute()
  original = mobileNetLike()
  await original.save(fileSaveHandler(dir))
})
afterAll(() => {
  forgetBackbone('mobile')
  original.dispose()
  tmp.cleanup()
})

describe('MobileNetV2-style layers in a backbone', () => {
  it('rebuilds zero padding, ReLU6 and unpadded convolutions with the same outputs', async () => {
    const arch = modelToArchitecture(original)
    const byId = new Map(arch.nodes.map((n) => [n.id, n]))
    expect(byId.get('stem_pad')).toMatchObject({ op: 'zeroPad', padding: [0, 1, 0, 1] })
    expect(byId.get('dw2_pad')).toMatchObject({ op: 'zeroPad', padding: [1, 1, 1, 1] })
    expect(byId.get('stem')).toMatchObject({ op: 'conv2d', padding: 'valid', strides: 2 })
    expect(byId.get('dw2')).toMatchObject({ op: 'depthwiseConv2d', padding: 'valid', strides: 2 })
    expect(byId.get('stem_relu')).toEqual({ id: 'stem_relu', op: 'relu', maxValue: 6 })
    expect(byId.get('dw1_relu')).toEqual({ id: 'dw1_relu', op: 'relu', maxValue: 6 })
    expect(byId.get('dw2_relu')).toEqual({ id: 'dw2_relu', op: 'relu' })
    const shapes = inferShapes(arch, SHAPE)
    for (const layer of original.layers.slice(1))
      expect(shapes.get(layer.name), layer.name).toEqual((layer.outputShape as number[]).slice(1))

    const rebuilt = buildModel(arch, SHAPE, 0)
    try {
      writeLayerWeights(rebuilt, readLayerWeights(original))
      const x = tf.tensor(images(6, 1), [6, ...SHAPE])
      const [a, b] = [original.predict(x) as tf.Tensor, rebuilt.predict(x) as tf.Tensor]
      const diff = tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]!
      tf.dispose([x, a, b])
      expect(diff).toBeLessThan(1e-6)
    } finally {
      rebuilt.dispose()
    }
  })

  it('imports as a backbone, trains a fine-tuned network through those layers and exports it verified', async () => {
    const inspection = await inspectBackbone(dir)
    expect(inspection.cutPoints.map((c) => c.layer)).toEqual([
      'stem_relu',
      'dw1_relu',
      'project',
      'dw2_relu',
      'features',
    ])
    const info: BackboneInfo = {
      id: 'mobile',
      name: 'MobileNet-like test backbone',
      source: 'file',
      inputShape: [9, 9, 3],
      normalisation: { scale: 1 / 255, offset: 0 },
      cutPoints: inspection.cutPoints,
      fineTunableBlocks: inspection.fineTunableBlocks,
      sizeBytes: inspection.sizeBytes,
      createdAt: '2026-01-01T00:00:00.000Z',
    }
    await writeFile(path.join(dir, 'backbone.json'), JSON.stringify(info))
    await loadBackboneDir(dir)
    const space: BackboneSpace = {
      family: 'backbone',
      version: 1,
      backbones: [{ id: 'mobile', cuts: ['features'] }],
      fineTune: ['all'],
      pooling: ['globalAvg'],
      minBlocks: 0,
      maxBlocks: 0,
      units: [8],
      activation: ['relu'],
      dropout: [0],
    }
    const arch = sampleArchitecture(space, new Rng(1), SHAPE, 3)
    const rng = new Rng(2)
    const part = (count: number) => ({
      x: images(count, rng.seed()),
      y: Int32Array.from({ length: count }, (_, i) => i % 3),
      count,
    })
    const data: LoadedData = {
      inputShape: SHAPE,
      classNames: ['a', 'b', 'c'],
      numClasses: 3,
      train: part(12),
      validation: part(6),
      test: part(0),
    }
    let trained: tf.LayersModel | null = null
    const stop = observeBuiltModels((m) => (trained = m))
    let weights: ReturnType<typeof readLayerWeights> | null = null
    try {
      const r = await trainArchitecture(
        arch,
        data,
        { epochs: 1, batchSize: 6, learningRate: 0.01, validationFraction: 0.3 },
        { seed: 1, onEpoch: () => (weights = readLayerWeights(trained!)) },
      )
      expect(r.epochs).toBe(1)
      expect(Number.isFinite(r.valLoss)).toBe(true)
    } finally {
      stop()
    }
    // every convolution of the backbone learned: gradients flow through padding, ReLU6 and 'valid' convolutions
    const start = readLayerWeights(original)
    for (const [name, key] of [
      ['stem', 'kernel'],
      ['dw1', 'depthwise_kernel'],
      ['project', 'kernel'],
      ['dw2', 'depthwise_kernel'],
    ] as const) {
      const now = weights!.get(`bb_${name}`)?.[key]
      expect(now, name).toBeDefined()
      expect(maxDiff(now!.data, start.get(name)![key]!.data), name).toBeGreaterThan(1e-4)
    }

    const model = buildModel(arch, SHAPE, 0)
    try {
      writeLayerWeights(model, weights!)
      await expectBothExportsVerified(model, arch, data, tmp.dir)
    } finally {
      model.dispose()
    }
  })
})
