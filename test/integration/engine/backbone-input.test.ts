import { readFile, writeFile } from 'node:fs/promises'
import path from 'node:path'
import sharp from 'sharp'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { inspectBackbone } from '../../../src/engine/backbone-import/inspect'
import { initCompute, tf } from '../../../src/engine/compute/backend'
import { imagesToBackboneInput } from '../../../src/engine/data/backbone-input'
import type { LoadedData } from '../../../src/engine/data/loaded-data'
import { loadBackboneDir } from '../../../src/engine/evaluate/backbone-load'
import { buildModel, observeBuiltModels } from '../../../src/engine/evaluate/build-model'
import { trainArchitecture } from '../../../src/engine/evaluate/train'
import { exportModel, PREPROCESSING_FILE, type Preprocessing } from '../../../src/engine/export/export-model'
import { predictSample } from '../../../src/engine/export'
import { withBackboneInput } from '../../../src/engine/export/preprocessing'
import { openOnnx, predictTf } from '../../../src/engine/export/runtime'
import { fileSaveHandler, readLayerWeights, writeLayerWeights } from '../../../src/engine/export/tfjs-files'
import { Rng } from '../../../src/engine/rng'
import { forgetBackbone, sampleArchitecture, validateSpace } from '../../../src/engine/space'
import type { BackboneInfo, BackboneSpace } from '../../../src/shared'
import { makeTempDir } from '../../helpers/temp-dir'

/**
 * Input size and scaling follow the backbone: grey 6 × 6 images train a head on an 8 × 8 colour backbone that
 * wants pixels in [-1, 1]; the data is resized, turned to colour and scaled on the way in, and the export's
 * preprocessing.json says how, in numbers an outside program can follow.
 */
const DATA_SHAPE = [6, 6, 1]
const tmp = makeTempDir('nas-backbone-input-')
const dir = path.join(tmp.dir, 'colour8')
let info: BackboneInfo

const unitInfo = (inputShape: [number, number, number]): BackboneInfo => ({
  id: 'x',
  name: 'x',
  source: 'file',
  inputShape,
  normalisation: { scale: 1 / 255, offset: 0 },
  cutPoints: [{ layer: 'f', outputShape: [1] }],
  fineTunableBlocks: 1,
  sizeBytes: 0,
  createdAt: '2026-01-01T00:00:00.000Z',
})

beforeAll(async () => {
  await initCompute()
  const input = tf.input({ shape: [8, 8, 3], name: 'image' })
  const conv = tf.layers
    .conv2d({ name: 'conv', filters: 4, kernelSize: 3, padding: 'same', activation: 'relu' })
    .apply(input) as tf.SymbolicTensor
  const gap = tf.layers.globalAveragePooling2d({ name: 'features' }).apply(conv) as tf.SymbolicTensor
  const out = tf.layers.dense({ name: 'classes', units: 2, activation: 'softmax' }).apply(gap)
  const model = tf.model({ inputs: input, outputs: out as tf.SymbolicTensor })
  await model.save(fileSaveHandler(dir))
  model.dispose()
  const inspection = await inspectBackbone(dir)
  info = {
    ...unitInfo([8, 8, 3]),
    id: 'colour8',
    name: 'Colour 8x8',
    normalisation: { scale: 1 / 127.5, offset: -1 },
    cutPoints: inspection.cutPoints,
  }
  await writeFile(path.join(dir, 'backbone.json'), JSON.stringify(info))
  await loadBackboneDir(dir)
})
afterAll(() => {
  forgetBackbone('colour8')
  tmp.cleanup()
})

function data(seed: number): LoadedData {
  const rng = new Rng(seed)
  const part = (count: number) => ({
    x: Float32Array.from({ length: count * 36 }, () => rng.next()),
    y: Int32Array.from({ length: count }, (_, i) => i % 2),
    count,
  })
  return {
    inputShape: DATA_SHAPE,
    classNames: ['a', 'b'],
    numClasses: 2,
    train: part(12),
    validation: part(8),
    test: part(4),
  }
}

const space = (fineTune: BackboneSpace['fineTune']): BackboneSpace => ({
  family: 'backbone',
  version: 1,
  backbones: [{ id: 'colour8', cuts: ['features'] }],
  fineTune,
  pooling: ['globalAvg'],
  minBlocks: 0,
  maxBlocks: 0,
  units: [8],
  activation: ['relu'],
  dropout: [0],
})

