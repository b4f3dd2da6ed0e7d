import * as tf from '@tensorflow/tfjs'
import type { TensorInfo } from '@tensorflow/tfjs'
import type { KernelArgs, WasmBackend } from './wasm-ops'
import { callWasm, scoped } from './wasm-ops'
import { simdKernels } from './simd'

/**
 * Overrides of kernels wasm HAS but runs slowly on the shapes training produces. Each returns null for cases it
 * does not improve, and the registry then calls wasm's own kernel.
 */

const swapLast = (t: TensorInfo): number[] => {
  const perm = t.shape.map((_, i) => i)
  perm[perm.length - 1] = perm.length - 2
  perm[perm.length - 2] = perm.length - 1
  return perm
}

/**
 * op(a) op(b) by our SIMD kernel, or null where the shapes do not fit it (rows a multiple of 4, columns of 8,
 * equal batch dimensions). Why: XNNPACK packs its right operand on every call, and in training that operand
 * (a weight, a gradient) is new every step; the kernel reads both in place. A transposed left operand is read
 * as it is, a transposed right one is transposed first.
 */
function simdMatMul(
  wasm: WasmBackend,
  a: TensorInfo,
  b: TensorInfo,
  transposeA: boolean,
  transposeB: boolean,
): TensorInfo | null {
  if (a.dtype !== 'float32' || b.dtype !== 'float32') return null
  const m = a.shape.at(transposeA ? -1 : -2)!
  const k = a.shape.at(transposeA ? -2 : -1)!
  const n = b.shape.at(transposeB ? -2 : -1)!
  const lead = a.shape.slice(0, -2)
  const sameBatches = lead.length === b.shape.length - 2 && lead.every((d, i) => d === b.shape[i])
  const batches = tf.util.sizeFromShape(lead)
  if (!sameBatches || m % 4 !== 0 || n % 8 !== 0 || k === 0 || batches === 0) return null
  const simd = simdKernels(wasm)
  if (simd === null) return null
  return scoped(wasm, (s) => {
    const b2 = transposeB ? s.run('Transpose', { x: b }, { perm: swapLast(b) }) : b
    const out = wasm.makeOutput([...lead, m, n], 'float32')
    simd.matMul(a, b2, out, { batches, m, n, k, transposeA })
    return out
  })
}

/**
 * BatchMatMul, the dense layers' products and both their gradients: our SIMD kernel where the shapes fit it;
 * other shapes with a transpose are transposed explicitly for XNNPACK's fast path (wasm's own kernel takes a
 * scalar path there, ~1-2 GFLOP/s); the rest is wasm's.
 */
export function batchMatMul({ inputs, backend, attrs }: KernelArgs): TensorInfo | null {
  const a = inputs.a as TensorInfo
  const b = inputs.b as TensorInfo
  const { transposeA, transposeB } = attrs as unknown as { transposeA: boolean; transposeB: boolean }
  const wasm = backend as unknown as WasmBackend
  const fast = simdMatMul(wasm, a, b, transposeA, transposeB)
  if (fast !== null) return fast
  if ((!transposeA && !transposeB) || a.dtype !== 'float32' || b.dtype !== 'float32') return null
  return scoped(wasm, (s) => {
    const a2 = transposeA ? s.run('Transpose', { x: a }, { perm: swapLast(a) }) : a
    const b2 = transposeB ? s.run('Transpose', { x: b }, { perm: swapLast(b) }) : b
    return s.run('BatchMatMul', { a: a2, b: b2 }, { transposeA: false, transposeB: false })
  })
}

/**
 * _FusedMatMul (a dense layer's forward: product, bias, ReLU or none) on our SIMD product where the shapes fit
 * it, then the bias in one SIMD pass and wasm's Relu; other activations and shapes go to wasm's own kernel.
 */
export function fusedMatMul({ inputs, backend, attrs }: KernelArgs): TensorInfo | null {
  const { a, b, bias, preluActivationWeights } = inputs as Record<string, TensorInfo | undefined>
  const { transposeA, transposeB, activation } = attrs as unknown as {
    transposeA: boolean
    transposeB: boolean
    activation?: string
  }
  const relu = activation === 'relu'
  if (preluActivationWeights !== undefined || !(relu || activation === 'linear' || activation == null))
    return null
  const n = b!.shape.at(transposeB ? -2 : -1)!
  if (bias !== undefined && (bias.dtype !== 'float32' || tf.util.sizeFromShape(bias.shape) !== n)) return null
  const wasm = backend as unknown as WasmBackend
  const product = simdMatMul(wasm, a!, b!, transposeA, transposeB)
  if (product === null) return null
  return scoped(wasm, (s) => {
    s.track(product)
    // n is a multiple of 8 here, so the bias pass applies; it may write over its input
    if (bias !== undefined)
      simdKernels(wasm)!.addColumns(product, bias, product, tf.util.sizeFromShape(product.shape) / n, n)
    return relu ? s.run('Relu', { x: product }) : product
  })
}

