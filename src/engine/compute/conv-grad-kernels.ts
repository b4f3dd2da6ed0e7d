import * as tf from '@tensorflow/tfjs'
import type { TensorInfo } from '@tensorflow/tfjs'
import type { ConvAttrs, KernelArgs, Scope, WasmBackend } from './wasm-ops'
import { columnsInside, explicitPad, scoped, view } from './wasm-ops'
import { filterGradGemm, filterGradIm2col, inputGradCol2im } from './conv-grad-im2col'
import { simdKernels } from './simd'
import type { SimdKernels } from './simd'

/** Below this many input channels the filter gradient uses im2col + one matMul (see filterGradIm2col). */
export const IM2COL_MAX_IN_CHANNELS = 4

/**
 * Gradients of Conv2D on wasm, each one or two XNNPACK convolutions plus cheap transposes. Both accept an
 * optional `dilations` attribute (tfjs's own gradient never passes one; dilated-gradients.ts does).
 * A kernel returns null for a case it does not handle (NCHW, explicit padding wider than the filter), and the
 * registry then uses the cpu bridge.
 */

type Conv2DInfo = tf.backend_util.Conv2DInfo

/**
 * The input of a "transposed" convolution that maps an output gradient `dy` [b, oh, ow, c] back onto the forward
 * input grid of `info`: dy with stride-1 zeros inserted between rows and columns (when the stride > 1), and the
 * explicit padding that makes a stride-1 convolution with the flipped filter produce exactly inHeight x inWidth.
 * Null when the forward padding was wider than the dilated filter (then no non-negative padding fits).
 */
export function transposedConvInput(
  s: Scope,
  dy: TensorInfo,
  info: Conv2DInfo,
): { input: TensorInfo; pad: number[][] } | null {
  const [b, oh, ow, c] = dy.shape as [number, number, number, number]
  const sh = info.strideHeight
  const sw = info.strideWidth
  const top = (info.filterHeight - 1) * info.dilationHeight - info.padInfo.top
  const left = (info.filterWidth - 1) * info.dilationWidth - info.padInfo.left
  if (top < 0 || left < 0) return null
  let input = dy
  let rows = oh
  let cols = ow
  if (sh > 1 || sw > 1) {
    const padded = s.run(
      'PadV2',
      { x: view(dy, [b, oh, 1, ow, 1, c]) },
      {
        paddings: [
          [0, 0],
          [0, 0],
          [0, sh - 1],
          [0, 0],
          [0, sw - 1],
          [0, 0],
        ],
        constantValue: 0,
      },
    )
    rows = oh * sh
    cols = ow * sw
    input = view(padded, [b, rows, cols, c])
  }
  // rows the stride-1 convolution reads below/right of the data; negative means trailing zero rows to drop
  let bottom = info.inHeight + (info.filterHeight - 1) * info.dilationHeight - top - rows
  let right = info.inWidth + (info.filterWidth - 1) * info.dilationWidth - left - cols
  if (bottom < 0 || right < 0) {
    const keepRows = rows + Math.min(bottom, 0)
    const keepCols = cols + Math.min(right, 0)
    // only the inserted zeros may go
    if (keepRows < (oh - 1) * sh + 1 || keepCols < (ow - 1) * sw + 1) return null
    input = s.run('Slice', { x: input }, { begin: [0, 0, 0, 0], size: [b, keepRows, keepCols, c] })
    bottom = Math.max(bottom, 0)
    right = Math.max(right, 0)
  }
  return { input, pad: explicitPad(top, bottom, left, right) }
}

function convInfo(xShape: number[], filterShape: number[], a: ConvAttrs, depthwise: boolean): Conv2DInfo {
  return tf.backend_util.computeConv2DInfo(
    xShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    a.strides,
    a.dilations ?? 1,
    a.pad,
    a.dimRoundingMode,
    depthwise,
    'channelsLast',
  )
}

/**
 * Conv2DBackpropInput: dx = conv2d(dy with zeros inserted for the stride and padded, filter flipped in space with
 * its channel axes swapped), dilated like the forward pass. Replaces wasm's scalar loop (1-2 GFLOP/s).
 */
