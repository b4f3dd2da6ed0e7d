import { NasError, type BackboneCutPoint } from '../../shared'
import { initHostCompute, tf } from '../compute/backend'
import { modelToArchitecture } from '../evaluate/backbone-load'
import { readFile } from 'node:fs/promises'
import path from 'node:path'
import { readModelFiles } from './model-files'

/** What a folder's TF.js Layers model offers as a backbone. */
export interface BackboneInspection {
  /** [height, width, channels] of its one image input. */
  inputShape: [number, number, number]
  /** Layers whose output can feed a head, input side first (see backboneCutPoints). */
  cutPoints: BackboneCutPoint[]
  /** One block per cut point: "fine-tune the last k blocks" takes k up to this. */
  fineTunableBlocks: number
  /** Weight files relative to the folder, as model.json names them. */
  weightPaths: string[]
  /** Bytes of model.json and its weight files. */
  sizeBytes: number
  /** The name the model gives itself (Keras's model name, e.g. "mobilenetv2_0.35_224"). */
  modelName: string
}

/**
 * Checks that `dir` (its `modelFile`, default model.json) holds a TF.js Layers model usable as a backbone and
 * describes it: model.json and every weight file present and complete, only layers TF.js knows, one 4-D image
 * input, only layers a search can rebuild, and at least one layer whose output can serve as features. Loads the model once (weights included) and disposes it.
 * Throws NasError('bad_request') saying, in plain words, what is wrong.
 */
export async function inspectBackbone(dir: string, modelFile?: string): Promise<BackboneInspection> {
  const files = await readModelFiles(dir, modelFile)
  const known = tf.serialization.SerializationMap.getMap().classNameMap
  for (const layer of files.layers) {
    if (!(layer.class_name in known)) {
      const name = layer.config?.name ? ` (layer "${layer.config.name}")` : ''
      throw new NasError(
        'bad_request',
        `The model uses a layer TF.js cannot load: ${layer.class_name}${name}. Only standard Keras layers can be used; rebuild the model without it.`,
      )
    }
  }
  await initHostCompute()
  let model: tf.LayersModel
  try {
    const buffers = await Promise.all(files.weightPaths.map((p) => readFile(path.join(dir, p))))
    const weightData = tf.io.concatenateArrayBuffers(
      buffers.map((b) => b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer),
    )
    model = await tf.loadLayersModel(
      tf.io.fromMemory({
        modelTopology: files.modelTopology,
        weightSpecs: files.weightSpecs as tf.io.WeightsManifestEntry[],
        weightData,
      }),
    )
  } catch (err) {
    const why = (err as Error).message.split(dir).join('the model folder')
    throw new NasError('bad_request', `TF.js could not load the model: ${why}`)
  }
  try {
    const inputShape = imageInputShape(model)
    rebuildable(model)
    const cutPoints = backboneCutPoints(model)
    if (cutPoints.length === 0) {
      throw new NasError(
        'bad_request',
        'No layer of this model gives features a head can use (an image feature map or a vector that all of the input flows through).',
      )
    }
    return {
      inputShape,
      cutPoints,
      fineTunableBlocks: cutPoints.length,
      weightPaths: files.weightPaths,
      sizeBytes: files.sizeBytes,
      modelName: model.name,
    }
  } finally {
    model.dispose()
  }
}

/** Searches rebuild a backbone from its layers (evaluate/backbone-load): refuse now what they could not rebuild. */
function rebuildable(model: tf.LayersModel): void {
  try {
    modelToArchitecture(model)
  } catch (err) {
    if (err instanceof NasError) throw new NasError('bad_request', err.message)
    throw err
  }
}

function imageInputShape(model: tf.LayersModel): [number, number, number] {
  if (model.inputs.length !== 1) {
    throw new NasError(
      'bad_request',
      `The model has ${model.inputs.length} inputs; a backbone needs exactly one, an image.`,
    )
  }
  const shape = model.inputs[0]!.shape
  const [, h, w, c] = shape
  const sized = (d: number | null | undefined): d is number => typeof d === 'number' && d > 0
  if (shape.length !== 4 || !sized(h) || !sized(w) || !sized(c)) {
    const shown = shape.slice(1).map((d) => (d === null ? 'any' : String(d)))
    throw new NasError(
      'bad_request',
      `The model's input is [${shown.join(', ')}]; a backbone needs an image input of a fixed height × width × channels (for example 224 × 224 × 3).`,
    )
  }
  return [h, w, c]
}

/** Layers whose output is no new feature: the image itself, or the layer before them with zeros around it. */
const NOT_FEATURES = new Set(['InputLayer', 'ZeroPadding2D'])

/** Layers that merely transform the layer before them; a cut right after their predecessor is no better. */
const FOLLOW_ON = new Set([
  'BatchNormalization',
  'Activation',
  'ReLU',
  'LeakyReLU',
  'ELU',
  'PReLU',
  'Softmax',
  'ThresholdedReLU',
  'Dropout',
  'SpatialDropout1D',
  'SpatialDropout2D',
  'GaussianNoise',
  'GaussianDropout',
  'AlphaDropout',
])

/**
 * The layers a backbone can be cut at: those all of the input flows through (no connection skips past them,
 * so their output alone carries everything), with one feature-map [h, w, c] or vector [n] output, not
 * followed by a mere activation, normalisation or dropout of themselves (the cut goes after those), not a
 * zero padding, and not a classifier's final softmax / sigmoid. In the model's (topological) layer order.
 */
export function backboneCutPoints(model: tf.LayersModel): BackboneCutPoint[] {
  const layers = model.layers
  const index = new Map(layers.map((l, i) => [l, i]))
  const edges: Array<[number, number]> = []
  const consumers = new Map<number, number[]>()
  for (const [v, layer] of layers.entries()) {
    for (const node of layer.inboundNodes) {
      for (const from of node.inboundLayers) {
        const u = index.get(from)
        if (u === undefined) continue
        edges.push([u, v])
        consumers.set(u, [...(consumers.get(u) ?? []), v])
      }
    }
  }
  // skipped[i] > 0: some connection runs from before layer i to after it, bypassing it
  const skipped = new Array<number>(layers.length + 1).fill(0)
  for (const [u, v] of edges) {
    if (v - u < 2) continue
    skipped[u + 1]! += 1
    skipped[v]! -= 1
  }
  const out: BackboneCutPoint[] = []
  let open = 0
  const last = layers.length - 1
  for (const [i, layer] of layers.entries()) {
    open += skipped[i]!
    if (open > 0 || NOT_FEATURES.has(layer.getClassName())) continue
    const shape = layer.outputShape
    if (!Array.isArray(shape) || Array.isArray(shape[0])) continue
    const dims = (shape as Array<number | null>).slice(1)
    if (!(dims.length === 3 || dims.length === 1) || !dims.every((d) => typeof d === 'number' && d > 0))
      continue
    const next = consumers.get(i) ?? []
    if (next.length === 1 && FOLLOW_ON.has(layers[next[0]!]!.getClassName())) continue
    if (i === last && isClassifierOutput(layer)) continue
    out.push({ layer: layer.name, outputShape: dims as number[] })
  }
  return out
}

function isClassifierOutput(layer: tf.layers.Layer): boolean {
  const config = layer.getConfig() as { activation?: unknown }
  return (
    layer.getClassName() === 'Softmax' || config.activation === 'softmax' || config.activation === 'sigmoid'
  )
}