/**
 * Tile as block copies inside wasm memory (each repetition is copied by doubling). wasm's Tile walks every
 * output element and cost ~340 ms per step of the batch-norm net (the batch-norm gradient tiles its scale).
 */
export function tile({ inputs, backend, attrs }: KernelArgs): TensorInfo | null {
  const x = inputs.x as TensorInfo
  const reps = (attrs as unknown as { reps: number[] }).reps
  if (x.dtype === 'string' || x.dtype === 'complex64') return null
  const rank = x.shape.length
  const outShape = x.shape.map((d, i) => d * reps[i]!)
  const wasm = backend as unknown as WasmBackend
  const out = wasm.makeOutput(outShape, x.dtype)
  if (tf.util.sizeFromShape(outShape) === 0) return out
  const src = wasm.typedArrayFromHeap(x)
  const dst = wasm.typedArrayFromHeap(out)
  if (rank === 0) {
    dst.set(src)
    return out
  }
  const dstStride = new Array<number>(rank).fill(1)
  const srcStride = new Array<number>(rank).fill(1)
  for (let i = rank - 2; i >= 0; i--) {
    dstStride[i] = dstStride[i + 1]! * outShape[i + 1]!
    srcStride[i] = srcStride[i + 1]! * x.shape[i + 1]!
  }
  const fill = (dim: number, so: number, doff: number): void => {
    const n = x.shape[dim]!
    if (dim === rank - 1) dst.set(src.subarray(so, so + n), doff)
    else for (let i = 0; i < n; i++) fill(dim + 1, so + i * srcStride[dim]!, doff + i * dstStride[dim]!)
    const block = n * dstStride[dim]!
    const total = block * reps[dim]!
    for (let filled = block; filled < total;) {
      const len = Math.min(filled, total - filled)
      dst.copyWithin(doff + filled, doff, doff + len)
      filled += len
    }
  }
  fill(0, 0, 0)
  return out
}

/**
 * Sum and Mean over LEADING axes (batch norm's reductions over batch, height and width of NHWC): one pass of
 * column sums in float64 over wasm memory. wasm transposes the reduced axes innermost first, 10-15x slower.
 */
function reduceLeading({ inputs, backend, attrs }: KernelArgs, mean: boolean): TensorInfo | null {
  const x = inputs.x as TensorInfo
  const { axis, keepDims } = attrs as unknown as { axis: number | number[]; keepDims: boolean }
  if (x.dtype !== 'float32') return null
  const axes = tf.util.parseAxisParam(axis, x.shape).sort((p, q) => p - q)
  const k = axes.length
  if (k === 0 || k >= x.shape.length || axes.some((v, i) => v !== i)) return null
  const rows = tf.util.sizeFromShape(x.shape.slice(0, k))
  const cols = tf.util.sizeFromShape(x.shape.slice(k))
  const outShape = keepDims ? x.shape.map((d, i) => (i < k ? 1 : d)) : x.shape.slice(k)
  const wasm = backend as unknown as WasmBackend
  const out = wasm.makeOutput(outShape, 'float32')
  // one SIMD pass where the columns come in fours (channel counts); this loop for the rest
  const simd = cols % 4 === 0 && rows > 0 ? simdKernels(wasm) : null
  if (simd !== null) {
    simd.sumColumns(x, out, rows, cols, mean ? 1 / rows : 1)
    return out
  }
  const xv = wasm.typedArrayFromHeap(x) as Float32Array
  const acc = new Float64Array(cols)
  // four rows per pass: a quarter of the accumulator loads and stores
  let r = 0
  for (; r + 4 <= rows; r += 4) {
    const b0 = r * cols
    const b1 = b0 + cols
    const b2 = b1 + cols
    const b3 = b2 + cols
    for (let c = 0; c < cols; c++) acc[c]! += xv[b0 + c]! + xv[b1 + c]! + xv[b2 + c]! + xv[b3 + c]!
  }
  for (; r < rows; r++) {
    const base = r * cols
    for (let c = 0; c < cols; c++) acc[c]! += xv[base + c]!
  }
  if (mean && rows > 0) for (let c = 0; c < cols; c++) acc[c]! /= rows
  ;(wasm.typedArrayFromHeap(out) as Float32Array).set(acc)
  return out
}

/** Sum over leading axes (see reduceLeading). */
export function sumLeading(args: KernelArgs): TensorInfo | null {
  return reduceLeading(args, false)
}

/** Mean over leading axes (see reduceLeading). */
export function meanLeading(args: KernelArgs): TensorInfo | null {
  return reduceLeading(args, true)
}

/**
 * Add of a per-channel bias (one operand [.., c] with at least 4096 elements, the other [c] or [1, .., 1, c],
 * c a multiple of 4): one SIMD pass. A convolution followed by ReLU adds its bias this way in training, and
 * XNNPACK's broadcasting Add took 0.9 ms on [64,28,28,16]. Everything else goes to wasm's Add.
 */