export function conv2dBackpropInput({ inputs, backend, attrs }: KernelArgs): TensorInfo | null {
  const dy = inputs.dy as TensorInfo
  const filter = inputs.filter as TensorInfo
  const a = attrs as unknown as ConvAttrs & { inputShape: number[] }
  if (a.dataFormat === 'NCHW' || dy.dtype !== 'float32') return null
  const info = convInfo(a.inputShape, filter.shape, a, false)
  if (filter.shape[2]! <= IM2COL_MAX_IN_CHANNELS) return inputGradCol2im(dy, filter, info, backend as never)
  return scoped(backend as unknown as WasmBackend, (s) => {
    const prep = transposedConvInput(s, dy, info)
    if (prep === null) return null
    const flipped = s.run('Reverse', { x: filter }, { dims: [0, 1] })
    const swapped = s.run('Transpose', { x: flipped }, { perm: [0, 1, 3, 2] })
    return s.run(
      'Conv2D',
      { x: prep.input, filter: swapped },
      {
        strides: 1,
        dilations: [info.dilationHeight, info.dilationWidth],
        pad: prep.pad,
        dataFormat: 'NHWC',
      },
    )
  })
}

/** Tuning of the filter gradient (a mutable object so tests can force each path on small shapes). */
export const FILTER_GRAD_TUNING = {
  /**
   * Largest "filter" (dy^T chunk, floats) one XNNPACK convolution of the filter gradient gets: XNNPACK streams
   * the whole packed filter once per tile of output rows, so a filter larger than the 2 MiB L2 cache runs
   * from L3 (measured 15.6 GFLOP/s at 6.4 MiB, 17.9 in 16-sample chunks of 1.6 MiB on cnn-bn's 28x28 layer).
   */
  maxChunkFloats: 1 << 19,
  /**
   * Many-channel form: 'gemm' = im2col rows written by copies in wasm memory + one matMul per chunk
   * (filterGradGemm), 'conv' = the swapped-axes convolution, 'auto' (default) = gemm at stride 1, and at
   * larger strides exactly when the convolution form would need sample chunks (dy^T over maxChunkFloats).
   * Why: XNNPACK re-packs the convolution's "filter" (dy^T) on every call; measured (CPU time, loaded machine)
   * gemm took cnn-bn's 28x28 32->32 filter gradient from 54 to 45 ms and its 14x14 32->64 from 28 to 21.
   * Re-measured at stride 1 without chunks (CPU time per call, conv / gemm, two rounds each, load ~5):
   * cnn-small's 14x14 16->32 (batch 64) 7.3-8.3 / 5.0-5.8 ms, 7x7 64->64 10.2 / 8.9, 14x14 8->8 (batch 32)
   * 0.7-0.8 / 0.6, 1x1 28x28 12->12 2.4 / 1.3, 1x1 7x7 24->24 0.29 / 0.17; but at stride 2 (28x28 16->16)
   * the convolution form wins, 6.9-7.2 / 8.6-9.1 ms (its im2col rows are strided element copies).
   */
  method: 'auto' as 'auto' | 'simd' | 'gemm' | 'conv',
  /** Largest im2col chunk (floats) of the gemm form: 2M floats = 8 MiB, whole samples per chunk. */
  maxColsFloats: 1 << 21,
}

/** Samples per chunk: the largest divisor of `b` whose dy^T chunk fits maxChunkFloats (at least 1). */
function chunkSamples(b: number, floatsPerSample: number): number {
  for (let bc = b; bc > 1; bc--) {
    if (b % bc === 0 && bc * floatsPerSample <= FILTER_GRAD_TUNING.maxChunkFloats) return bc
  }
  return 1
}

/**
 * Conv2DBackpropFilter for every stride, padding and dilation: dW[kh,kw,ci,co] =
 * sum_{b,oh,ow} xPad[b, oh*s + kh*d, ow*s + kw*d, ci] * dy[b,oh,ow,co]. With few input channels it is im2col +
 * one matMul (filterGradIm2col); otherwise wasm convolutions with the batch and channel axes swapped:
 * conv2d(x^T [ci,H,W,bc] padded like the forward pass, "filter" dy^T [oh,ow,bc,co], strides = d, dilations = s)
 * gives [ci, >=kh, >=kw, co] for a chunk of bc samples (see FILTER_GRAD_TUNING); the chunks' results are
 * summed, rows past kh (slack of 'valid' strides) are cut and the axes go back, in one pass.
 * At stride 1, and when that form would need chunks, im2col + matMul runs instead (filterGradGemm; see
 * FILTER_GRAD_TUNING.method 'auto').
 * (Measured alternative, no faster: one row-only convolution per filter column with ow*b-long channel runs.)
 */
