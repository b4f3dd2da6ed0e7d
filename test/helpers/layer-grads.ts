import type { tf as TF } from '../../src/engine/compute/backend'
import { tf } from '../../src/engine/compute/backend'

/**
 * A built layer's output on `x` and the gradients of sum(output * u) by the input and by each trainable weight
 * (in the layer's weight order), then its non-trainable weights (a batch norm's moving averages, after the
 * three calls): what a fused layer must reproduce. `kwargs` go to every call (e.g. training). Disposes the
 * layer's weights.
 */
export function layerOutputAndGrads(
  layer: TF.layers.Layer,
  x: TF.Tensor,
  u: TF.Tensor,
  kwargs: TF.serialization.ConfigDict = {},
): TF.Tensor[] {
  const objective = (input: TF.Tensor): TF.Scalar =>
    tf.sum(tf.mul(layer.apply(input, kwargs) as TF.Tensor, u))
  const weights = layer.trainableWeights.map((w) => w.read() as TF.Variable)
  const { grads } = tf.variableGrads(() => objective(x), weights)
  const out = [
    layer.apply(x, kwargs) as TF.Tensor,
    tf.grad(objective)(x),
    ...weights.map((w) => grads[w.name]!),
  ]
  out.push(...layer.nonTrainableWeights.map((w) => w.read().clone()))
  for (const w of layer.weights) w.dispose()
  return out
}
