import type { ArchNode, Architecture } from '../../shared'
import { tf } from '../compute/backend'
import { inputsByNode, topoOrder } from '../space/shapes'

/** How forwardLogits runs the layers that behave differently in training. */
export interface ForwardMode {
  /** Batch norm with batch statistics (true) or its moving statistics (false). */
  bnTraining: boolean
  /** When given, receives the output of every ReLU-activated node (for naswot). */
  relus?: tf.Tensor[]
  /**
   * Log-scaled forward for synflow on networks whose activations overflow float32: every node's output is
   * kept as t * exp(s) with max(t) = 1 (the divisor taken from the data when `frozen` is false and recorded in
   * `divisors`, reused when true), a layer's additive weights (bias, beta, moving mean) are written scaled by
   * exp(-s) of its input on the first pass, and add / concat align their inputs to the largest s. Exact for
   * networks that are positively homogeneous on positive inputs (ReLU, linear, pooling, batch norm in inference
   * mode); `logScale` receives the output's s.
   */
  scaled?: { frozen: boolean; divisors: Map<string, number>; logScale: number }
}

function isRelu(node: ArchNode): boolean {
  return 'activation' in node && node.activation === 'relu'
}

/**
 * The network's logits for `x`, layer by layer through the built model's layers (so its weights are used and
 * gradients reach them). Why not model.apply: the classifier's softmax must be left out (synflow sums the
 * logits; the loss is taken on logits), and dropout and batch norm need different modes.
 */
export function forwardLogits(
  model: tf.LayersModel,
  arch: Architecture,
  x: tf.Tensor,
  mode: ForwardMode,
): tf.Tensor {
  const ins = inputsByNode(arch)
  const outs = new Map<string, tf.Tensor>()
  const logScales = new Map<string, number>()
  const scaled = mode.scaled
  for (const node of topoOrder(arch)) {
    if (node.op === 'input') {
      outs.set(node.id, x)
      logScales.set(node.id, 0)
      continue
    }
    let sources = ins.get(node.id)!.map((id) => outs.get(id)!)
    const layer = model.getLayer(node.id)
    let logScale = 0
    if (scaled) {
      const s = ins.get(node.id)!.map((id) => logScales.get(id)!)
      logScale = Math.max(...s)
      sources = sources.map((t, i) => (s[i] === logScale ? t : tf.mul(t, Math.exp(s[i]! - logScale))))
      if (!scaled.frozen) {
        for (const w of layer.weights) {
          if (/\/(bias|beta|moving_mean)$/.test(w.originalName))
            tf.tidy(() => void w.write(tf.mul(w.read(), Math.exp(-logScale))))
        }
      }
    }
    let y: tf.Tensor
    if (node.id === arch.output && node.op === 'dense' && node.activation === 'softmax') {
      const [kernel, bias] = layer.getWeights()
      const src = sources[0]!
      const flat = src.rank > 2 ? src.reshape([-1, src.shape[src.rank - 1]!]) : src
      y = tf.matMul(flat as tf.Tensor2D, kernel as tf.Tensor2D)
      if (bias !== undefined) y = tf.add(y, bias)
    } else {
      const training = node.op === 'batchNorm' ? mode.bnTraining : false
      y = layer.apply(sources.length === 1 ? sources[0]! : sources, { training }) as tf.Tensor
      if (mode.relus && isRelu(node) && node.id !== arch.output) mode.relus.push(y)
    }
    if (scaled) {
      let divisor = scaled.divisors.get(node.id)
      if (divisor === undefined || !scaled.frozen) {
        const max = tf.max(y).dataSync()[0]!
        divisor = max > 0 && Number.isFinite(max) ? max : 1
        scaled.divisors.set(node.id, divisor)
      }
      y = tf.div(y, divisor)
      logScales.set(node.id, logScale + Math.log(divisor))
    }
    outs.set(node.id, y)
  }
  if (scaled) scaled.logScale = logScales.get(arch.output)!
  return outs.get(arch.output)!
}

/** The weights the gradient proxies count: kernels, not biases or batch-norm gamma / beta. */
export function proxyWeights(model: tf.LayersModel): tf.Variable[] {
  return model.trainableWeights
    .filter((w) => !/\/(bias|gamma|beta)$/.test(w.originalName))
    .map((w) => w.read() as tf.Variable)
}
