import { expect } from 'vitest'
import { tf } from '../../../src/engine/compute/backend'

/** Helpers of the wasm-kernel tests: the same computation on wasm and on the cpu backend, compared. */

/** Deterministic pseudo-random values in [-1, 1) (no tf randomness, so both backends see the same data). */
export { randomValues as values } from '../../helpers/random-values'

export const size = (shape: number[]): number => shape.reduce((a, b) => a * b, 1)

/** Runs `fn` on `backend` and returns every output as a plain array; no tensor survives. */
export async function on(backend: string, fn: () => tf.Tensor | tf.Tensor[]): Promise<Float32Array[]> {
  await tf.setBackend(backend)
  const before = tf.memory().numTensors
  const out = tf.tidy(fn)
  const list = Array.isArray(out) ? out : [out]
  const arrays = list.map((t) => Float32Array.from(t.dataSync() as ArrayLike<number>))
  const shapes = list.map((t) => t.shape.join('x'))
  tf.dispose(list)
  expect(tf.memory().numTensors).toBe(before)
  return arrays.map((a, i) => Object.assign(a, { shape: shapes[i] }))
}

export function relError(got: Float32Array, want: Float32Array): number {
  expect(got.length).toBe(want.length)
  let diff = 0
  let scale = 0
  for (let i = 0; i < want.length; i++) {
    diff = Math.max(diff, Math.abs(got[i]! - want[i]!))
    scale = Math.max(scale, Math.abs(want[i]!))
  }
  return diff / Math.max(scale, 1e-12)
}

/** Same computation on wasm and on cpu: every output within 1e-4 relative error, and same shapes. */
export async function expectSame(fn: () => tf.Tensor | tf.Tensor[]): Promise<void> {
  const wasm = await on('wasm', fn)
  const cpu = await on('cpu', fn)
  expect(wasm.map((a) => (a as unknown as { shape: string }).shape)).toEqual(
    cpu.map((a) => (a as unknown as { shape: string }).shape),
  )
  for (let i = 0; i < cpu.length; i++) expect(relError(wasm[i]!, cpu[i]!)).toBeLessThan(1e-4)
  await tf.setBackend('wasm')
}
