import type * as tf from '@tensorflow/tfjs'
import type { TensorInfo } from '@tensorflow/tfjs'
import type { WasmBackend } from './wasm-ops'
import { columnsInside, scoped, view } from './wasm-ops'

/**
 * The im2col / col2im forms of the Conv2D gradients on wasm: the first layer's filter and input gradients (few
 * input channels) and the filter gradient as matMuls for many channels. The im2col matrices are written by
 * copies in wasm memory; XNNPACK does the multiply-adds (conv-grad-kernels.ts chooses the form).
 */

type Conv2DInfo = tf.backend_util.Conv2DInfo

/**
 * The input gradient for few input channels (a network's first layer; tfjs's fused conv computes it even
 * though nothing uses it): the convolution form has 1-4 output channels, which XNNPACK runs at ~3 GFLOP/s.
 * Instead the patch gradients dy [b*oh*ow, co] x filter^T [co, kh*kw*ci] come from one matMul (the small
 * filter is the packed operand) and are added back onto the input grid in one pass (col2im; at stride 1 in
 * runs along input rows: cnn-bn's first layer 5.8 -> 3.0 ms measured alone).
 */
export function inputGradCol2im(
  dy: TensorInfo,
  filter: TensorInfo,
  info: Conv2DInfo,
  wasm: WasmBackend,
): TensorInfo {
  const { batchSize: b, inHeight: h, inWidth: w, inChannels: ci } = info
  const { outHeight: oh, outWidth: ow, strideHeight: sh, strideWidth: sw } = info
  const co = dy.shape[3]!
  const k = info.filterHeight * info.filterWidth * ci
  const n = b * oh * ow
  return scoped(wasm, (s) => {
    const fT = s.run('Transpose', { x: view(filter, [k, co]) }, { perm: [1, 0] })
    const patches = s.run(
      'BatchMatMul',
      { a: view(dy, [1, n, co]), b: view(fT, [1, co, k]) },
      { transposeA: false, transposeB: false },
    )
    const out = wasm.makeOutput([b, h, w, ci], 'float32')
    const pv = wasm.typedArrayFromHeap(patches) as Float32Array
    const dx = wasm.typedArrayFromHeap(out) as Float32Array
    dx.fill(0)
    if (sh === 1 && sw === 1) col2imStride1(pv, dx, info, k)
    else col2imGeneral(pv, dx, info)
    return out
  })
}

/**
 * col2im at stride 1: for each input row and filter tap, one run along the row adds the tap's patch column
 * (stride k in `pv`) into dx, with the valid column range computed once per tap instead of tested per pixel.
 */
function col2imStride1(pv: Float32Array, dx: Float32Array, info: Conv2DInfo, k: number): void {
  const { batchSize: b, inHeight: h, inWidth: w, inChannels: ci, outHeight: oh, outWidth: ow } = info
  const { dilationHeight: dh, dilationWidth: dw, filterHeight: kh, filterWidth: kw } = info
  const { top, left } = info.padInfo
  for (let bi = 0; bi < b; bi++) {
    for (let xr = 0; xr < h; xr++) {
      const dxRow = (bi * h + xr) * w * ci
      for (let i = 0; i < kh; i++) {
        const r = xr + top - i * dh
        if (r < 0 || r >= oh) continue
        const pRow = (bi * oh + r) * ow
        for (let j = 0; j < kw; j++) {
          // output column of input column xc for tap j: col = xc + shift, valid in [0, ow)
          const shift = left - j * dw
          const x0 = Math.max(0, -shift)
          const x1 = Math.min(w, ow - shift)
          const tap = (i * kw + j) * ci
          if (ci === 1) {
            let p = (pRow + x0 + shift) * k + tap
            for (let xc = x0; xc < x1; xc++, p += k) dx[dxRow + xc]! += pv[p]!
          } else {
            for (let xc = x0; xc < x1; xc++) {
              const p = (pRow + xc + shift) * k + tap
              const d = dxRow + xc * ci
              for (let c = 0; c < ci; c++) dx[d + c]! += pv[p + c]!
            }
          }
        }
      }
    }
  }
}

