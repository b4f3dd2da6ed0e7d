import * as tf from '@tensorflow/tfjs'
import type { GradConfig, NamedAttrMap, Tensor, TensorInfo } from '@tensorflow/tfjs'
import { wasmKernelsHonourDilations } from './training-kernels'
import type { WasmBackend } from './wasm-ops'
import { pair } from './wasm-ops'
import { simdKernels } from './simd'
import type { SimdKernels } from './simd'

/**
 * Gradient overrides, registered for every backend. (1) Gradients of DILATED Conv2D and DepthwiseConv2dNative (DARTS's dil_conv; tfjs's own gradients reject
 * dilations > 1). Undilated cases keep tfjs's gradient. On wasm with our kernels, the backprop kernels get the
 * dilations directly; on any other backend the filter is dilated explicitly (zeros between taps), the undilated
 * gradient kernels run on it, and the filter gradient is read back at the taps. (2) The batch-norm gradient with
 * fewer full-size operations (see batchNormGradient), (3) Mean's gradient as one broadcast, and (4) on wasm,
 * ReLU's and Square's gradients as one SIMD pass each and Softmax's as one pass.
 */

/** Filter [kh,kw,a,b] with dh-1 / dw-1 zero rows / columns between taps: [(kh-1)dh+1, (kw-1)dw+1, a, b]. */
function dilateFilter(w: Tensor, dh: number, dw: number): Tensor {
  const [kh, kw, a, b] = w.shape as [number, number, number, number]
  const spread = tf.pad(tf.reshape(w, [kh, 1, kw, 1, a, b]), [
    [0, 0],
    [0, dh - 1],
    [0, 0],
    [0, dw - 1],
    [0, 0],
    [0, 0],
  ])
  return tf.slice(tf.reshape(spread, [kh * dh, kw * dw, a, b]), 0, [
    (kh - 1) * dh + 1,
    (kw - 1) * dw + 1,
    a,
    b,
  ])
}

function dilatedGradient(
  name: string,
  inputKernel: string,
  filterKernel: string,
  original: GradConfig,
): GradConfig {
  return {
    kernelName: name,
    inputsToSave: original.inputsToSave ?? ['x', 'filter'],
    gradFunc: (dy, saved, attrs) => {
      const [dh, dw] = pair((attrs as { dilations?: number | number[] }).dilations)
      if (dh === 1 && dw === 1) return original.gradFunc(dy, saved, attrs)
      const [x, filter] = saved as [Tensor, Tensor]
      const g = dy as Tensor
      const base = { ...(attrs as NamedAttrMap), dataFormat: 'NHWC' }
      const run = (kernel: string, inputs: Record<string, Tensor>, extra: NamedAttrMap): Tensor =>
        tf.engine().runKernel(kernel, inputs, { ...base, ...extra }) as Tensor
      if (tf.getBackend() === 'wasm' && wasmKernelsHonourDilations()) {
        return {
          x: () => run(inputKernel, { dy: g, filter }, { inputShape: x.shape }),
          filter: () => run(filterKernel, { x, dy: g }, { filterShape: filter.shape }),
        }
      }
      const undilated = { dilations: [1, 1] }
      return {
        x: () => {
          const wide = dilateFilter(filter, dh, dw)
          return run(inputKernel, { dy: g, filter: wide }, { ...undilated, inputShape: x.shape })
        },
        filter: () => {
          const shape = [
            (filter.shape[0]! - 1) * dh + 1,
            (filter.shape[1]! - 1) * dw + 1,
            ...filter.shape.slice(2),
          ]
          const wide = run(filterKernel, { x, dy: g }, { ...undilated, filterShape: shape })
          return tf.stridedSlice(wide, [0, 0, 0, 0], shape, [dh, dw, 1, 1])
        },
      }
    },
  }
}

/**
 * On wasm, the batch-norm gradient's two per-channel sums s1 = sum(dy) and s2 = sum(dy * (x - mean)) in ONE
 * pass over wasm memory (float64 accumulators), instead of a subtraction, a multiplication and two reductions
 * over the full tensor. Null on other backends or dtypes (the caller then uses tf ops).
 */