describe("images become the backbone's input", () => {
  it('resizes bilinearly with half-pixel centres, converts grey and colour, and scales', () => {
    // a 2 x 2 image, dark left column and white right one, to 4 x 4: columns 0, 1/4, 3/4, 1
    const wide = imagesToBackboneInput(Float32Array.from([0, 1, 0, 1]), 1, [2, 2, 1], unitInfo([4, 4, 1]))
    expect(Array.from(wide.subarray(0, 4)).map((v) => +v.toFixed(5))).toEqual([0, 0.25, 0.75, 1])
    // grey 0.4 to the colour backbone in [-1, 1]: 0.4 * 255 / 127.5 - 1 = -0.2 in R, G and B
    const grey = imagesToBackboneInput(new Float32Array(36).fill(0.4), 1, DATA_SHAPE, info)
    expect(grey.length).toBe(8 * 8 * 3)
    for (const v of grey) expect(v).toBeCloseTo(-0.2, 5)
    // pure red to a grey backbone: its luma
    const red = imagesToBackboneInput(Float32Array.from([1, 0, 0]), 1, [1, 1, 3], unitInfo([1, 1, 1]))
    expect(red[0]).toBeCloseTo(0.299, 5)
  })

  it('refuses data a backbone cannot take, in plain words', () => {
    expect(() => validateSpace(space(['frozen']), [5])).toThrow(/works on images; this data is not images/)
    expect(() => validateSpace(space(['frozen']), [6, 6, 2])).toThrow(
      /takes images with 3 channels; this data has 2, which cannot be converted/,
    )
  })

  it('trains on grey data of another size, frozen and fine-tuned, and exports with the backbone scaling', async () => {
    const d = data(1)
    for (const fineTune of ['frozen', 'all'] as const) {
      const arch = sampleArchitecture(space([fineTune]), new Rng(1), DATA_SHAPE, 2)
      expect(arch.nodes.find((n) => n.op === 'input')).toMatchObject({ shape: [8, 8, 3] })
      const r = await trainArchitecture(
        arch,
        d,
        { epochs: 1, batchSize: 4, learningRate: 0.01, validationFraction: 0.4 },
        { seed: 1, mode: 'final' },
      )
      expect(Number.isFinite(r.valLoss), fineTune).toBe(true)
      expect(r.testAccuracy, fineTune).not.toBeNull()
    }

    // the exported network takes the backbone's input; preprocessing.json says how to make it
    const arch = sampleArchitecture(space(['all']), new Rng(1), DATA_SHAPE, 2)
    let model: tf.LayersModel | null = null
    let weights: ReturnType<typeof readLayerWeights> | null = null
    const stop = observeBuiltModels((m) => (model = m))
    try {
      await trainArchitecture(
        arch,
        d,
        { epochs: 1, batchSize: 4, learningRate: 0.01, validationFraction: 0.4 },
        { seed: 1, onEpoch: () => (weights = readLayerWeights(model!)) },
      )
    } finally {
      stop()
    }
    const trained = buildModel(arch, DATA_SHAPE, 0)
    try {
      writeLayerWeights(trained, weights!)
      const samples = imagesToBackboneInput(d.validation.x, d.validation.count, DATA_SHAPE, info)
      const out = path.join(tmp.dir, 'export')
      const r = await exportModel({
        format: 'onnx',
        model: trained,
        arch,
        inputShape: DATA_SHAPE,
        outDir: out,
        samples: { x: samples, count: d.validation.count },
        preprocessing: withBackboneInput(pre, info, DATA_SHAPE),
        appVersion: 'test',
      })
      expect(r.verified).toBe(true)
      const written = JSON.parse(await readFile(path.join(out, PREPROCESSING_FILE), 'utf8')) as Preprocessing
      expect(written.inputShape).toEqual([8, 8, 3])
      expect(written.image).toMatchObject({ height: 8, width: 8, channels: 3, channelOrder: ['R', 'G', 'B'] })
      expect(written.image!.backbone).toMatchObject({ id: 'colour8', fromShape: DATA_SHAPE })
      expect(written.normalisation).toMatch(/resize bilinear from 6x6 to 8x8/)
      // an outside program: resize the 0-255 pixels, repeat grey into R, G, B, then x * scale + offset from
      // preprocessing.json; the ONNX model then gives what the app's model gives
      const { scale, offset } = written.image!
      const outside = tf.tidy(() => {
        const pixels = tf.mul(tf.tensor4d(d.validation.x, [d.validation.count, 6, 6, 1]), 255)
        const rgb = tf.tile(tf.image.resizeBilinear(pixels as tf.Tensor4D, [8, 8], false, true), [1, 1, 1, 3])
        return tf.add(tf.mul(rgb, tf.tensor1d(scale)), tf.tensor1d(offset)).dataSync() as Float32Array
      })
      const session = await openOnnx(path.join(out, 'model.onnx'))
      try {
        const onnx = await session.predict(outside, d.validation.count, [8, 8, 3])
        const app = predictTf(trained, samples, d.validation.count, [8, 8, 3])
        for (let i = 0; i < app.length; i++) expect(Math.abs(onnx[i]! - app[i]!)).toBeLessThan(1e-4)
      } finally {
        await session.close()
      }
      // "try it" with an image file: decoded at the data's size, then made the backbone's input
      const pixels = Buffer.from(Array.from(d.validation.x.subarray(0, 36), (v) => Math.round(v * 255)))
      const png = await sharp(pixels, { raw: { width: 6, height: 6, channels: 1 } })
        .png()
        .toBuffer()
      const tried = await predictSample({
        kind: 'onnx',
        dir: out,
        inputShape: DATA_SHAPE,
        classNames: ['a', 'b'],
        architecture: arch,
        image: png,
      })
      const exact = imagesToBackboneInput(
        Float32Array.from(pixels, (v) => v / 255),
        1,
        DATA_SHAPE,
        info,
      )
      const expected = predictTf(trained, exact, 1, [8, 8, 3])
      tried.probabilities.forEach((p, i) => expect(Math.abs(p - expected[i]!)).toBeLessThan(1e-4))
    } finally {
      trained.dispose()
    }
  })
})

const pre: Preprocessing = {
  schema: 'nas-studio-preprocessing/2',
  format: 'onnx',
  inputName: 'input',
  inputShape: DATA_SHAPE,
  layout: 'NHWC',
  dtype: 'float32',
  normalisation: 'Images: pixel values divided by 255.',
  image: {
    height: 6,
    width: 6,
    channels: 1,
    channelOrder: ['grey'],
    decode: 'IDX bytes are the pixels as they are (0-255).',
    scale: [1 / 255],
    offset: [0],
  },
  classNames: ['a', 'b'],
  output: 'probabilities',
  model: { kind: 'final model', trial: 1, testAccuracy: null },
  datasetName: 'tiny',
  datasetHash: 'x',
  trialId: 't',
  appVersion: 'test',
}