/** col2im for any stride: each patch row is added back onto the input grid, skipping padded cells. */
function col2imGeneral(pv: Float32Array, dx: Float32Array, info: Conv2DInfo): void {
  const { batchSize: b, inHeight: h, inWidth: w, inChannels: ci, outHeight: oh, outWidth: ow } = info
  const { strideHeight: sh, strideWidth: sw, dilationHeight: dh, dilationWidth: dw } = info
  const { filterHeight: kh, filterWidth: kw } = info
  const { top, left } = info.padInfo
  let o = 0
  for (let bi = 0; bi < b; bi++) {
    for (let r = 0; r < oh; r++) {
      for (let col = 0; col < ow; col++) {
        for (let i = 0; i < kh; i++) {
          const xr = r * sh + i * dh - top
          const inRow = xr >= 0 && xr < h
          const rowBase = (bi * h + xr) * w
          for (let j = 0; j < kw; j++) {
            const xc = col * sw + j * dw - left
            if (inRow && xc >= 0 && xc < w) {
              const base = (rowBase + xc) * ci
              for (let c = 0; c < ci; c++) dx[base + c]! += pv[o + c]!
            }
            o += ci
          }
        }
      }
    }
  }
}

/**
 * The filter gradient for few input channels (a network's first layer): XNNPACK runs the one-convolution form
 * poorly there (an oh x ow "filter" with 1-4 input channels, ~2 GFLOP/s). Instead the TRANSPOSED im2col matrix
 * colsT [kh*kw*ci, b*oh*ow] is written straight from x in one pass over wasm memory (row copies when ci = 1
 * and the stride is 1), and one matMul colsT x dy [b*oh*ow, co] gives [kh*kw*ci, co], already the filter layout.
 * Why: the previous form (one-hot convolution for im2col, then wasm's slow Transpose of dy for dy^T x cols)
 * took 6.8 ms per step on cnn-small's first layer, this one 4.3 (CPU time, loaded machine).
 */
export function filterGradIm2col(
  x: TensorInfo,
  dy: TensorInfo,
  info: Conv2DInfo,
  wasm: WasmBackend,
): TensorInfo {
  const [b, h, w, ci] = x.shape as [number, number, number, number]
  const { outHeight: oh, outWidth: ow, strideHeight: sh, strideWidth: sw } = info
  const { dilationHeight: dh, dilationWidth: dw, filterHeight: kh, filterWidth: kw } = info
  const { top, left } = info.padInfo
  const co = dy.shape[3]!
  const k = kh * kw * ci
  const n = b * oh * ow
  return scoped(wasm, (s) => {
    const colsT = s.track(wasm.makeOutput([k, n], 'float32'))
    // views after makeOutput: allocating may grow (and so move) wasm memory
    const xv = wasm.typedArrayFromHeap(x) as Float32Array
    const cv = wasm.typedArrayFromHeap(colsT) as Float32Array
    cv.fill(0)
    // one view of the whole heap: row copies by copyWithin, with no subarray object per row.
    // Offsets are divided, never shifted: `>> 2` is a signed 32-bit shift and turns a byte offset above
    // 2 GiB (a grown wasm heap) negative, and copyWithin then counts from the END of the heap, silently
    // overwriting other tensors (it surfaced as a crash in free() during a DARTS-space search).
    const heap = new Float32Array(cv.buffer)
    const xOff = xv.byteOffset / 4
    const cOff = cv.byteOffset / 4
    for (let i = 0; i < kh; i++) {
      for (let j = 0; j < kw; j++) {
        // output columns whose tap j lands inside the input: xc = col * sw + j * dw - left in [0, w)
        const shift = j * dw - left
        const [c0, c1] = columnsInside(shift, sw, w, ow)
        for (let c = 0; c < ci; c++) {
          const rowStart = ((i * kw + j) * ci + c) * n
          for (let bi = 0; bi < b; bi++) {
            for (let r = 0; r < oh; r++) {
              const xr = r * sh + i * dh - top
              if (xr < 0 || xr >= h || c1 <= c0) continue
              const dst = rowStart + (bi * oh + r) * ow
              const src = ((bi * h + xr) * w + shift) * ci + c
              if (ci === 1 && sw === 1) {
                heap.copyWithin(cOff + dst + c0, xOff + src + c0, xOff + src + c1)
              } else {
                for (let col = c0; col < c1; col++) cv[dst + col] = xv[src + col * sw * ci]!
              }
            }
          }
        }
      }
    }
    const grad = s.run(
      'BatchMatMul',
      { a: view(colsT, [1, k, n]), b: view(dy, [1, n, co]) },
      { transposeA: false, transposeB: false },
    )
    return view(grad, [kh, kw, ci, co])
  })
}