export function conv2dBackpropFilter({ inputs, backend, attrs }: KernelArgs): TensorInfo | null {
  const x = inputs.x as TensorInfo
  const dy = inputs.dy as TensorInfo
  const a = attrs as unknown as ConvAttrs & { filterShape: number[] }
  if (a.dataFormat === 'NCHW' || x.dtype !== 'float32') return null
  const info = convInfo(x.shape, a.filterShape, a, false)
  const wasm = backend as unknown as WasmBackend
  const [kh, kw, ci, co] = a.filterShape as [number, number, number, number]
  const useSimd = FILTER_GRAD_TUNING.method === 'auto' || FILTER_GRAD_TUNING.method === 'simd'
  const simd = useSimd && co % 8 === 0 ? simdKernels(wasm) : null
  if (simd !== null && ci % 4 === 0) {
    const out = wasm.makeOutput([kh, kw, ci, co], 'float32')
    simd.filterGrad(x, dy, out, info)
    return out
  }
  if (simd !== null && ci * kw <= 16) return filterGradColumnTaps(x, dy, info, wasm, simd)
  if (ci <= IM2COL_MAX_IN_CHANNELS) return filterGradIm2col(x, dy, info, wasm)
  const [b, h, w] = x.shape as [number, number, number, number]
  const { outHeight: oh, outWidth: ow } = info
  const bc = chunkSamples(b, oh * ow * co)
  const method = FILTER_GRAD_TUNING.method
  const strided = info.strideHeight > 1 || info.strideWidth > 1
  if (method === 'gemm' || (method === 'auto' && (bc < b || !strided)))
    return filterGradGemm(x, dy, info, wasm, FILTER_GRAD_TUNING.maxColsFloats)
  const { top, left } = info.padInfo
  const bottom = Math.max(
    0,
    (kh - 1) * info.dilationHeight + (info.outHeight - 1) * info.strideHeight + 1 - info.inHeight - top,
  )
  const right = Math.max(
    0,
    (kw - 1) * info.dilationWidth + (info.outWidth - 1) * info.strideWidth + 1 - info.inWidth - left,
  )
  const convAttrs = {
    strides: [info.dilationHeight, info.dilationWidth],
    dilations: [info.strideHeight, info.strideWidth],
    pad: explicitPad(top, bottom, left, right),
    dataFormat: 'NHWC',
  }
  if (bc === b) {
    return scoped(wasm, (s) => {
      const xT = s.run('Transpose', { x }, { perm: [3, 1, 2, 0] })
      const dyT = s.run('Transpose', { x: dy }, { perm: [1, 2, 0, 3] })
      let conv = s.run('Conv2D', { x: xT, filter: dyT }, convAttrs)
      if (conv.shape[1] !== kh || conv.shape[2] !== kw) {
        conv = s.run('Slice', { x: conv }, { begin: [0, 0, 0, 0], size: [ci, kh, kw, co] })
      }
      return s.run('Transpose', { x: conv }, { perm: [1, 2, 0, 3] })
    })
  }
  const acc = new Float32Array(ci * kh * kw * co)
  const hw = h * w
  const ohw = oh * ow
  for (let first = 0; first < b; first += bc) {
    scoped(wasm, (s) => {
      const xT = s.track(wasm.makeOutput([ci, h, w, bc], 'float32'))
      const dyT = s.track(wasm.makeOutput([oh, ow, bc, co], 'float32'))
      // views after makeOutput: allocating may grow (and so move) wasm memory
      const xv = wasm.typedArrayFromHeap(x) as Float32Array
      const dyv = wasm.typedArrayFromHeap(dy) as Float32Array
      const xtv = wasm.typedArrayFromHeap(xT) as Float32Array
      const dtv = wasm.typedArrayFromHeap(dyT) as Float32Array
      // x [b,h,w,ci] -> [ci,h,w,bc]: reads run along ci, each of the ci output rows is filled along bc
      for (let p = 0; p < hw; p++) {
        for (let bb = 0; bb < bc; bb++) {
          const src = ((first + bb) * hw + p) * ci
          let dst = p * bc + bb
          for (let c = 0; c < ci; c++, dst += hw * bc) xtv[dst] = xv[src + c]!
        }
      }
      // dy [b,oh,ow,co] -> [oh,ow,bc,co]: runs of co
      for (let bb = 0; bb < bc; bb++) {
        for (let p = 0; p < ohw; p++) {
          const src = ((first + bb) * ohw + p) * co
          const dst = (p * bc + bb) * co
          for (let c = 0; c < co; c++) dtv[dst + c] = dyv[src + c]!
        }
      }
      const conv = s.run('Conv2D', { x: xT, filter: dyT }, convAttrs)
      // conv [ci, >=kh, >=kw, co] added into acc [kh, kw, ci, co]
      const cv = wasm.typedArrayFromHeap(conv) as Float32Array
      const [, ch, cw] = conv.shape as [number, number, number, number]
      for (let c = 0; c < ci; c++) {
        for (let i = 0; i < kh; i++) {
          for (let j = 0; j < kw; j++) {
            const src = ((c * ch + i) * cw + j) * co
            const dst = ((i * kw + j) * ci + c) * co
            for (let o = 0; o < co; o++) acc[dst + o]! += cv[src + o]!
          }
        }
      }
      return null
    })
  }
  const out = wasm.makeOutput([kh, kw, ci, co], 'float32')
  ;(wasm.typedArrayFromHeap(out) as Float32Array).set(acc)
  return out
}

