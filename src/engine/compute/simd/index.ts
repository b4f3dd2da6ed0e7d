import type * as tf from '@tensorflow/tfjs'
import type { TensorInfo } from '@tensorflow/tfjs'
import type { WasmBackend } from '../wasm-ops'
import { columnsInside } from '../wasm-ops'
import { KERNELS_RELAXED_WASM_BASE64, KERNELS_WASM_BASE64 } from './kernels-wasm'

/**
 * NAS Studio's WebAssembly SIMD kernels (kernels.wat), instantiated on tfjs-backend-wasm's own memory so they
 * work on tensors in place. Why: the per-element passes that XNNPACK lacks (pooling and ReLU gradients, column
 * sums) ran as JavaScript loops at 3-5 ns per element; SIMD runs them at memory speed.
 * `simdKernels(backend)` is null where the module cannot load (no WebAssembly SIMD, or a backend whose memory
 * is not reachable): every caller then keeps its JavaScript or XNNPACK path.
 * Two builds of the same kernels: where the runtime validates relaxed SIMD (Electron's V8 by default, Node 20
 * with --experimental-wasm-relaxed-simd), the one whose products use fused multiply-adds; elsewhere plain SIMD.
 * NAS_RELAXED_SIMD=off forces the plain build (the unit tests use it so both builds stay checked).
 */

interface KernelExports {
  maxPoolGrad2x2(x: number, dy: number, dx: number, rows: number, ow: number, c: number): void
  reluGrad(dy: number, x: number, dx: number, n: number): void
  sumColumns(x: number, out: number, acc: number, rows: number, cols: number, scale: number): void
  affineColumns(x: number, a: number, b: number, y: number, rows: number, cols: number): void
  pairSumsColumns(a: number, b: number, sa: number, sb: number, acc: number, rows: number, cols: number): void
  affinePairColumns(
    dy: number,
    x: number,
    a: number,
    k: number,
    b: number,
    dx: number,
    rows: number,
    cols: number,
  ): void
  addColumns(x: number, b: number, y: number, rows: number, cols: number): void
  scaledProduct(dy: number, x: number, dx: number, n: number, k: number): void
  filterGradTap(x: number, dy: number, dw: number, count: number, xStep: number, ci: number, co: number): void
  gemm(
    a: number,
    b: number,
    c: number,
    m: number,
    n: number,
    k: number,
    sam: number,
    sak: number,
    scratch: number,
  ): void
  adamStep(...args: number[]): void
}

/** Adam's constants for one step (float32, as tfjs computes them): see SimdKernels.adamStep. */
export interface AdamConstants {
  beta1: number
  beta2: number
  /** 1 - beta1^t and 1 - beta2^t. */
  c1: number
  c2: number
  learningRate: number
  epsilon: number
}

