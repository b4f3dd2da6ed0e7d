import type { Architecture } from '../../shared'
import { NasError } from '../../shared'
import { tf } from '../compute/backend'
import { makeLayer } from '../evaluate/build-model'
import { Rng } from '../rng'
import { inferShapes, inputsByNode, topoOrder } from '../space/shapes'
import type { LayerWeights, WeightArray } from './onnx'
import { writeLayerWeights } from './tfjs-files'

/**
 * The TF.js export uses standard layers only, so any `tf.loadLayersModel` reads it without our custom classes:
 * a zero op becomes a 1x1 convolution with a zero kernel (same strides, so the same ceil(size / stride) shape);
 * a dilated depthwise conv becomes a conv2d with dilationRate at stride 1 (identical 'same' padding) and a
 * block-diagonal kernel (channel c only sees channel c; why: tf.layers.depthwiseConv2d ignores dilationRate in
 * tfjs-layers 4.x, conv2d honours it), followed, when strided, by a 1x1 max pool with that stride, which keeps rows and columns 0, s, 2s...
 * exactly as NasDilatedDepthwiseConv2D subsamples. Inference only: tf.js cannot train dilated convs.
 */
export function buildPortableModel(
  arch: Architecture,
  inputShape: number[],
  trained: LayerWeights,
): tf.LayersModel {
  const weights: LayerWeights = new Map(trained)
  const shapes = inferShapes(arch, inputShape)
  const ins = inputsByNode(arch)
  const rng = new Rng(0)
  const outputs = new Map<string, tf.SymbolicTensor>()
  let input: tf.SymbolicTensor | null = null
  const apply = (layer: tf.layers.Layer, x: tf.SymbolicTensor | tf.SymbolicTensor[]): tf.SymbolicTensor =>
    layer.apply(x) as tf.SymbolicTensor
  for (const node of topoOrder(arch)) {
    if (node.op === 'input') {
      input = tf.input({ shape: node.shape ?? inputShape, name: node.id })
      outputs.set(node.id, input)
      continue
    }
    const sources = ins.get(node.id)!.map((id) => outputs.get(id)!)
    const x = sources.length === 1 ? sources[0]! : sources
    let out: tf.SymbolicTensor
    if (node.op === 'zero') {
      const inShape = shapes.get(ins.get(node.id)![0]!)!
      const zeros = 'zeros'
      out =
        inShape.length === 3
          ? apply(
              tf.layers.conv2d({
                name: node.id,
                filters: inShape[2]!,
                kernelSize: 1,
                strides: node.strides ?? 1,
                padding: 'same',
                useBias: false,
                kernelInitializer: zeros,
              }),
              sources[0]!,
            )
          : apply(
              tf.layers.dense({
                name: node.id,
                units: inShape[0]!,
                useBias: false,
                kernelInitializer: zeros,
              }),
              sources[0]!,
            )
    } else if (node.op === 'depthwiseConv2d' && (node.dilation ?? 1) > 1) {
      const s = node.strides ?? 1
      const c = shapes.get(ins.get(node.id)![0]!)![2]!
      const convName = s > 1 ? `${node.id}__conv` : node.id
      const conv = tf.layers.conv2d({
        name: convName,
        filters: c,
        kernelSize: node.kernelSize,
        dilationRate: node.dilation!,
        strides: 1,
        padding: 'same',
        activation: node.activation,
        useBias: node.useBias ?? true,
      })
      out = apply(conv, sources[0]!)
      const own = weights.get(node.id)
      if (own) weights.set(convName, { ...own, kernel: blockDiagonal(own['depthwise_kernel']!) })
      if (s > 1)
        out = apply(tf.layers.maxPooling2d({ name: node.id, poolSize: 1, strides: s, padding: 'valid' }), out)
    } else {
      out = apply(makeLayer(node, rng), x)
    }
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
  writeLayerWeights(model, weights)
  return model
}

/** Depthwise kernel [k, k, c, 1] as an equivalent full conv kernel [k, k, c, c] (zero off the diagonal). */
function blockDiagonal(w: WeightArray): WeightArray {
  const [kh, kw, c] = w.shape as [number, number, number]
  const data = new Float32Array(kh * kw * c * c)
  for (let p = 0; p < kh * kw; p++)
    for (let ch = 0; ch < c; ch++) data[(p * c + ch) * c + ch] = w.data[p * c + ch]!
  return { shape: [kh, kw, c, c], data }
}
