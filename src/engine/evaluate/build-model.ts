import type { ArchNode, Architecture } from '../../shared'
import { NasError } from '../../shared'
import { tf } from '../compute/backend'
import { Rng } from '../rng'
import { BACKBONE_NODE_PREFIX, backboneById } from '../space/backbones'
import { inferShapes, inputsByNode, topoOrder } from '../space/shapes'
import { DilatedDepthwiseConv2D, ZeroLayer } from './custom-layers'

/**
 * Builds the tf.js model of an architecture with the functional API, visiting nodes in topological order
 * (add / concat nodes merge their inputs; reduction is by stride). Layer conventions match space/shapes.ts,
 * which validates the graph first, so countParams(arch) equals model.countParams(). Every kernel uses
 * Glorot-uniform init and every dropout a seed, all derived from `seed`, so the same architecture and seed give
 * the same initial weights. Layer names are the node ids.
 */
export function buildModel(arch: Architecture, inputShape: number[], seed: number): tf.LayersModel {
  inferShapes(arch, inputShape)
  const rng = new Rng(seed)
  const ins = inputsByNode(arch)
  const outputs = new Map<string, tf.SymbolicTensor>()
  let input: tf.SymbolicTensor | null = null
  for (const node of topoOrder(arch)) {
    if (node.op === 'input') {
      input = tf.input({ shape: node.shape ?? inputShape, name: node.id })
      outputs.set(node.id, input)
      continue
    }
    const sources = ins.get(node.id)!.map((id) => outputs.get(id)!)
    const layer = makeLayer(node, rng)
    const out = layer.apply(sources.length === 1 ? sources[0]! : sources) as tf.SymbolicTensor
    outputs.set(node.id, out)
  }
  const output = outputs.get(arch.output)
  if (input === null || output === undefined) {
    throw new NasError(
      'invalid_space',
      `Architecture has no input node or its output ${arch.output} is unknown`,
    )
  }
  const model = tf.model({ inputs: input, outputs: output })
  if (arch.genotype?.family === 'backbone') copyPretrained(model, arch.genotype.backbone)
  builtModelObserver?.(model)
  return model
}

/** Sets the weights of a backbone network's backbone layers (named bb_<layer>) to the pretrained ones. */
function copyPretrained(model: tf.LayersModel, backboneId: string): void {
  const { weights } = backboneById(backboneId)
  for (const layer of model.layers) {
    if (!layer.name.startsWith(BACKBONE_NODE_PREFIX) || layer.weights.length === 0) continue
    const entry = weights.get(layer.name.slice(BACKBONE_NODE_PREFIX.length))
    if (!entry) continue
    const values = layer.weights.map((w) => {
      const src = entry[w.originalName.slice(w.originalName.lastIndexOf('/') + 1)]
      if (!src) throw new NasError('internal', `The backbone has no weight ${w.originalName}`)
      return tf.tensor(src.data, src.shape, 'float32')
    })
    layer.setWeights(values)
    tf.dispose(values)
  }
}

let builtModelObserver: ((model: tf.LayersModel) => void) | null = null

/**
 * Calls `fn` with every model buildModel builds from now on (until the returned function is called). Why: a
 * trial worker keeps the trained weights of the model trainArchitecture builds and disposes internally.
 */
export function observeBuiltModels(fn: (model: tf.LayersModel) => void): () => void {
  builtModelObserver = fn
  return () => {
    if (builtModelObserver === fn) builtModelObserver = null
  }
}

/** The tf.js layer of one non-input node (layer name = node id); `rng` seeds its initialisers. */
export function makeLayer(node: Exclude<ArchNode, { op: 'input' }>, rng: Rng): tf.layers.Layer {
  const init = (): ReturnType<typeof tf.initializers.glorotUniform> =>
    tf.initializers.glorotUniform({ seed: rng.seed() })
  const name = node.id
  switch (node.op) {
    case 'flatten':
      return tf.layers.flatten({ name })
    case 'dense':
      return tf.layers.dense({
        name,
        units: node.units,
        activation: node.activation,
        kernelInitializer: init(),
      })
    case 'conv2d':
      return tf.layers.conv2d({
        name,
        filters: node.filters,
        kernelSize: node.kernelSize,
        strides: node.strides ?? 1,
        padding: node.padding ?? 'same',
        activation: node.activation,
        useBias: node.useBias ?? true,
        kernelInitializer: init(),
      })
    case 'sepConv2d':
      return tf.layers.separableConv2d({
        name,
        filters: node.filters,
        kernelSize: node.kernelSize,
        strides: node.strides ?? 1,
        padding: node.padding ?? 'same',
        activation: node.activation,
        useBias: node.useBias ?? true,
        depthwiseInitializer: init(),
        pointwiseInitializer: init(),
      })
    case 'depthwiseConv2d':
      if ((node.dilation ?? 1) > 1) {
        if (node.padding === 'valid')
          throw new NasError(
            'invalid_space',
            `A dilated convolution (${node.id}) must pad its input ('same').`,
          )
        return new DilatedDepthwiseConv2D({
          name,
          kernelSize: node.kernelSize,
          dilation: node.dilation!,
          strides: node.strides ?? 1,
          useBias: node.useBias ?? true,
          activation: node.activation,
          seed: rng.seed(),
        })
      }
      return tf.layers.depthwiseConv2d({
        name,
        kernelSize: node.kernelSize,
        strides: node.strides ?? 1,
        padding: node.padding ?? 'same',
        depthMultiplier: 1,
        activation: node.activation,
        useBias: node.useBias ?? true,
        depthwiseInitializer: init(),
      })
    case 'maxPool2d':
      return tf.layers.maxPooling2d({
        name,
        poolSize: node.poolSize,
        strides: node.strides ?? node.poolSize,
        padding: node.padding ?? 'valid',
      })
    case 'avgPool2d':
      return tf.layers.averagePooling2d({
        name,
        poolSize: node.poolSize,
        strides: node.strides ?? node.poolSize,
        padding: node.padding ?? 'valid',
      })
    case 'globalAvgPool':
      return tf.layers.globalAveragePooling2d({ name })
    case 'dropout':
      return tf.layers.dropout({ name, rate: node.rate, seed: rng.seed() })
    case 'batchNorm':
      // why: with tfjs's default momentum 0.99 the moving statistics need hundreds of steps to settle, so a
      // short (proxy) training scored on them looks like chance; 0.9 is PyTorch's default and settles in ~30
      return tf.layers.batchNormalization({ name, momentum: 0.9 })
    case 'activation':
      return tf.layers.activation({ name, activation: node.activation })
    case 'relu':
      return tf.layers.reLU(node.maxValue === undefined ? { name } : { name, maxValue: node.maxValue })
    case 'zeroPad': {
      const [top, bottom, left, right] = node.padding
      return tf.layers.zeroPadding2d({
        name,
        padding: [
          [top, bottom],
          [left, right],
        ],
      })
    }
    case 'identity':
      return tf.layers.activation({ name, activation: 'linear' })
    case 'zero':
      return new ZeroLayer({ name, strides: node.strides ?? 1 })
    case 'add':
      return tf.layers.add({ name })
    case 'concat':
      return tf.layers.concatenate({ name, axis: -1 })
  }
}