/**
 * The filter gradient for few input channels (a network's first layer) on the SIMD kernel, which needs a
 * multiple of 4 channels: x's filter columns become channels, x' [b, h, ow, c4] with
 * x'[b, r, col, j*ci + q] = x[b, r, col*sw + j*dw - left, q] (zero outside, c4 = kw*ci rounded up to 4), so the
 * gradient is that of a kh x 1 convolution over x' (strides [sh, 1], dilations [dh, 1], same top padding), read
 * back per column. Costs 4/3 of the work for ci = 1, kw = 3 instead of the im2col form's packing of dy.
 */
function filterGradColumnTaps(
  x: TensorInfo,
  dy: TensorInfo,
  info: Conv2DInfo,
  wasm: WasmBackend,
  simd: SimdKernels,
): TensorInfo {
  const { batchSize: b, inHeight: h, inWidth: w, inChannels: ci, outChannels: co } = info
  const { outWidth: ow, strideWidth: sw, dilationWidth: dw, filterHeight: kh, filterWidth: kw } = info
  const { left } = info.padInfo
  const c4 = Math.ceil((kw * ci) / 4) * 4
  return scoped(wasm, (s) => {
    const xc = s.track(wasm.makeOutput([b, h, ow, c4], 'float32'))
    const part = s.track(wasm.makeOutput([kh, 1, c4, co], 'float32'))
    const out = wasm.makeOutput([kh, kw, ci, co], 'float32')
    // views after makeOutput: allocating may grow (and so move) wasm memory
    const xv = wasm.typedArrayFromHeap(x) as Float32Array
    const cv = wasm.typedArrayFromHeap(xc) as Float32Array
    cv.fill(0)
    for (let j = 0; j < kw; j++) {
      const shift = j * dw - left
      const [c0, c1] = columnsInside(shift, sw, w, ow)
      for (let row = 0; row < b * h; row++) {
        const src = (row * w + shift) * ci
        const dst = row * ow * c4 + j * ci
        for (let col = c0; col < c1; col++) {
          const from = src + col * sw * ci
          const to = dst + col * c4
          for (let q = 0; q < ci; q++) cv[to + q] = xv[from + q]!
        }
      }
    }
    const columnInfo: Conv2DInfo = {
      ...info,
      inWidth: ow,
      inChannels: c4,
      strideWidth: 1,
      dilationWidth: 1,
      filterWidth: 1,
      effectiveFilterWidth: 1,
      inShape: [b, h, ow, c4],
      filterShape: [kh, 1, c4, co],
      padInfo: { ...info.padInfo, left: 0, right: 0 },
    } as Conv2DInfo
    simd.filterGrad(xc, dy, part, columnInfo)
    const pv = wasm.typedArrayFromHeap(part) as Float32Array
    const ov = wasm.typedArrayFromHeap(out) as Float32Array
    for (let i = 0; i < kh; i++) {
      for (let j = 0; j < kw; j++) {
        for (let q = 0; q < ci; q++) {
          const from = (i * c4 + j * ci + q) * co
          ov.set(pv.subarray(from, from + co), ((i * kw + j) * ci + q) * co)
        }
      }
    }
    return out
  })
}
