import type { Architecture } from '../../shared'
import { tf } from '../compute/backend'
import type { ForwardMode } from './proxy-forward'
import { forwardLogits, proxyWeights } from './proxy-forward'

/**
 * synflow (Tanaka et al. 2020): with every weight replaced by its absolute value, batch norm in inference mode
 * and one all-ones input, R = sum of the logits; the score is sum over weights of W * dR/dW. Returned as its
 * natural log: per weight tensor the sum is taken as log(max) + log(sum / max) on the device, and the tensors
 * are combined by log-sum-exp in float64, so no float32 sum overflows. When R itself overflows float32 (deep
 * networks: each layer multiplies it), it is computed again with a log-scaled forward pass (ForwardMode.scaled),
 * exact for ReLU / linear networks; NaN when that fails too (`alwaysRescale` takes that path at once, for
 * tests). Changes the model's weights: call it last.
 */
export function synflow(
  model: tf.LayersModel,
  arch: Architecture,
  inputShape: number[],
  opts: { alwaysRescale?: boolean } = {},
): number {
  for (const w of model.trainableWeights) tf.tidy(() => void w.write(tf.abs(w.read())))
  const plain = opts.alwaysRescale ? NaN : logSynflow(model, arch, inputShape, false)
  return Number.isNaN(plain) ? logSynflow(model, arch, inputShape, true) : plain
}

function logSynflow(
  model: tf.LayersModel,
  arch: Architecture,
  inputShape: number[],
  rescale: boolean,
): number {
  const vars = proxyWeights(model)
  const scaled: ForwardMode['scaled'] = rescale
    ? { frozen: false, divisors: new Map(), logScale: 0 }
    : undefined
  const logs = tf.tidy(() => {
    const ones = tf.ones([1, ...inputShape])
    if (scaled) {
      // first pass: find each node's divisor and scale the additive weights; the gradient pass reuses both
      forwardLogits(model, arch, ones, { bnTraining: false, scaled })
      scaled.frozen = true
    }
    const { value, grads } = tf.variableGrads(
      () => tf.sum(forwardLogits(model, arch, ones, { bnTraining: false, scaled })) as tf.Scalar,
      vars,
    )
    if (!Number.isFinite(value.dataSync()[0]!)) return [NaN]
    return vars.map((v) => {
      // no gradient: the weight does not reach the output, so its W * dR/dW is zero
      const g = grads[v.name]
      if (!g) return -Infinity
      const p = tf.mul(v, g)
      const max = tf.max(p).dataSync()[0]!
      if (!(max > 0)) return max === 0 ? -Infinity : NaN
      return Math.log(max) + Math.log(tf.sum(tf.div(p, max)).dataSync()[0]!)
    })
  })
  if (logs.some((l) => Number.isNaN(l))) return NaN
  const top = Math.max(...logs)
  if (top === -Infinity) return -Infinity
  // the scaled pass computed R / exp(logScale); every W * dR/dW scales alike
  return top + Math.log(logs.reduce((s, l) => s + Math.exp(l - top), 0)) + (scaled?.logScale ?? 0)
}
