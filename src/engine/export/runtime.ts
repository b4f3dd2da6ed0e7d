import { readFile } from 'node:fs/promises'
import { tf } from '../compute/backend'

/**
 * Running a model on plain float arrays: the in-app TF.js model, a reloaded TF.js export, or an ONNX file in
 * onnxruntime-node (CPU). Inputs are `count` samples of `inputShape`, row-major (NHWC for images).
 */

/** Samples compared after every export, and the largest absolute difference of probabilities accepted. */
export const VERIFY_SAMPLES = 100
export const VERIFY_TOLERANCE = 1e-4

/** Class probabilities [count x classes] of a TF.js model, predicted in batches of 64 (tensors disposed). */
export function predictTf(
  model: tf.LayersModel,
  x: Float32Array,
  count: number,
  inputShape: number[],
): Float32Array {
  const size = inputShape.reduce((a, b) => a * b, 1)
  const parts: Float32Array[] = []
  for (let start = 0; start < count; start += 64) {
    const n = Math.min(64, count - start)
    const y = tf.tidy(() => {
      const batch = tf.tensor(x.subarray(start * size, (start + n) * size), [n, ...inputShape], 'float32')
      return model.predict(batch) as tf.Tensor
    })
    parts.push(Float32Array.from(y.dataSync() as Float32Array))
    y.dispose()
  }
  const out = new Float32Array(parts.reduce((a, p) => a + p.length, 0))
  let at = 0
  for (const p of parts) {
    out.set(p, at)
    at += p.length
  }
  return out
}

/** An ONNX model loaded in onnxruntime-node. */
export interface OnnxModel {
  predict(x: Float32Array, count: number, inputShape: number[]): Promise<Float32Array>
  close(): Promise<void>
}

/** Opens an ONNX file in onnxruntime-node (CPU execution provider, graph optimisations on). */
export async function openOnnx(file: string): Promise<OnnxModel> {
  // loaded on first use: the native runtime is large and most sessions never export
  const ort = await import('onnxruntime-node')
  const session = await ort.InferenceSession.create(await readFile(file), { executionProviders: ['cpu'] })
  return {
    predict: async (x, count, inputShape) => {
      const feeds = {
        [session.inputNames[0]!]: new ort.Tensor(
          'float32',
          x.slice(0, count * inputShape.reduce((a, b) => a * b, 1)),
          [count, ...inputShape],
        ),
      }
      const result = await session.run(feeds)
      const out = result[session.outputNames[0]!]!
      const data = Float32Array.from(out.data as Float32Array)
      out.dispose()
      return data
    },
    close: () => session.release(),
  }
}

/** Largest absolute element-wise difference of two equally long arrays (Infinity when lengths differ or NaN). */
export function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) return Infinity
  let max = 0
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i]! - b[i]!)
    if (!(d <= max)) max = Number.isNaN(d) ? Infinity : d
  }
  return max
}
