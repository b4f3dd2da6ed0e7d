import * as tf from '@tensorflow/tfjs'
import type { TensorInfo } from '@tensorflow/tfjs'
import type { KernelArgs, WasmBackend } from './wasm-ops'
import { simdKernels } from './simd'

/**
 * Pooling gradients on wasm as single passes over wasm memory (no copies). wasm's MaxPoolGrad is slow and
 * routes the gradient wrongly when every value of a window is negative; these follow the cpu backend exactly:
 * a max-pool window sends its gradient to its FIRST maximum (row-major), an average-pool window spreads it as
 * dy / (filterHeight * filterWidth) over its in-bounds cells.
 */

interface PoolAttrs {
  filterSize: number | [number, number]
  strides: number | [number, number]
  pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding
  dimRoundingMode?: 'floor' | 'round' | 'ceil'
}

function poolInfo(xShape: number[], a: PoolAttrs): tf.backend_util.Conv2DInfo {
  return tf.backend_util.computePool2DInfo(
    xShape as [number, number, number, number],
    a.filterSize,
    a.strides,
    1,
    a.pad,
    a.dimRoundingMode,
  )
}

/** MaxPoolGrad(dy, input, output): dx = dy scattered to the first maximum of each window. */
export function maxPoolGrad({ inputs, backend, attrs }: KernelArgs): TensorInfo | null {
  const dy = inputs.dy as TensorInfo
  const x = inputs.input as TensorInfo
  if (x.dtype !== 'float32') return null
  const info = poolInfo(x.shape, attrs as unknown as PoolAttrs)
  const wasm = backend as unknown as WasmBackend
  const out = wasm.makeOutput(x.shape, 'float32')
  // views after makeOutput: allocating may grow (and so move) wasm memory
  const xv = wasm.typedArrayFromHeap(x) as Float32Array
  const dyv = wasm.typedArrayFromHeap(dy) as Float32Array
  const dx = wasm.typedArrayFromHeap(out) as Float32Array
  const y = inputs.output as TensorInfo | undefined
  const tiled = info.strideHeight === info.filterHeight && info.strideWidth === info.filterWidth
  const { top, left } = info.padInfo
  const [, h, w] = x.shape as [number, number, number, number]
  // The 2x2 pass assumes every window lies fully inside x: with odd sizes and 'same' padding the last window
  // hangs over the edge, so those go to the tiled pass, which clips windows.
  const exact2x2 =
    tiled &&
    info.filterHeight === 2 &&
    info.filterWidth === 2 &&
    top === 0 &&
    left === 0 &&
    h === 2 * info.outHeight &&
    w === 2 * info.outWidth
  const simd = exact2x2 && x.shape[3]! % 4 === 0 && dy.dtype === 'float32' ? simdKernels(wasm) : null
  if (simd !== null) {
    // one SIMD pass writing every cell: 0.45 ms on [64,28,28,16] random data, the JavaScript pass below 4.7 ms
    simd.maxPoolGrad2x2(x, dy, out)
    return out
  }
  // the 2x2 pass writes every cell of x; the others only write winners, so clear first
  if (!exact2x2) dx.fill(0)
  if (exact2x2) maxPoolGrad2x2(xv, dyv, dx, x.shape, info)
  else if (tiled && y !== undefined && y.dtype === 'float32')
    maxPoolGradTiled(xv, wasm.typedArrayFromHeap(y) as Float32Array, dyv, dx, x.shape, info)
  else maxPoolGradGeneral(xv, dyv, dx, x.shape, info)
  return out
}

/**
 * The common 2x2 pool with stride 2 and no padding: each window's four values are compared in registers (first
 * strict maximum wins, as on cpu) and all four dx cells are written, so dx needs no separate clearing pass.
 */
function maxPoolGrad2x2(
  xv: Float32Array,
  dyv: Float32Array,
  dx: Float32Array,
  shape: number[],
  info: tf.backend_util.Conv2DInfo,
): void {
  const [b, h, w, c] = shape as [number, number, number, number]
  const { outHeight: oh, outWidth: ow } = info
  const rowLen = w * c
  for (let bi = 0; bi < b; bi++) {
    for (let r = 0; r < oh; r++) {
      const row0 = (bi * h + 2 * r) * rowLen
      const row1 = row0 + rowLen
      const dyRow = (bi * oh + r) * ow * c
      for (let col = 0; col < ow; col++) {
        const o0 = row0 + 2 * col * c
        const o1 = o0 + c
        const o2 = row1 + 2 * col * c
        const o3 = o2 + c
        const d = dyRow + col * c
        for (let ch = 0; ch < c; ch++) {
          const v0 = xv[o0 + ch]!
          const v1 = xv[o1 + ch]!
          const v2 = xv[o2 + ch]!
          const v3 = xv[o3 + ch]!
          // selects, not branches: the winner of random-looking data is unpredictable
          let p = v0 > -Infinity ? 0 : -1
          let m = v0 > -Infinity ? v0 : -Infinity
          p = v1 > m ? 1 : p
          m = v1 > m ? v1 : m
          p = v2 > m ? 2 : p
          m = v2 > m ? v2 : m
          p = v3 > m ? 3 : p
          const g = dyv[d + ch]!
          dx[o0 + ch] = p === 0 ? g : 0
          dx[o1 + ch] = p === 1 ? g : 0
          dx[o2 + ch] = p === 2 ? g : 0
          dx[o3 + ch] = p === 3 ? g : 0
        }
      }
    }
  }
}