export function addBias({ inputs, backend }: KernelArgs): TensorInfo | null {
  const a = inputs.a as TensorInfo
  const b = inputs.b as TensorInfo
  if (a.dtype !== 'float32' || b.dtype !== 'float32') return null
  const isBias = (big: TensorInfo, bias: TensorInfo): boolean => {
    const c = big.shape.at(-1)
    return (
      c !== undefined &&
      c % 4 === 0 &&
      tf.util.sizeFromShape(big.shape) >= 4096 &&
      bias.shape.at(-1) === c &&
      bias.shape.length <= big.shape.length &&
      tf.util.sizeFromShape(bias.shape) === c
    )
  }
  const [big, bias] = isBias(a, b) ? [a, b] : isBias(b, a) ? [b, a] : [null, null]
  if (big === null || bias === null) return null
  const wasm = backend as unknown as WasmBackend
  const simd = simdKernels(wasm)
  if (simd === null) return null
  const c = big.shape.at(-1)!
  const out = wasm.makeOutput(big.shape, 'float32')
  simd.addColumns(big, bias, out, tf.util.sizeFromShape(big.shape) / c, c)
  return out
}

/** wasm's own kernel, for overrides that decline a case. */
export function wasmFallback(name: string): (args: KernelArgs) => TensorInfo {
  return (args) => callWasm(name, args.backend as unknown as WasmBackend, args.inputs as never, args.attrs)
}

/**
 * Identity shares the input's data (one more reference), as the cpu backend does; wasm's copies it, and
 * training clones often (~115 copies per step of the batch-norm net). Safe because no kernel writes its inputs.
 */
export function identity({ inputs, backend }: KernelArgs): TensorInfo | null {
  const x = inputs.x as TensorInfo
  if (x.dtype === 'string') return null
  ;(backend as unknown as { incRef(dataId: object): void }).incRef(x.dataId)
  return { dataId: x.dataId, shape: x.shape, dtype: x.dtype }
}

/** Cast to the dtype the tensor already has shares its data (wasm copies it): the ReLU gradient casts its float
 * step mask to float32 once per activation. Real conversions go to wasm's own Cast. */
export function castSameType({ inputs, backend, attrs }: KernelArgs): TensorInfo | null {
  const x = inputs.x as TensorInfo
  if ((attrs as { dtype?: string }).dtype !== x.dtype || x.dtype === 'string') return null
  ;(backend as unknown as { incRef(dataId: object): void }).incRef(x.dataId)
  return { dataId: x.dataId, shape: x.shape, dtype: x.dtype }
}

/**
 * FusedBatchNorm (per-channel statistics, NHWC): y = x * a + b with a = scale / sqrt(variance + eps) and
 * b = offset - mean * a folded per channel first, so the full-size work is two broadcast XNNPACK-backed
 * kernels (Multiply, Add); wasm's own kernel runs at roughly half that speed.
 */
export function fusedBatchNorm({ inputs, backend, attrs }: KernelArgs): TensorInfo | null {
  const { x, mean, variance, offset, scale } = inputs as Record<string, TensorInfo | undefined>
  const c = x!.shape.at(-1)!
  const perChannel = (t: TensorInfo | undefined): boolean =>
    t === undefined || (t.shape.length === 1 && t.shape[0] === c && t.dtype === 'float32')
  if (x!.dtype !== 'float32' || ![mean, variance, offset, scale].every(perChannel)) return null
  if (mean === undefined || variance === undefined) return null
  const eps = (attrs as { varianceEpsilon: number }).varianceEpsilon
  const wasm = backend as unknown as WasmBackend
  return scoped(wasm, (s) => {
    const a = s.track(wasm.makeOutput([c], 'float32'))
    const b = s.track(wasm.makeOutput([c], 'float32'))
    const av = wasm.typedArrayFromHeap(a) as Float32Array
    const bv = wasm.typedArrayFromHeap(b) as Float32Array
    const m = wasm.typedArrayFromHeap(mean) as Float32Array
    const v = wasm.typedArrayFromHeap(variance) as Float32Array
    const g = scale === undefined ? null : (wasm.typedArrayFromHeap(scale) as Float32Array)
    const o = offset === undefined ? null : (wasm.typedArrayFromHeap(offset) as Float32Array)
    for (let i = 0; i < c; i++) {
      av[i] = (g === null ? 1 : g[i]!) / Math.sqrt(v[i]! + eps)
      bv[i] = (o === null ? 0 : o[i]!) - m[i]! * av[i]!
    }
    const simd = c % 4 === 0 ? simdKernels(wasm) : null
    if (simd !== null) {
      // one SIMD pass instead of a Multiply and an Add over the full tensor
      const y = wasm.makeOutput(x!.shape, 'float32')
      simd.affineColumns(x!, a, b, y, tf.util.sizeFromShape(x!.shape) / c, c)
      return y
    }
    const scaled = s.run('Multiply', { a: x!, b: a })
    return s.run('Add', { a: scaled, b })
  })
}
