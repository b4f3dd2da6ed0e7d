import { readFile } from 'node:fs/promises'
import path from 'node:path'
import type { Activation, ArchNode, Architecture } from '../../shared'
import { BACKBONE_INFO_FILE, NasError, backboneInfoSchema } from '../../shared'
import type { tf } from '../compute/backend'
import { loadModelDir, readLayerWeights } from '../export/tfjs-files'
import type { LoadedBackbone } from '../space/backbones'
import {
  backboneDir,
  backboneInfoOf,
  findBackbone,
  registerBackbone,
  setBackboneDirs,
} from '../space/backbones'
import { inferShapes } from '../space/shapes'
import './custom-layers'

/**
 * Loads a backbone folder (a TF.js Layers model + backbone.json) into the registry: its layers become nodes of
 * our IR (so a backbone network builds, trains and exports like any other) and its weights plain arrays.
 * Layers NAS Studio cannot rebuild are refused in plain words.
 */

type Config = Record<string, unknown>

const ACTIVATIONS: readonly string[] = ['relu', 'elu', 'selu', 'tanh', 'sigmoid', 'swish', 'linear']

function unsupported(layer: string, what: string): NasError {
  return new NasError(
    'invalid_space',
    `This backbone cannot be used: its layer "${layer}" ${what}, which NAS Studio cannot rebuild.`,
  )
}

function square(layer: string, value: unknown, what: string): number {
  const v = Array.isArray(value) ? (value as number[]) : [value as number, value as number]
  if (v[0] !== v[1]) throw unsupported(layer, `has a non-square ${what} (${v.join(' x ')})`)
  return v[0]!
}

function activationOf(layer: string, value: unknown): Activation {
  const a = String(value ?? 'linear')
  if (!ACTIVATIONS.includes(a)) throw unsupported(layer, `uses the activation "${a}"`)
  return a as Activation
}

function convPadding(layer: string, c: Config): 'same' | 'valid' {
  const p = c['padding']
  if (p !== 'same' && p !== 'valid') throw unsupported(layer, `uses "${String(p)}" padding`)
  return p
}

/** ZeroPadding2D's padding as [top, bottom, left, right] (Keras allows n, [h, w] or [[t, b], [l, r]]). */
function zeroPadding(layer: string, c: Config): [number, number, number, number] {
  if (c['dataFormat'] === 'channelsFirst') throw unsupported(layer, 'pads channels-first data')
  const p = c['padding']
  const pair = (v: unknown): [number, number] =>
    Array.isArray(v) ? [Number(v[0]), Number(v[1])] : [Number(v), Number(v)]
  const [h, w] = Array.isArray(p) ? [pair(p[0]), pair(p[1])] : [pair(p), pair(p)]
  const out: [number, number, number, number] = [h[0], h[1], w[0], w[1]]
  if (!out.every((v) => Number.isInteger(v) && v >= 0)) throw unsupported(layer, 'has an unreadable padding')
  return out
}

/** A ReLU layer: plain, or capped (ReLU6); leaky or thresholded ones are refused. */
function reluNode(id: string, c: Config): ArchNode {
  if (Number(c['negativeSlope'] ?? 0) !== 0 || Number(c['threshold'] ?? 0) !== 0)
    throw unsupported(id, 'is a leaky or thresholded ReLU')
  const max = c['maxValue']
  if (max === null || max === undefined) return { id, op: 'relu' }
  if (typeof max !== 'number' || !(max > 0)) throw unsupported(id, `caps ReLU at ${String(max)}`)
  return { id, op: 'relu', maxValue: max }
}

