import * as tf from '@tensorflow/tfjs'
import type { KernelFunc, Tensor, TensorInfo } from '@tensorflow/tfjs'
import { layerPrototype } from './fused-layers'
import { simdKernels } from './simd'
import type { WasmBackend } from './wasm-ops'

/**
 * tfjs-layers' BatchNormalization in training as one kernel forward (the batch's mean and variance in one pass
 * of SIMD sums, then one affine pass) and one backward (both per-channel sums in one pass, then one pass for the
 * input's gradient). tfjs computes the same with tf.moments and tf.batchNorm: a mean, a subtraction, a square,
 * a second mean and the normalisation forward, and the gradients of all five backward, about fifteen passes
 * over the full tensor per layer per step. The layer's weights, moving averages and results are unchanged
 * (biased batch variance, as tfjs-layers uses for both): this replaces how BatchNormalization.call computes in
 * training on wasm, not what. Inference, other backends, an axis other than the last, channels not a multiple
 * of 4, layers without centre or scale, and wasm without our SIMD kernels run tfjs-layers' own call.
 */

const BN_TRAIN = 'NasBatchNormTrain'
const BN_TRAIN_GRAD = 'NasBatchNormTrainGrad'

interface BatchNormLike {
  axis: number
  epsilon: number
  momentum: number
  gamma?: { read(): Tensor } | null
  beta?: { read(): Tensor } | null
  movingMean: { read(): Tensor; write(t: Tensor): void }
  movingVariance: { read(): Tensor; write(t: Tensor): void }
  call(inputs: Tensor | Tensor[], kwargs: { training?: boolean }): Tensor | Tensor[]
}

interface Folded {
  wasm: WasmBackend
  rows: number
  channels: number
  heap(t: TensorInfo): Float32Array
  /** A [channels] float32 output, filled by `fill(i)` for each channel. */
  column(fill: (i: number) => number): TensorInfo
}

function folded(backend: unknown, x: TensorInfo): Folded {
  const wasm = backend as WasmBackend
  const channels = x.shape.at(-1)!
  const heap = (t: TensorInfo): Float32Array => wasm.typedArrayFromHeap(t) as Float32Array
  return {
    wasm,
    rows: tf.util.sizeFromShape(x.shape) / channels,
    channels,
    heap,
    column(fill) {
      const out = wasm.makeOutput([channels], 'float32')
      const values = heap(out)
      for (let i = 0; i < channels; i++) values[i] = fill(i)
      return out
    },
  }
}

/** y = gamma (x - mean) / sqrt(variance + epsilon) + beta, with the batch's mean and (biased) variance as outputs. */
const forwardKernel: KernelFunc = ({ inputs, backend, attrs }) => {
  const { x, gamma, beta } = inputs as { x: TensorInfo; gamma: TensorInfo; beta: TensorInfo }
  const epsilon = (attrs as { epsilon: number }).epsilon
  const f = folded(backend, x)
  const simd = simdKernels(f.wasm)!
  // sums taken from the first row's values keep the squares free of cancellation when the mean is large
  const firstRow = f.heap(x).slice(0, f.channels)
  const shift = f.column((i) => firstRow[i]!)
  const [s1, s2] = simd.pairSums(x, x, shift, shift, f.rows, f.channels)
  f.wasm.disposeData(shift.dataId)
  const meanValues = Float64Array.from(s1, (s, i) => firstRow[i]! + s / f.rows)
  const varianceValues = Float64Array.from(s2, (q, i) => Math.max(0, q / f.rows - (s1[i]! / f.rows) ** 2))
  const g = f.heap(gamma).slice()
  const b = f.heap(beta).slice()
  const scale = Float64Array.from(varianceValues, (v, i) => g[i]! / Math.sqrt(v + epsilon))
  const mean = f.column((i) => meanValues[i]!)
  const variance = f.column((i) => varianceValues[i]!)
  const a = f.column((i) => scale[i]!)
  const shiftBy = f.column((i) => b[i]! - meanValues[i]! * scale[i]!)
  const y = f.wasm.makeOutput(x.shape, 'float32')
  simd.affineColumns(x, a, shiftBy, y, f.rows, f.channels)
  f.wasm.disposeData(a.dataId)
  f.wasm.disposeData(shiftBy.dataId)
  return [y, mean, variance]
}

/**
 * With r = 1/sqrt(variance + epsilon), A = gamma r, s1 = sum(dy) and s2 = sum(dy (x - mean)) per channel:
 * dBeta = s1, dGamma = r s2 and dx = A dy + k x + c with k = -A r^2 s2 / n and c = -A s1 / n - k mean (the
 * usual batch-norm input gradient, its per-channel terms folded so that it takes one pass).
 */