function bnGradSums(dy: Tensor, x: Tensor, mean: Tensor): [Tensor, Tensor] | null {
  if (tf.getBackend() !== 'wasm' || dy.dtype !== 'float32' || x.dtype !== 'float32') return null
  const c = x.shape.at(-1)!
  if (mean.dtype !== 'float32' || mean.size !== c || dy.size !== x.size) return null
  const wasm = tf.backend() as unknown as WasmBackend
  const simd = simdKernels(wasm)
  if (simd !== null && c % 4 === 0 && dy.size > 0) {
    // the SIMD pass batch norm's training kernel uses (a zero shift for dy, the mean for x)
    const zero = tf.zeros([c])
    const [s1, s2] = simd.pairSums(dy, x, zero, mean, dy.size / c, c)
    zero.dispose()
    return [tf.tensor1d(Float32Array.from(s1)), tf.tensor1d(Float32Array.from(s2))]
  }
  const out1 = wasm.makeOutput([c], 'float32')
  const out2 = wasm.makeOutput([c], 'float32')
  const g = wasm.typedArrayFromHeap(dy) as Float32Array
  const xv = wasm.typedArrayFromHeap(x) as Float32Array
  const m = Float64Array.from(wasm.typedArrayFromHeap(mean) as Float32Array)
  const a1 = new Float64Array(c)
  const a2 = new Float64Array(c)
  // four rows (pixels) per pass: a quarter of the accumulator loads and stores (measured 2.4x faster)
  const rows = g.length / c
  let r = 0
  for (; r + 4 <= rows; r += 4) {
    const b0 = r * c
    const b1 = b0 + c
    const b2 = b1 + c
    const b3 = b2 + c
    for (let ch = 0; ch < c; ch++) {
      const mc = m[ch]!
      const g0 = g[b0 + ch]!
      const g1 = g[b1 + ch]!
      const g2 = g[b2 + ch]!
      const g3 = g[b3 + ch]!
      a1[ch]! += g0 + g1 + g2 + g3
      a2[ch]! +=
        g0 * (xv[b0 + ch]! - mc) +
        g1 * (xv[b1 + ch]! - mc) +
        g2 * (xv[b2 + ch]! - mc) +
        g3 * (xv[b3 + ch]! - mc)
    }
  }
  for (; r < rows; r++) {
    const base = r * c
    for (let ch = 0; ch < c; ch++) {
      const gv = g[base + ch]!
      a1[ch]! += gv
      a2[ch]! += gv * (xv[base + ch]! - m[ch]!)
    }
  }
  ;(wasm.typedArrayFromHeap(out1) as Float32Array).set(a1)
  ;(wasm.typedArrayFromHeap(out2) as Float32Array).set(a2)
  return [tf.engine().makeTensorFromTensorInfo(out1), tf.engine().makeTensorFromTensorInfo(out2)]
}

/**
 * FusedBatchNorm's gradient with 3 full-size elementwise ops and 2 reductions instead of tfjs's ~10 and 4 plus a
 * Tile: with s1 = sum(dy) and s2 = sum(dy * (x - mean)) over all axes but channels and r = 1/sqrt(var + eps),
 * dx = dy * scale * r, dMean = -scale * r * s1, dVariance = -0.5 * scale * r^3 * s2, dScale = r * s2,
 * dOffset = s1 (the same formulas tfjs uses, shared instead of recomputed). Other layouts keep tfjs's gradient.
 */
function batchNormGradient(original: GradConfig): GradConfig {
  return {
    kernelName: 'FusedBatchNorm',
    inputsToSave: original.inputsToSave ?? ['x', 'mean', 'variance', 'scale'],
    gradFunc: (dy, saved, attrs) => {
      const [x, mean, variance, scale] = saved as [Tensor, Tensor, Tensor, Tensor | undefined]
      if (mean.rank !== 1 || variance.rank !== 1 || x.rank < 2) return original.gradFunc(dy, saved, attrs)
      const g = dy as Tensor
      const eps = (attrs as { varianceEpsilon: number }).varianceEpsilon
      const axes = x.shape.slice(0, -1).map((_, i) => i)
      // shared pieces, computed here (not inside the closures): tfjs runs each closure in its own tidy, so a
      // tensor one closure made would be gone when the next needs it
      const r = tf.rsqrt(tf.add(variance, eps))
      const scaled = scale === undefined ? r : tf.mul(scale, r)
      const [s1, s2] = bnGradSums(g, x, mean) ?? [tf.sum(g, axes), tf.sum(tf.mul(g, tf.sub(x, mean)), axes)]
      return {
        x: () => tf.mul(g, scaled),
        mean: () => tf.neg(tf.mul(scaled, s1)),
        variance: () => tf.mul(tf.mul(tf.mul(scaled, tf.square(r)), -0.5), s2),
        scale: () => tf.mul(r, s2),
        offset: () => tf.clone(s1),
      }
    },
  }
}

/**
 * Mean's gradient as one broadcast of dy / n (a Tile, block copies on wasm) instead of tfjs's ones-tensor,
 * multiply and divide: three full-size passes per mean, and batch norm takes two means per layer per step.
 */
function meanGradient(original: GradConfig): GradConfig {
  return {
    kernelName: 'Mean',
    inputsToSave: original.inputsToSave ?? ['x'],
    gradFunc: (dy, saved, attrs) => {
      const [x] = saved as [Tensor]
      if (x.dtype !== 'float32') return original.gradFunc(dy, saved, attrs)
      const axes = tf.util.parseAxisParam((attrs as { axis: number | number[] }).axis, x.shape)
      const kept = x.shape.map((d, i) => (axes.includes(i) ? 1 : d))
      const n = axes.reduce((p, a) => p * x.shape[a]!, 1)
      return { x: () => tf.broadcastTo(tf.div(tf.reshape(dy as Tensor, kept), n), x.shape) }
    },
  }
}

