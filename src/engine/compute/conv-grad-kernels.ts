import * as tf from '@tensorflow/tfjs'
import type { TensorInfo } from '@tensorflow/tfjs'
import type { ConvAttrs, KernelArgs, Scope, WasmBackend } from './wasm-ops'
import { callWasm, explicitPad, scoped, view } from './wasm-ops'

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

/**
 * Conv2DBackpropFilter for every stride, padding and dilation: dW[kh,kw,ci,co] =
 * sum_{b,oh,ow} xPad[b, oh*s + kh*d, ow*s + kw*d, ci] * dy[b,oh,ow,co]. With few input channels it is im2col +
 * one matMul (filterGradIm2col); otherwise ONE wasm convolution with the batch and channel axes swapped:
 * conv2d(x^T [ci,H,W,b] padded like the forward pass, "filter" dy^T [oh,ow,b,co], strides = d, dilations = s)
 * gives [ci, >=kh, >=kw, co]; rows past kh (slack of 'valid' strides) are cut, then the axes go back.
 * (Measured alternatives, no faster here: one row-only convolution per filter column with ow*b-long channel
 * runs, and im2col + matMul for many channels.)
 */
export function conv2dBackpropFilter({ inputs, backend, attrs }: KernelArgs): TensorInfo | null {
  const x = inputs.x as TensorInfo
  const dy = inputs.dy as TensorInfo
  const a = attrs as unknown as ConvAttrs & { filterShape: number[] }
  if (a.dataFormat === 'NCHW' || x.dtype !== 'float32') return null
  const info = convInfo(x.shape, a.filterShape, a, false)
  const wasm = backend as unknown as WasmBackend
  const [kh, kw, ci, co] = a.filterShape as [number, number, number, number]
  if (ci <= IM2COL_MAX_IN_CHANNELS) return filterGradIm2col(x, dy, info, wasm)
  const { top, left } = info.padInfo
  const bottom = Math.max(
    0,
    (kh - 1) * info.dilationHeight + (info.outHeight - 1) * info.strideHeight + 1 - info.inHeight - top,
  )
  const right = Math.max(
    0,
    (kw - 1) * info.dilationWidth + (info.outWidth - 1) * info.strideWidth + 1 - info.inWidth - left,
  )
  return scoped(wasm, (s) => {
    const xT = s.run('Transpose', { x }, { perm: [3, 1, 2, 0] })
    const dyT = s.run('Transpose', { x: dy }, { perm: [1, 2, 0, 3] })
    let conv = s.run(
      'Conv2D',
      { x: xT, filter: dyT },
      {
        strides: [info.dilationHeight, info.dilationWidth],
        dilations: [info.strideHeight, info.strideWidth],
        pad: explicitPad(top, bottom, left, right),
        dataFormat: 'NHWC',
      },
    )
    if (conv.shape[1] !== kh || conv.shape[2] !== kw) {
      conv = s.run('Slice', { x: conv }, { begin: [0, 0, 0, 0], size: [ci, kh, kw, co] })
    }
    return s.run('Transpose', { x: conv }, { perm: [1, 2, 0, 3] })
  })
}

/**
 * The filter gradient for few input channels (a network's first layer): XNNPACK runs the one-convolution form
 * poorly there (an oh x ow "filter" with 1-4 input channels, ~2 GFLOP/s), so the transposed im2col matrix
 * [kh*kw*ci, b*oh*ow] is written in one pass and multiplied by dy [b*oh*ow, co]: the product is the filter
 * gradient in its own layout [kh, kw, ci, co].
 */
function filterGradIm2col(x: TensorInfo, dy: TensorInfo, info: Conv2DInfo, wasm: WasmBackend): TensorInfo {
  const [b, h, w, ci] = x.shape as [number, number, number, number]
  const { outHeight: oh, outWidth: ow, strideHeight: sh, strideWidth: sw } = info
  const { dilationHeight: dh, dilationWidth: dw, filterHeight: kh, filterWidth: kw } = info
  const { top, left } = info.padInfo
  const co = dy.shape[3]!
  const rows = kh * kw * ci
  const n = b * oh * ow
  const cols = wasm.makeOutput([1, rows, n], 'float32')
  try {
    const xv = wasm.typedArrayFromHeap(x) as Float32Array
    const cv = wasm.typedArrayFromHeap(cols) as Float32Array
    for (let i = 0; i < kh; i++) {
      for (let j = 0; j < kw; j++) {
        for (let c = 0; c < ci; c++) {
          let o = ((i * kw + j) * ci + c) * n
          for (let bi = 0; bi < b; bi++) {
            for (let r = 0; r < oh; r++) {
              const xr = r * sh + i * dh - top
              if (xr < 0 || xr >= h) {
                cv.fill(0, o, o + ow)
                o += ow
                continue
              }
              const rowBase = (bi * h + xr) * w
              for (let col = 0; col < ow; col++) {
                const xc = col * sw + j * dw - left
                cv[o++] = xc >= 0 && xc < w ? xv[(rowBase + xc) * ci + c]! : 0
              }
            }
          }
        }
      }
    }
    const product = callWasm(
      'BatchMatMul',
      wasm,
      { a: cols, b: view(dy, [1, n, co]) },
      {
        transposeA: false,
        transposeB: false,
      },
    )
    return view(product, [kh, kw, ci, co])
  } finally {
    wasm.disposeData(cols.dataId)
  }
}