/**
 * Windows that tile the input (stride = pool size, the usual 2x2/2): one row-major pass over x compares each
 * value with its window's maximum (the forward output y) and gives dy to the first match only; row-major order
 * inside a window makes the first maximum win. Equality tests branch far more predictably than running maxima.
 */
function maxPoolGradTiled(
  xv: Float32Array,
  yv: Float32Array,
  dyv: Float32Array,
  dx: Float32Array,
  shape: number[],
  info: tf.backend_util.Conv2DInfo,
): void {
  const [b, h, w, c] = shape as [number, number, number, number]
  const { outHeight: oh, outWidth: ow, strideHeight: sh, strideWidth: sw } = info
  const { top, left } = info.padInfo
  const rowCells = ow * c
  const claimed = new Uint8Array(rowCells)
  const colWin = new Int32Array(w)
  for (let xc = 0; xc < w; xc++) {
    const win = Math.floor((xc + left) / sw)
    colWin[xc] = win >= 0 && win < ow ? win * c : -1
  }
  for (let bi = 0; bi < b; bi++) {
    for (let r = 0; r < oh; r++) {
      claimed.fill(0)
      const yBase = (bi * oh + r) * rowCells
      const r0 = Math.max(0, r * sh - top)
      const r1 = Math.min(h, r * sh - top + sh)
      for (let xr = r0; xr < r1; xr++) {
        const rowBase = (bi * h + xr) * w * c
        for (let xc = 0; xc < w; xc++) {
          const cell = colWin[xc]!
          if (cell < 0) continue
          const base = rowBase + xc * c
          const yb = yBase + cell
          for (let ch = 0; ch < c; ch++) {
            if (xv[base + ch] === yv[yb + ch] && claimed[cell + ch] === 0) {
              claimed[cell + ch] = 1
              dx[base + ch] = dyv[yb + ch]!
            }
          }
        }
      }
    }
  }
}

/** Any windows (overlapping, padded): each window is scanned on its own. */
function maxPoolGradGeneral(
  xv: Float32Array,
  dyv: Float32Array,
  dx: Float32Array,
  shape: number[],
  info: tf.backend_util.Conv2DInfo,
): void {
  const [b, h, w, c] = shape as [number, number, number, number]
  const { outHeight: oh, outWidth: ow, strideHeight: sh, strideWidth: sw } = info
  const { filterHeight: fh, filterWidth: fw } = info
  const { top, left } = info.padInfo
  const best = new Float32Array(c)
  const pos = new Int32Array(c)
  for (let bi = 0; bi < b; bi++) {
    for (let r = 0; r < oh; r++) {
      const r0 = Math.max(0, r * sh - top)
      const r1 = Math.min(h, r * sh - top + fh)
      for (let col = 0; col < ow; col++) {
        const c0 = Math.max(0, col * sw - left)
        const c1 = Math.min(w, col * sw - left + fw)
        best.fill(-Infinity)
        pos.fill(-1)
        for (let xr = r0; xr < r1; xr++) {
          for (let xc = c0; xc < c1; xc++) {
            const base = ((bi * h + xr) * w + xc) * c
            for (let ch = 0; ch < c; ch++) {
              const v = xv[base + ch]!
              if (v > best[ch]!) {
                best[ch] = v
                pos[ch] = base + ch
              }
            }
          }
        }
        const dyBase = ((bi * oh + r) * ow + col) * c
        for (let ch = 0; ch < c; ch++) {
          const p = pos[ch]!
          if (p >= 0) dx[p]! += dyv[dyBase + ch]!
        }
      }
    }
  }
}

/** AvgPoolGrad(dy, input): each window adds dy / (filterHeight * filterWidth) to its in-bounds cells. */
export function avgPoolGrad({ inputs, backend, attrs }: KernelArgs): TensorInfo | null {
  const dy = inputs.dy as TensorInfo
  const x = inputs.input as TensorInfo
  if (dy.dtype !== 'float32') return null
  const info = poolInfo(x.shape, attrs as unknown as PoolAttrs)
  const wasm = backend as unknown as WasmBackend
  const out = wasm.makeOutput(x.shape, 'float32')
  const dyv = wasm.typedArrayFromHeap(dy) as Float32Array
  const dx = wasm.typedArrayFromHeap(out) as Float32Array
  dx.fill(0)
  const [b, h, w, c] = x.shape as [number, number, number, number]
  const { outHeight: oh, outWidth: ow, strideHeight: sh, strideWidth: sw } = info
  const { filterHeight: fh, filterWidth: fw } = info
  const { top, left } = info.padInfo
  const scale = 1 / (fh * fw)
  for (let bi = 0; bi < b; bi++) {
    for (let r = 0; r < oh; r++) {
      const r0 = Math.max(0, r * sh - top)
      const r1 = Math.min(h, r * sh - top + fh)
      for (let col = 0; col < ow; col++) {
        const c0 = Math.max(0, col * sw - left)
        const c1 = Math.min(w, col * sw - left + fw)
        const dyBase = ((bi * oh + r) * ow + col) * c
        for (let xr = r0; xr < r1; xr++) {
          for (let xc = c0; xc < c1; xc++) {
            const base = ((bi * h + xr) * w + xc) * c
            for (let ch = 0; ch < c; ch++) dx[base + ch]! += dyv[dyBase + ch]! * scale
          }
        }
      }
    }
  }
  return out
}
