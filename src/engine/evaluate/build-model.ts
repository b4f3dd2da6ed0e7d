import type { ArchNode, Architecture } from '../../shared'
import { NasError } from '../../shared'
import { tf } from '../compute/backend'
import { Rng } from '../rng'
import { inputsOf, topoOrder } from '../space/shapes'

/**
 * Builds the tf.js model of an architecture with the functional API, visiting nodes in topological order.
 * Layer conventions match space/shapes.ts (conv2d 'same' padding stride 1, maxPool2d stride = pool size).
 * Every kernel uses Glorot-uniform init and every dropout a seed, all derived from `seed`, so the same
 * architecture and seed give the same initial weights.
 */
export function buildModel(arch: Architecture, inputShape: number[], seed: number): tf.LayersModel {
  const rng = new Rng(seed)
  const outputs = new Map<string, tf.SymbolicTensor>()
  let input: tf.SymbolicTensor | null = null
  for (const node of topoOrder(arch)) {
    if (node.op === 'input') {
      input = tf.input({ shape: inputShape, name: node.id })
      outputs.set(node.id, input)
      continue
    }
    const sources = inputsOf(arch, node.id).map((id) => outputs.get(id)!)
    if (sources.length !== 1) {
      throw new NasError(
        'invalid_space',
        `${node.op} (${node.id}) has ${sources.length} inputs; exactly 1 is supported`,
      )
    }
    const out = makeLayer(node, rng).apply(sources[0]!) as tf.SymbolicTensor
    outputs.set(node.id, out)
  }
  const output = outputs.get(arch.output)
  if (input === null || output === undefined) {
    throw new NasError(
      'invalid_space',
      `Architecture has no input node or its output ${arch.output} is unknown`,
    )
  }
  return tf.model({ inputs: input, outputs: output })
}

function makeLayer(node: Exclude<ArchNode, { op: 'input' }>, rng: Rng): tf.layers.Layer {
  const init = (): ReturnType<typeof tf.initializers.glorotUniform> =>
    tf.initializers.glorotUniform({ seed: rng.seed() })
  switch (node.op) {
    case 'flatten':
      return tf.layers.flatten({ name: node.id })
    case 'dense':
      return tf.layers.dense({
        name: node.id,
        units: node.units,
        activation: node.activation,
        kernelInitializer: init(),
      })
    case 'conv2d':
      return tf.layers.conv2d({
        name: node.id,
        filters: node.filters,
        kernelSize: node.kernelSize,
        padding: 'same',
        activation: node.activation,
        kernelInitializer: init(),
      })
    case 'maxPool2d':
      return tf.layers.maxPooling2d({
        name: node.id,
        poolSize: node.poolSize,
        strides: node.poolSize,
        padding: 'valid',
      })
    case 'dropout':
      return tf.layers.dropout({ name: node.id, rate: node.rate, seed: rng.seed() })
    case 'batchNorm':
      return tf.layers.batchNormalization({ name: node.id })
  }
}