/** Typed entry points taking tensors (each a float32 tensor in the backend's memory). */
export interface SimdKernels {
  /** Which build runs: 'relaxed' (fused multiply-adds) or 'plain' SIMD. */
  variant: 'relaxed' | 'plain'
  /** dx for a 2x2 / stride 2 / unpadded max pool over x [b, 2*oh, 2*ow, c] (c a multiple of 4). */
  maxPoolGrad2x2(x: TensorInfo, dy: TensorInfo, dx: TensorInfo): void
  /** dx = x > 0 ? dy : 0, element by element. */
  reluGrad(dy: TensorInfo, x: TensorInfo, dx: TensorInfo): void
  /** out[c] = scale * sum over rows of x[r, c], accumulated in float64 (cols a multiple of 4, rows > 0). */
  sumColumns(x: TensorInfo, out: TensorInfo, rows: number, cols: number, scale: number): void
  /** y[r, c] = x[r, c] * a[c] + b[c] for x [rows, cols] (cols a multiple of 4). */
  affineColumns(x: TensorInfo, a: TensorInfo, b: TensorInfo, y: TensorInfo, rows: number, cols: number): void
  /**
   * s1[c] = sum over rows of (a[r, c] - sa[c]) and s2[c] = sum of (a[r, c] - sa[c]) * (b[r, c] - sb[c]), for
   * a and b [rows, cols] and sa, sb [cols] (cols a multiple of 4, rows > 0), accumulated in float64.
   */
  pairSums(
    a: TensorInfo,
    b: TensorInfo,
    sa: TensorInfo,
    sb: TensorInfo,
    rows: number,
    cols: number,
  ): [Float64Array, Float64Array]
  /** dx[r, c] = dy[r, c] * a[c] + x[r, c] * k[c] + b[c] for dy, x [rows, cols] (cols a multiple of 4). */
  affinePairColumns(
    dy: TensorInfo,
    x: TensorInfo,
    coefficients: { a: TensorInfo; k: TensorInfo; b: TensorInfo },
    dx: TensorInfo,
    rows: number,
    cols: number,
  ): void
  /** y[r, c] = x[r, c] + b[c] for x [rows, cols] (cols a multiple of 4). */
  addColumns(x: TensorInfo, b: TensorInfo, y: TensorInfo, rows: number, cols: number): void
  /** dx = k * x * dy, element by element. */
  scaledProduct(dy: TensorInfo, x: TensorInfo, dx: TensorInfo, k: number): void
  /**
   * Conv2DBackpropFilter straight from x [b,h,w,ci] and dy [b,oh,ow,co] (NHWC, any stride, dilation and
   * padding; ci a multiple of 4, co a multiple of 8) into dw [kh,kw,ci,co], which it zeroes first: no im2col
   * matrix and no packing of dy (XNNPACK packs its right operand on every call: ~4 ns per float).
   */
  filterGrad(x: TensorInfo, dy: TensorInfo, dw: TensorInfo, info: tf.backend_util.Conv2DInfo): void
  /**
   * One Adam step of a variable w0 with gradient g and moments m0, v0 into m1, v1, w1 (all float32 of one
   * size): the moments as tfjs computes them, the weight within a few float32 roundings of tfjs's update.
   */
  adamStep(
    tensors: {
      g: TensorInfo
      m0: TensorInfo
      v0: TensorInfo
      w0: TensorInfo
      m1: TensorInfo
      v1: TensorInfo
      w1: TensorInfo
    },
    k: AdamConstants,
  ): void
  /**
   * c[t] = A[t] b[t] for each of `batches` matrices: b [batches, k, n] and c [batches, m, n] row-major; a is
   * [batches, m, k], or [batches, k, m] read transposed when `transposeA` (no Transpose: the kernel packs A and
   * b into scratch in the order it reads them). m a multiple of 4, n a multiple of 8, k > 0.
   */
  matMul(
    a: TensorInfo,
    b: TensorInfo,
    c: TensorInfo,
    dims: { batches: number; m: number; n: number; k: number; transposeA: boolean },
  ): void
}

/** The slice of the WebAssembly JS API used here (the node tsconfig has no DOM typings for it). */
interface WebAssemblyApi {
  validate(bytes: Uint8Array): boolean
  Memory: abstract new (...args: never[]) => object
  Module: new (bytes: Uint8Array) => object
  Instance: new (module: object, imports: object) => { exports: unknown }
}
const WA = (globalThis as unknown as { WebAssembly: WebAssemblyApi }).WebAssembly

interface WasmModuleHolder {
  wasm?: { asm?: { memory?: unknown } }
}

const cache = new WeakMap<object, SimdKernels | null>()

/** The SIMD kernels bound to `backend`'s memory, or null where they cannot load (callers keep their own path). */
export function simdKernels(backend: WasmBackend): SimdKernels | null {
  const cached = cache.get(backend)
  if (cached !== undefined) return cached
  const kernels = instantiate(backend)
  cache.set(backend, kernels)
  return kernels
}

const RELAXED_BYTES = (): Uint8Array => Buffer.from(KERNELS_RELAXED_WASM_BASE64, 'base64')
let relaxedChecked: boolean | undefined

/** Whether this runtime runs relaxed SIMD (it validates the relaxed build) and NAS_RELAXED_SIMD is not 'off'. */
export function relaxedSimdAvailable(): boolean {
  if (process.env.NAS_RELAXED_SIMD === 'off') return false
  relaxedChecked ??= (() => {
    try {
      return WA.validate(RELAXED_BYTES())
    } catch {
      return false
    }
  })()
  return relaxedChecked
}

