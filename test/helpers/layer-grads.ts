import type { tf as TF } from '../../src/engine/compute/backend'
import { tf } from '../../src/engine/compute/backend'

/**
 * A built layer's output on `x` and the gradients of sum(output * u) by the input and by each trainable weight
 * (in the layer's weight order): what a fused layer must reproduce. Disposes the layer's weights.
 */
export function layerOutputAndGrads(layer: TF.layers.Layer, x: TF.Tensor, u: TF.Tensor): TF.Tensor[] {
  const objective = (input: TF.Tensor): TF.Scalar => tf.sum(tf.mul(layer.apply(input) as TF.Tensor, u))
  const weights = layer.trainableWeights.map((w) => w.read() as TF.Variable)
  const { grads } = tf.variableGrads(() => objective(x), weights)
  const out = [layer.apply(x) as TF.Tensor, tf.grad(objective)(x), ...weights.map((w) => grads[w.name]!)]
  for (const w of layer.weights) w.dispose()
  return out
}