/** One tf.js layer as an IR node (id = layer name). */
function toNode(layer: tf.layers.Layer): ArchNode {
  const id = layer.name
  const c = layer.getConfig() as Config
  const className = layer.getClassName()
  switch (className) {
    case 'InputLayer':
      return { id, op: 'input' }
    case 'Dense': {
      const activation = String(c['activation'] ?? 'linear')
      return {
        id,
        op: 'dense',
        units: c['units'] as number,
        activation: activation === 'softmax' ? 'softmax' : activationOf(id, activation),
      }
    }
    case 'Conv2D':
    case 'SeparableConv2D': {
      const padding = convPadding(id, c)
      if (square(id, c['dilationRate'] ?? 1, 'dilation') !== 1) throw unsupported(id, 'is dilated')
      if (className === 'SeparableConv2D' && (c['depthMultiplier'] ?? 1) !== 1)
        throw unsupported(id, 'has a depth multiplier')
      const conv = {
        id,
        filters: c['filters'] as number,
        kernelSize: square(id, c['kernelSize'], 'kernel'),
        strides: square(id, c['strides'] ?? 1, 'stride'),
        activation: activationOf(id, c['activation']),
        useBias: c['useBias'] !== false,
        padding,
      }
      return className === 'Conv2D' ? { ...conv, op: 'conv2d' } : { ...conv, op: 'sepConv2d' }
    }
    case 'DepthwiseConv2D': {
      const padding = convPadding(id, c)
      if ((c['depthMultiplier'] ?? 1) !== 1) throw unsupported(id, 'has a depth multiplier')
      return {
        id,
        op: 'depthwiseConv2d',
        kernelSize: square(id, c['kernelSize'], 'kernel'),
        strides: square(id, c['strides'] ?? 1, 'stride'),
        activation: activationOf(id, c['activation']),
        useBias: c['useBias'] !== false,
        padding,
      }
    }
    case 'NasDilatedDepthwiseConv2D':
      return {
        id,
        op: 'depthwiseConv2d',
        kernelSize: c['kernelSize'] as number,
        dilation: c['dilation'] as number,
        strides: (c['strides'] as number | undefined) ?? 1,
        activation: activationOf(id, c['activation']),
        useBias: c['useBias'] !== false,
      }
    case 'MaxPooling2D':
    case 'AveragePooling2D': {
      const padding = c['padding'] === 'same' ? 'same' : 'valid'
      return {
        id,
        op: className === 'MaxPooling2D' ? 'maxPool2d' : 'avgPool2d',
        poolSize: square(id, c['poolSize'], 'pool size'),
        strides: square(id, c['strides'] ?? c['poolSize'], 'stride'),
        padding,
      }
    }
    case 'GlobalAveragePooling2D':
      return { id, op: 'globalAvgPool' }
    case 'Flatten':
      return { id, op: 'flatten' }
    case 'Dropout':
      return { id, op: 'dropout', rate: Math.min(0.95, c['rate'] as number) }
    case 'BatchNormalization':
      return { id, op: 'batchNorm' }
    case 'Activation':
      if (c['activation'] === 'relu6') return { id, op: 'relu', maxValue: 6 }
      return { id, op: 'activation', activation: activationOf(id, c['activation']) }
    case 'ReLU':
      return reluNode(id, c)
    case 'ZeroPadding2D':
      return { id, op: 'zeroPad', padding: zeroPadding(id, c) }
    case 'Add':
      return { id, op: 'add' }
    case 'Concatenate':
      if (c['axis'] !== -1 && c['axis'] !== 3) throw unsupported(id, 'joins along another axis than channels')
      return { id, op: 'concat' }
    case 'NasZero':
      return { id, op: 'zero', strides: (c['strides'] as number | undefined) ?? 1 }
    default:
      throw unsupported(id, `is a ${className} layer`)
  }
}

/** The IR graph of a loaded tf.js layers model (node ids = layer names; one input, one output). */
export function modelToArchitecture(model: tf.LayersModel): Architecture {
  if (model.inputs.length !== 1 || model.outputs.length !== 1)
    throw new NasError(
      'invalid_space',
      'This backbone cannot be used: it must have exactly one input and one output.',
    )
  const nodes: ArchNode[] = []
  const edges: Array<[string, string]> = []
  for (const layer of model.layers) {
    nodes.push(toNode(layer))
    const inbound = layer.inboundNodes[0]?.inboundLayers ?? []
    if (layer.inboundNodes.length > 1) throw unsupported(layer.name, 'is used more than once')
    for (const from of inbound) edges.push([from.name, layer.name])
  }
  const output = model.outputs[0]!.sourceLayer.name
  return { version: 1, nodes, edges, output }
}

/**
 * Reads the backbone in `dir` and registers it (returns the registered entry). The graph is checked against the
 * cut points of backbone.json: every cut must be a layer with the stated output shape.
 */
export async function loadBackboneDir(dir: string): Promise<LoadedBackbone> {
  let raw: unknown
  try {
    raw = JSON.parse(await readFile(path.join(dir, BACKBONE_INFO_FILE), 'utf8'))
  } catch {
    throw new NasError('not_found', 'This backbone has no readable description (backbone.json).')
  }
  const parsed = backboneInfoSchema.safeParse(raw)
  if (!parsed.success)
    throw new NasError(
      'invalid_space',
      `This backbone's description is invalid at ${parsed.error.issues[0]!.path.join('.') || 'the top'}: ${parsed.error.issues[0]!.message}`,
    )
  const info = parsed.data
  const model = await loadModelDir(dir)
  try {
    const arch = modelToArchitecture(model)
    const shapes = inferShapes(arch, info.inputShape)
    for (const cut of info.cutPoints) {
      const shape = shapes.get(cut.layer)
      if (!shape)
        throw new NasError(
          'invalid_space',
          `This backbone's cut point "${cut.layer}" is not one of its layers.`,
        )
      if (shape.join('x') !== cut.outputShape.join('x'))
        throw new NasError(
          'invalid_space',
          `This backbone's cut point "${cut.layer}" gives ${shape.join(' x ')} features, not ${cut.outputShape.join(' x ')} as its description says.`,
        )
    }
    return registerBackbone({ info, arch, weights: readLayerWeights(model) })
  } finally {
    model.dispose()
  }
}

/** Tells the engine that backbone folders are `<root>/<id>` (main's store). */
export function setBackbonesRoot(root: string): void {
  setBackboneDirs((id) => path.join(root, id))
}

/** The registered backbone `id`, loading it from its folder first when it is not loaded yet. */
export async function ensureBackbone(id: string): Promise<LoadedBackbone> {
  const known = findBackbone(id)
  if (known) return known
  const dir = backboneDir(id)
  if (!dir) backboneInfoOf(id) // throws the plain-words "not available"
  return loadBackboneDir(dir!)
}

/** Makes backbones `ids` ready in this process (backbone folders under `root`): a search samples from them. */
export async function useBackbones(root: string, ids: readonly string[]): Promise<void> {
  setBackbonesRoot(root)
  for (const id of ids) await ensureBackbone(id)
}