function instantiate(backend: WasmBackend): SimdKernels | null {
  const memory = (backend as unknown as WasmModuleHolder).wasm?.asm?.memory
  if (!(memory instanceof WA.Memory)) return null
  const variant = relaxedSimdAvailable() ? 'relaxed' : 'plain'
  let ex: KernelExports
  try {
    const bytes = variant === 'relaxed' ? RELAXED_BYTES() : Buffer.from(KERNELS_WASM_BASE64, 'base64')
    const module = new WA.Module(bytes)
    ex = new WA.Instance(module, { env: { memory } }).exports as unknown as KernelExports
  } catch {
    return null
  }
  // byte address of a tensor's data in the shared memory (recomputed per call: allocations may move nothing,
  // but growing the memory replaces the ArrayBuffer behind every view)
  const at = (t: TensorInfo): number => backend.typedArrayFromHeap(t).byteOffset
  return {
    variant,
    maxPoolGrad2x2(x, dy, dx) {
      const [b, h, , c] = x.shape as [number, number, number, number]
      const [, , ow] = dy.shape as [number, number, number, number]
      ex.maxPoolGrad2x2(at(x), at(dy), at(dx), (b * h) / 2, ow, c)
    },
    reluGrad(dy, x, dx) {
      ex.reluGrad(at(dy), at(x), at(dx), backend.typedArrayFromHeap(dx).length)
    },
    sumColumns(x, out, rows, cols, scale) {
      // float64 scratch: 2 * cols float32 slots = cols float64
      const acc = backend.makeOutput([2 * cols], 'float32')
      try {
        ex.sumColumns(at(x), at(out), at(acc), rows, cols, scale)
      } finally {
        backend.disposeData(acc.dataId)
      }
    },
    affineColumns(x, a, b, y, rows, cols) {
      ex.affineColumns(at(x), at(a), at(b), at(y), rows, cols)
    },
    pairSums(a, b, sa, sb, rows, cols) {
      const acc = backend.makeOutput([4 * cols], 'float32')
      try {
        ex.pairSumsColumns(at(a), at(b), at(sa), at(sb), at(acc), rows, cols)
        const sums = Float64Array.from(
          new Float64Array(backend.typedArrayFromHeap(acc).buffer, at(acc), 2 * cols),
        )
        return [sums.subarray(0, cols), sums.subarray(cols)]
      } finally {
        backend.disposeData(acc.dataId)
      }
    },
    affinePairColumns(dy, x, { a, k, b }, dx, rows, cols) {
      ex.affinePairColumns(at(dy), at(x), at(a), at(k), at(b), at(dx), rows, cols)
    },
    addColumns(x, b, y, rows, cols) {
      ex.addColumns(at(x), at(b), at(y), rows, cols)
    },
    scaledProduct(dy, x, dx, k) {
      ex.scaledProduct(at(dy), at(x), at(dx), backend.typedArrayFromHeap(dx).length, k)
    },
    adamStep({ g, m0, v0, w0, m1, v1, w1 }, k) {
      const n = backend.typedArrayFromHeap(g).length
      const ptrs = [g, m0, v0, w0, m1, v1, w1].map(at)
      ex.adamStep(
        ...ptrs,
        n,
        k.beta1,
        k.beta2,
        1 - k.beta1,
        1 - k.beta2,
        k.c1,
        k.c2,
        k.learningRate,
        k.epsilon,
      )
    },
    matMul(a, b, c, { batches, m, n, k, transposeA }) {
      // packed copies of A and of one strip of b
      const scratch = backend.makeOutput([(m + 8) * k], 'float32')
      try {
        const aa = at(a)
        const ba = at(b)
        const ca = at(c)
        const sa = at(scratch)
        // byte strides of A's element (i, p): down a row of op(A) and along it
        const sam = transposeA ? 4 : k * 4
        const sak = transposeA ? m * 4 : 4
        for (let t = 0; t < batches; t++)
          ex.gemm(aa + t * m * k * 4, ba + t * k * n * 4, ca + t * m * n * 4, m, n, k, sam, sak, sa)
      } finally {
        backend.disposeData(scratch.dataId)
      }
    },
    filterGrad(x, dy, dw, info) {
      const { batchSize: b, inHeight: h, inWidth: w, inChannels: ci, outChannels: co } = info
      const { outHeight: oh, outWidth: ow, strideHeight: sh, strideWidth: sw } = info
      const { dilationHeight: dh, dilationWidth: dwl, filterHeight: kh, filterWidth: kw } = info
      const { top, left } = info.padInfo
      backend.typedArrayFromHeap(dw).fill(0)
      const xa = at(x)
      const dya = at(dy)
      const dwa = at(dw)
      const pixel = ci * 4
      const xStep = sw * pixel
      // per filter column: the output columns whose tap lands inside the input
      const inside = Array.from({ length: kw }, (_, j) => columnsInside(j * dwl - left, sw, w, ow))
      for (let bi = 0; bi < b; bi++) {
        for (let r = 0; r < oh; r++) {
          const dyRow = dya + (bi * oh + r) * ow * co * 4
          for (let i = 0; i < kh; i++) {
            const xr = r * sh + i * dh - top
            if (xr < 0 || xr >= h) continue
            const xRow = xa + (bi * h + xr) * w * pixel
            for (let j = 0; j < kw; j++) {
              const [first, end] = inside[j]!
              const count = end - first
              if (count <= 0) continue
              ex.filterGradTap(
                xRow + (first * sw + j * dwl - left) * pixel,
                dyRow + first * co * 4,
                dwa + (i * kw + j) * ci * co * 4,
                count,
                xStep,
                ci,
                co,
              )
            }
          }
        }
      }
    },
  }
}