/**
 * The filter gradient as matMuls: per chunk of bc samples (maxColsFloats), x is made planar
 * [ci, bc*h*w] by a blocked transpose, the transposed im2col matrix colsT [kh*kw*ci, bc*oh*ow] is written from it
 * by row copies (zeros where padded), and one matMul colsT x dy [bc*oh*ow, co] gives [kh*kw*ci, co], already
 * the filter layout; chunks are summed in float64. Every stride, dilation and padding. Why this orientation:
 * XNNPACK packs the right operand on every call, cheaply for the narrow dy, slowly for the wide cols (29 ms measured).
 */
export function filterGradGemm(
  x: TensorInfo,
  dy: TensorInfo,
  info: Conv2DInfo,
  wasm: WasmBackend,
  maxColsFloats: number,
): TensorInfo {
  const [b, h, w, ci] = x.shape as [number, number, number, number]
  const { outHeight: oh, outWidth: ow, strideHeight: sh, strideWidth: sw } = info
  const { filterHeight: kh, filterWidth: kw } = info
  const co = dy.shape[3]!
  const k = kh * kw * ci
  const ohw = oh * ow
  let bc = 1
  for (let c = b; c > 1; c--) {
    if (b % c === 0 && c * ohw * k <= maxColsFloats) {
      bc = c
      break
    }
  }
  const nc = bc * ohw
  const plane = bc * h * w
  const acc = bc === b ? null : new Float64Array(k * co)
  let result: TensorInfo | null = null
  for (let first = 0; first < b; first += bc) {
    const chunk = scoped(wasm, (s) => {
      const xT = s.track(wasm.makeOutput([ci, plane], 'float32'))
      const colsT = s.track(wasm.makeOutput([1, k, nc], 'float32'))
      const dyc = bc === b ? view(dy, [1, nc, co]) : s.track(wasm.makeOutput([1, nc, co], 'float32'))
      // views after makeOutput: allocating may grow (and so move) wasm memory
      const xv = wasm.typedArrayFromHeap(x) as Float32Array
      const tv = wasm.typedArrayFromHeap(xT) as Float32Array
      const cv = wasm.typedArrayFromHeap(colsT) as Float32Array
      if (bc !== b) {
        const dyv = wasm.typedArrayFromHeap(dy) as Float32Array
        ;(wasm.typedArrayFromHeap(dyc) as Float32Array).set(
          dyv.subarray(first * ohw * co, (first + bc) * ohw * co),
        )
      }
      // x chunk [plane, ci] -> [ci, plane] in blocks of 64 pixels
      const xBase = first * h * w * ci
      for (let p0 = 0; p0 < plane; p0 += 64) {
        const p1 = Math.min(plane, p0 + 64)
        for (let c = 0; c < ci; c++) {
          const dst = c * plane
          for (let p = p0; p < p1; p++) tv[dst + p] = xv[xBase + p * ci + c]!
        }
      }
      if (sh === 1 && sw === 1 && oh === h && ow === w) colsSameStride1(tv, cv, info, bc)
      else colsGeneral(tv, cv, info, bc)
      return s.run('BatchMatMul', { a: colsT, b: dyc }, { transposeA: false, transposeB: false })
    })
    if (acc === null) {
      result = view(chunk, [kh, kw, ci, co])
    } else {
      const pv = wasm.typedArrayFromHeap(chunk) as Float32Array
      for (let q = 0; q < pv.length; q++) acc[q]! += pv[q]!
      wasm.disposeData(chunk.dataId)
    }
  }
  if (result !== null) return result
  const out = wasm.makeOutput([kh, kw, ci, co], 'float32')
  ;(wasm.typedArrayFromHeap(out) as Float32Array).set(acc!)
  return out
}

