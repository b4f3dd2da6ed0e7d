import * as tf from '@tensorflow/tfjs'
import type { KernelFunc, Tensor, TensorInfo } from '@tensorflow/tfjs'
import type { WasmBackend } from './wasm-ops'

/**
 * The categorical cross-entropy loss of tfjs-layers (per sample: the prediction's rows normalised to sum 1,
 * clipped to [eps, 1 - eps], then -sum(target * log(p))) as ONE kernel forward and ONE backward on wasm,
 * where tfjs's formula takes 9 kernels forward and about 25 backward, each with its engine bookkeeping: on a
 * small net (the MLP of bench:peers) those calls cost more than their arithmetic. Other backends, dtypes and
 * shapes use tfjs-layers' own function (targets may be float32, or int32 as tf.oneHot makes them). Both kernels are one pass over the [rows, classes] data in JavaScript
 * on wasm memory, accumulating in float64.
 */

const LOSS = 'NasCategoricalCrossentropy'
const LOSS_GRAD = 'NasCategoricalCrossentropyGrad'

/** tfjs-layers' fuzz factor (its `epsilon()`), which the clip uses. */
const EPS = 1e-7

function rowsAndClasses(shape: number[]): [number, number] {
  const classes = shape.at(-1)!
  return [shape.reduce((a, b) => a * b, 1) / Math.max(classes, 1), classes]
}

/** Per-row loss -sum_j y_j log(clip(p_j / sum p)). */
const lossKernel: KernelFunc = ({ inputs, backend }) => {
  const wasm = backend as unknown as WasmBackend
  const { yTrue, yPred } = inputs as { yTrue: TensorInfo; yPred: TensorInfo }
  const [rows, classes] = rowsAndClasses(yPred.shape)
  const out = wasm.makeOutput(yPred.shape.slice(0, -1), 'float32')
  const y = wasm.typedArrayFromHeap(yTrue) as Float32Array | Int32Array
  const p = wasm.typedArrayFromHeap(yPred) as Float32Array
  const loss = wasm.typedArrayFromHeap(out) as Float32Array
  const hi = 1 - EPS
  for (let r = 0; r < rows; r++) {
    const base = r * classes
    let s = 0
    for (let j = 0; j < classes; j++) s += p[base + j]!
    let l = 0
    for (let j = 0; j < classes; j++) {
      const yj = y[base + j]!
      if (yj === 0) continue
      const q = Math.min(Math.max(p[base + j]! / s, EPS), hi)
      l -= yj * Math.log(q)
    }
    loss[r] = l
  }
  return out
}

/**
 * The loss's gradient by the prediction, for upstream gradient dy (one value per row): with S = sum p,
 * q = p / S and g_j = -dy y_j / q_j where eps <= q_j <= 1 - eps (0 where clipped, as tfjs's clip passes no
 * gradient there), dp_k = g_k / S - sum_j(g_j p_j) / S^2 (the gradient of p / S).
 */
const lossGradKernel: KernelFunc = ({ inputs, backend }) => {
  const wasm = backend as unknown as WasmBackend
  const { dy, yTrue, yPred } = inputs as { dy: TensorInfo; yTrue: TensorInfo; yPred: TensorInfo }
  const [rows, classes] = rowsAndClasses(yPred.shape)
  const out = wasm.makeOutput(yPred.shape, 'float32')
  const d = wasm.typedArrayFromHeap(dy) as Float32Array
  const y = wasm.typedArrayFromHeap(yTrue) as Float32Array | Int32Array
  const p = wasm.typedArrayFromHeap(yPred) as Float32Array
  const dp = wasm.typedArrayFromHeap(out) as Float32Array
  const g = new Float64Array(classes)
  const hi = 1 - EPS
  for (let r = 0; r < rows; r++) {
    const base = r * classes
    let s = 0
    for (let j = 0; j < classes; j++) s += p[base + j]!
    const dr = d[r]!
    let gp = 0
    for (let j = 0; j < classes; j++) {
      const q = p[base + j]! / s
      const gj = q >= EPS && q <= hi ? (-dr * y[base + j]!) / q : 0
      g[j] = gj
      gp += gj * p[base + j]!
    }
    const c = gp / (s * s)
    for (let j = 0; j < classes; j++) dp[base + j] = g[j]! / s - c
  }
  return out
}

/** tfjs-layers' formula with tf ops, for the target's gradient (never needed in training) and other backends. */
function layersCrossentropy(yTrue: Tensor, yPred: Tensor): Tensor {
  return tf.metrics.categoricalCrossentropy(yTrue, yPred)
}

let registered = false

/** Installs the two wasm kernels and the loss's gradient (once per process). */
export function registerCrossEntropyKernels(): void {
  if (registered) return
  registered = true
  tf.registerKernel({ kernelName: LOSS, backendName: 'wasm', kernelFunc: lossKernel })
  tf.registerKernel({ kernelName: LOSS_GRAD, backendName: 'wasm', kernelFunc: lossGradKernel })
  tf.registerGradient({
    kernelName: LOSS,
    inputsToSave: ['yTrue', 'yPred'],
    gradFunc: (dy, saved) => {
      const [yTrue, yPred] = saved as [Tensor, Tensor]
      return {
        yPred: () => tf.engine().runKernel(LOSS_GRAD, { dy: dy as Tensor, yTrue, yPred }) as Tensor,
        yTrue: () => {
          // d/dy_j of -sum y_j log q_j: -log q_j, times the row's upstream gradient
          const q = tf.clipByValue(tf.div(yPred, tf.sum(yPred, -1, true)), EPS, 1 - EPS)
          return tf.mul(tf.neg(tf.log(q)), tf.expandDims(dy as Tensor, -1))
        },
      }
    },
  })
}

/**
 * Categorical cross-entropy per sample, as tfjs-layers' 'categoricalCrossentropy' loss computes it (pass this
 * function as the model's loss): the fused kernels on wasm once registered, tfjs-layers' ops elsewhere.
 */
export function categoricalCrossentropy(yTrue: Tensor, yPred: Tensor): Tensor {
  const fused =
    registered &&
    tf.getBackend() === 'wasm' &&
    (yTrue.dtype === 'float32' || yTrue.dtype === 'int32') &&
    yPred.dtype === 'float32' &&
    yPred.rank >= 2 &&
    tf.util.arraysEqual(yTrue.shape, yPred.shape)
  if (!fused) return layersCrossentropy(yTrue, yPred)
  return tf.engine().runKernel(LOSS, { yTrue, yPred }) as Tensor
}