const gradientKernel: KernelFunc = ({ inputs, backend, attrs }) => {
  const { dy, x, gamma, mean, variance } = inputs as Record<
    'dy' | 'x' | 'gamma' | 'mean' | 'variance',
    TensorInfo
  >
  const epsilon = (attrs as { epsilon: number }).epsilon
  const f = folded(backend, x)
  const simd = simdKernels(f.wasm)!
  const zero = f.column(() => 0)
  const [s1, s2] = simd.pairSums(dy, x, zero, mean, f.rows, f.channels)
  f.wasm.disposeData(zero.dataId)
  const g = f.heap(gamma).slice()
  const m = f.heap(mean).slice()
  const r = Float64Array.from(f.heap(variance), (v) => 1 / Math.sqrt(v + epsilon))
  const a = Float64Array.from(r, (ri, i) => g[i]! * ri)
  const k = Float64Array.from(a, (ai, i) => (-ai * r[i]! * r[i]! * s2[i]!) / f.rows)
  const coefficients = {
    a: f.column((i) => a[i]!),
    k: f.column((i) => k[i]!),
    b: f.column((i) => (-a[i]! * s1[i]!) / f.rows - k[i]! * m[i]!),
  }
  const dGamma = f.column((i) => r[i]! * s2[i]!)
  const dBeta = f.column((i) => s1[i]!)
  const dx = f.wasm.makeOutput(x.shape, 'float32')
  simd.affinePairColumns(dy, x, coefficients, dx, f.rows, f.channels)
  for (const t of Object.values(coefficients)) f.wasm.disposeData(t.dataId)
  return [dx, dGamma, dBeta]
}

/** The input tensor when this training call takes the fused kernels, else null. */
function fusableInput(layer: BatchNormLike, inputs: Tensor | Tensor[], training: boolean): Tensor | null {
  const x = Array.isArray(inputs) ? (inputs.length === 1 ? inputs[0]! : null) : inputs
  if (!training || x === null || layer.gamma == null || layer.beta == null) return null
  if (x.dtype !== 'float32' || x.rank < 2 || x.size === 0) return null
  const channels = x.shape.at(-1)!
  if (channels % 4 !== 0 || (layer.axis !== -1 && layer.axis !== x.rank - 1)) return null
  if (tf.getBackend() !== 'wasm') return null
  return simdKernels(tf.backend() as unknown as WasmBackend) === null ? null : x
}

/** variable = variable - (variable - value) (1 - momentum), as tfjs-layers updates the moving averages. */
function moveAverage(variable: BatchNormLike['movingMean'], value: Tensor, momentum: number): void {
  tf.tidy(() => {
    const current = variable.read()
    variable.write(tf.sub(current, tf.mul(tf.sub(current, value), 1 - momentum)))
  })
}

let registered = false

/** Registers the kernels and the gradient, and routes BatchNormalization in training through them on wasm (once per process). */
export function registerFusedBatchNorm(): void {
  if (registered) return
  registered = true
  tf.registerKernel({ kernelName: BN_TRAIN, backendName: 'wasm', kernelFunc: forwardKernel })
  tf.registerKernel({ kernelName: BN_TRAIN_GRAD, backendName: 'wasm', kernelFunc: gradientKernel })
  tf.registerGradient({
    kernelName: BN_TRAIN,
    inputsToSave: ['x', 'gamma'],
    outputsToSave: [false, true, true],
    gradFunc: (dys, saved, attrs) => {
      const [x, gamma, mean, variance] = saved as [Tensor, Tensor, Tensor, Tensor]
      const dy = (dys as Tensor[])[0]!
      // computed once here: tfjs runs each closure below in its own tidy
      const [dx, dGamma, dBeta] = tf
        .engine()
        .runKernel(BN_TRAIN_GRAD, { dy, x, gamma, mean, variance }, attrs) as Tensor[]
      return { x: () => dx!, gamma: () => dGamma!, beta: () => dBeta! }
    },
  })
  const proto = layerPrototype<BatchNormLike>('BatchNormalization')
  const original = proto.call
  proto.call = function (this: BatchNormLike, inputs, kwargs) {
    const x = fusableInput(this, inputs, kwargs?.training === true)
    if (x === null) return original.call(this, inputs, kwargs)
    return tf.tidy(() => {
      const [y, mean, variance] = tf
        .engine()
        .runKernel(
          BN_TRAIN,
          { x, gamma: this.gamma!.read(), beta: this.beta!.read() },
          { epsilon: this.epsilon },
        ) as Tensor[]
      moveAverage(this.movingMean, mean!, this.momentum)
      moveAverage(this.movingVariance, variance!, this.momentum)
      return y!
    })
  }
}