/**
 * colsT rows from planar x when the output grid equals the input grid (stride 1, 'same'-like padding): the row
 * of tap (i, j) and channel c is the channel's plane shifted by one offset, so it is ONE copy, after which the
 * cells whose tap falls outside the input (border rows and columns of each sample) are zeroed.
 */
function colsSameStride1(tv: Float32Array, cv: Float32Array, info: Conv2DInfo, bc: number): void {
  const { inHeight: h, inWidth: w, inChannels: ci, dilationHeight: dh, dilationWidth: dw } = info
  const { filterHeight: kh, filterWidth: kw } = info
  const { top, left } = info.padInfo
  const plane = bc * h * w
  for (let i = 0; i < kh; i++) {
    const dr = i * dh - top
    // output rows r whose input row r + dr is inside [0, h)
    const r0 = Math.max(0, -dr)
    const r1 = Math.min(h, h - dr)
    for (let j = 0; j < kw; j++) {
      const dc = j * dw - left
      const c0 = Math.max(0, -dc)
      const c1 = Math.min(w, w - dc)
      const off = dr * w + dc
      for (let c = 0; c < ci; c++) {
        const row = ((i * kw + j) * ci + c) * plane
        const src = c * plane
        // cells whose source lies outside this channel's plane are border cells, zeroed below
        const p0 = Math.max(0, -off)
        const p1 = Math.min(plane, plane - off)
        if (p1 > p0) cv.set(tv.subarray(src + p0 + off, src + p1 + off), row + p0)
        for (let bb = 0; bb < bc; bb++) {
          const sample = row + bb * h * w
          for (let r = 0; r < h; r++) {
            const rowBase = sample + r * w
            if (r < r0 || r >= r1) {
              cv.fill(0, rowBase, rowBase + w)
              continue
            }
            for (let col = 0; col < c0; col++) cv[rowBase + col] = 0
            for (let col = c1; col < w; col++) cv[rowBase + col] = 0
          }
        }
      }
    }
  }
}

/** colsT rows from planar x for any stride, dilation and padding: one copy per output row and tap. */
function colsGeneral(tv: Float32Array, cv: Float32Array, info: Conv2DInfo, bc: number): void {
  const { inHeight: h, inWidth: w, inChannels: ci, outHeight: oh, outWidth: ow } = info
  const { strideHeight: sh, strideWidth: sw, dilationHeight: dh, dilationWidth: dw } = info
  const { filterHeight: kh, filterWidth: kw } = info
  const { top, left } = info.padInfo
  const plane = bc * h * w
  const nc = bc * oh * ow
  cv.fill(0)
  for (let i = 0; i < kh; i++) {
    for (let j = 0; j < kw; j++) {
      // output columns whose tap j lands inside the input: xc = col * sw + shift in [0, w)
      const shift = j * dw - left
      const [c0, c1] = columnsInside(shift, sw, w, ow)
      if (c1 <= c0) continue
      for (let c = 0; c < ci; c++) {
        const rowStart = ((i * kw + j) * ci + c) * nc
        for (let bb = 0; bb < bc; bb++) {
          for (let r = 0; r < oh; r++) {
            const xr = r * sh + i * dh - top
            if (xr < 0 || xr >= h) continue
            const dst = rowStart + (bb * oh + r) * ow
            const src = c * plane + (bb * h + xr) * w + shift
            if (sw === 1) for (let col = c0; col < c1; col++) cv[dst + col] = tv[src + col]!
            else for (let col = c0; col < c1; col++) cv[dst + col] = tv[src + col * sw]!
          }
        }
      }
    }
  }
}