/**
 * A one-input elementwise gradient (input x saved) computed on wasm by ONE SIMD pass `pass(simd, dy, x, dx)`;
 * other backends, dtypes, shapes or a missing SIMD module keep tfjs's gradient `original`.
 */
function singlePassGradient(
  original: GradConfig,
  pass: (simd: SimdKernels, dy: TensorInfo, x: TensorInfo, dx: TensorInfo) => void,
): GradConfig {
  return {
    kernelName: original.kernelName,
    inputsToSave: original.inputsToSave ?? ['x'],
    gradFunc: (dy, saved, attrs) => {
      const [x] = saved as [Tensor]
      const g = dy as Tensor
      if (tf.getBackend() !== 'wasm' || x.dtype !== 'float32' || g.dtype !== 'float32' || g.size !== x.size)
        return original.gradFunc(dy, saved, attrs)
      const wasm = tf.backend() as unknown as WasmBackend
      const simd = simdKernels(wasm)
      if (simd === null) return original.gradFunc(dy, saved, attrs)
      return {
        x: () => {
          const out = wasm.makeOutput(x.shape, 'float32')
          pass(simd, g, x, out)
          return tf.engine().makeTensorFromTensorInfo(out)
        },
      }
    },
  }
}

/** ReLU's gradient dx = x > 0 ? dy : 0 in one pass, instead of tfjs's Step, Cast and Multiply (Step is a scalar loop). */
const reluGradient = (original: GradConfig): GradConfig =>
  singlePassGradient(original, (simd, dy, x, dx) => simd.reluGrad(dy, x, dx))

/** Square's gradient dx = 2 * x * dy in one pass, instead of a Cast and two Multiplies (batch norm's variance). */
const squareGradient = (original: GradConfig): GradConfig =>
  singlePassGradient(original, (simd, dy, x, dx) => simd.scaledProduct(dy, x, dx, 2))

/**
 * Softmax's gradient dx = y * (dy - sum(dy * y)) over the last axis in one pass on wasm (float64 row sums),
 * instead of tfjs's two Multiplies, a Sum and a Sub: every net here ends in a softmax, and on a small one the
 * per-kernel overhead outweighs the arithmetic. Other axes, backends and dtypes keep tfjs's gradient.
 */
function softmaxGradient(original: GradConfig): GradConfig {
  return {
    kernelName: 'Softmax',
    outputsToSave: original.outputsToSave ?? [true],
    gradFunc: (dy, saved, attrs) => {
      const [y] = saved as [Tensor]
      const g = dy as Tensor
      const dim = (attrs as { dim: number }).dim
      const last = dim === -1 || dim === y.rank - 1
      if (
        tf.getBackend() !== 'wasm' ||
        !last ||
        y.dtype !== 'float32' ||
        g.dtype !== 'float32' ||
        g.size !== y.size
      )
        return original.gradFunc(dy, saved, attrs)
      const wasm = tf.backend() as unknown as WasmBackend
      return {
        logits: () => {
          const out = wasm.makeOutput(y.shape, 'float32')
          const yv = wasm.typedArrayFromHeap(y) as Float32Array
          const gv = wasm.typedArrayFromHeap(g) as Float32Array
          const dx = wasm.typedArrayFromHeap(out) as Float32Array
          const classes = y.shape.at(-1)!
          for (let base = 0; base < yv.length; base += classes) {
            let s = 0
            for (let j = base; j < base + classes; j++) s += gv[j]! * yv[j]!
            for (let j = base; j < base + classes; j++) dx[j] = yv[j]! * (gv[j]! - s)
          }
          return tf.engine().makeTensorFromTensorInfo(out)
        },
      }
    },
  }
}

let registered = false

/** Installs the gradient overrides above: dilated convolutions, batch norm, Mean, ReLU, Square and Softmax (once per process). */
export function registerGradientOverrides(): void {
  if (registered) return
  registered = true
  const pairs: Array<[string, string, string]> = [
    ['Conv2D', 'Conv2DBackpropInput', 'Conv2DBackpropFilter'],
    ['DepthwiseConv2dNative', 'DepthwiseConv2dNativeBackpropInput', 'DepthwiseConv2dNativeBackpropFilter'],
  ]
  for (const [name, inputKernel, filterKernel] of pairs) {
    const original = tf.getGradient(name)
    if (original === undefined) continue
    tf.registerGradient(dilatedGradient(name, inputKernel, filterKernel, original))
  }
  const bn = tf.getGradient('FusedBatchNorm')
  if (bn !== undefined) tf.registerGradient(batchNormGradient(bn))
  const mean = tf.getGradient('Mean')
  if (mean !== undefined) tf.registerGradient(meanGradient(mean))
  const relu = tf.getGradient('Relu')
  if (relu !== undefined) tf.registerGradient(reluGradient(relu))
  const square = tf.getGradient('Square')
  if (square !== undefined) tf.registerGradient(squareGradient(square))
  const softmax = tf.getGradient('Softmax')
  if (softmax !== undefined) tf.registerGradient(softmaxGradient(softmax))
}
