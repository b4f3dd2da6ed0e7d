import * as tf from '@tensorflow/tfjs'
import type { KernelFunc, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs'

/**
 * Shared plumbing of the wasm training kernels: the slice of the wasm backend they use, wasm's ORIGINAL kernels
 * (captured before we override any, so an override can call the kernel it replaces), and a scope that disposes
 * intermediates. Kernels here receive and return TensorInfo (backend-level data), never tf.Tensor.
 */

/** What the training kernels need of tfjs-backend-wasm's BackendWasm. */
export interface WasmBackend {
  makeOutput(shape: number[], dtype: tf.DataType): TensorInfo
  typedArrayFromHeap(info: TensorInfo): tf.backend_util.TypedArray
  disposeData(dataId: object, force?: boolean): boolean
  /** How many tensors share the data of `dataId` (1: only one tensor reads it, so it may be written in place). */
  refCount(dataId: object): number
}

/** Arguments every kernel function receives. */
export type KernelArgs = Parameters<KernelFunc>[0]

const originals = new Map<string, KernelFunc>()

/** Records wasm's own kernel functions; call once, before any wasm kernel is overridden. */
export function captureWasmKernels(): void {
  if (originals.size > 0) return
  for (const k of tf.getKernelsForBackend('wasm')) originals.set(k.kernelName, k.kernelFunc)
}

/** True when wasm itself (not us) provides kernel `name`. */
export function wasmHas(name: string): boolean {
  return originals.has(name)
}

/** Runs wasm's own kernel `name` (never one of our overrides) and returns its single output. */
export function callWasm(
  name: string,
  backend: WasmBackend,
  inputs: Record<string, TensorInfo>,
  attrs: object = {},
): TensorInfo {
  const kernel = originals.get(name)
  if (kernel === undefined) throw new Error(`wasm has no kernel ${name}`)
  return kernel({ inputs, backend: backend as never, attrs: attrs as NamedAttrMap }) as TensorInfo
}

/** The same data seen with another shape of equal size (no copy, no new reference: never dispose a view). */
export function view(t: TensorInfo, shape: number[]): TensorInfo {
  return { dataId: t.dataId, shape, dtype: t.dtype }
}

/** Collects intermediates of one kernel call and frees them all, except the result, at the end. */
export class Scope {
  private readonly made: TensorInfo[] = []
  constructor(readonly backend: WasmBackend) {}

  /** Runs wasm's kernel `name`; its output is freed by dispose() unless it is the value kept. */
  run(name: string, inputs: Record<string, TensorInfo>, attrs: object = {}): TensorInfo {
    const out = callWasm(name, this.backend, inputs, attrs)
    this.made.push(out)
    return out
  }

  /** Tracks a tensor made elsewhere (e.g. makeOutput) for disposal. */
  track(t: TensorInfo): TensorInfo {
    this.made.push(t)
    return t
  }

  /** Frees every tracked tensor except `keep` (the kernel's result). */
  dispose(keep?: TensorInfo): void {
    for (const t of this.made) if (t.dataId !== keep?.dataId) this.backend.disposeData(t.dataId)
    this.made.length = 0
  }
}

/**
 * Runs `body` in a Scope and returns its result; every other intermediate is freed, also on error. A body may
 * return null to say "this case is not handled here" (the caller then falls back).
 */
export function scoped<T extends TensorInfo | null>(backend: WasmBackend, body: (s: Scope) => T): T {
  const s = new Scope(backend)
  let result: T | undefined
  try {
    result = body(s)
    return result
  } finally {
    s.dispose(result ?? undefined)
  }
}

/** A [number, number] pair from a number or a pair (strides, dilations, filter sizes). */
export function pair(v: number | number[] | undefined, fallback = 1): [number, number] {
  if (v === undefined || v === null) return [fallback, fallback]
  return typeof v === 'number' ? [v, v] : [v[0] ?? fallback, v[1] ?? v[0] ?? fallback]
}

/** Attributes shared by conv and pool kernels, as tfjs passes them. */
export interface ConvAttrs {
  strides: number | [number, number]
  dilations?: number | [number, number]
  pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding
  dataFormat?: 'NHWC' | 'NCHW'
  dimRoundingMode?: 'floor' | 'round' | 'ceil'
}

/**
 * The output columns [first, end) of a strided window whose input column, col * stride + shift, lies inside
 * [0, size): the columns a filter tap at offset `shift` reads (end <= first when it reads none).
 */
export function columnsInside(
  shift: number,
  stride: number,
  size: number,
  outSize: number,
): [number, number] {
  return [
    Math.max(0, Math.ceil(-shift / stride)),
    Math.min(outSize, Math.floor((size - 1 - shift) / stride) + 1),
  ]
}

/** Explicit 4-D padding [[0,0],[top,bottom],[left,right],[0,0]] for wasm's Conv2D / DepthwiseConv2dNative. */
export function explicitPad(top: number, bottom: number, left: number, right: number): number[][] {
  return [
    [0, 0],
    [top, bottom],
    [left, right],
    [0, 0],
  ]
}
