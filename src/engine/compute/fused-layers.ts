import * as tf from '@tensorflow/tfjs'
import type { Tensor } from '@tensorflow/tfjs'
import { simdKernels } from './simd'
import type { WasmBackend } from './wasm-ops'

/**
 * What the fused Dense and Conv2D layer calls share: finding a tfjs-layers class to route, deciding whether a
 * call can take our kernels, splitting the layer's activation into the ReLU a kernel fuses and what runs after
 * it, and ReLU's gradient mask.
 */

/** The prototype of tfjs-layers' registered class `name` (found without creating a layer, whose name would take a number). */
export function layerPrototype<T>(name: string): T {
  const entry = tf.serialization.SerializationMap.getMap().classNameMap[name]
  if (entry === undefined) throw new Error(`tfjs-layers has no layer class ${name}`)
  return entry[0].prototype as T
}

/**
 * The single input of a layer call that our fused kernels may take: one tensor, a layer with weights and a
 * bias, on wasm with our SIMD kernels loaded; else null (the layer's own call runs).
 */
export function singleWasmInput(
  layer: { kernel: unknown; bias: unknown },
  inputs: Tensor | Tensor[],
): Tensor | null {
  const x = Array.isArray(inputs) ? (inputs.length === 1 ? inputs[0]! : null) : inputs
  if (x === null || layer.kernel === null || layer.bias === null || tf.getBackend() !== 'wasm') return null
  return simdKernels(tf.backend() as unknown as WasmBackend) === null ? null : x
}

/**
 * A layer's activation split for a fused kernel: `relu` when the kernel applies it in its output pass, and
 * `after` for the rest (nothing for ReLU and linear; any other activation is applied after the kernel, as
 * tfjs-layers applies it).
 */
export function splitActivation(activation: { getClassName(): string; apply(x: Tensor): Tensor } | null): {
  relu: boolean
  after: (out: Tensor) => Tensor
} {
  const name = activation?.getClassName() ?? 'linear'
  const relu = name === 'relu'
  return { relu, after: (out) => (relu || name === 'linear' ? out : activation!.apply(out)) }
}

/** dy where a ReLU's output y is positive, else 0 (y > 0 exactly where its input is): one SIMD pass on wasm. */
export function reluMask(dy: Tensor, y: Tensor): Tensor {
  const wasm = tf.backend() as unknown as WasmBackend
  const out = wasm.makeOutput(y.shape, 'float32')
  simdKernels(wasm)!.reluGrad(dy, y, out)
  return tf.engine().makeTensorFromTensorInfo(out)
}
