import { beforeAll, describe, expect, it } from 'vitest'
import { adam } from '../../../src/engine/compute/adam'
import { initCompute, tf } from '../../../src/engine/compute/backend'
import { randomValues as values } from '../../helpers/random-values'

/**
 * The single-pass Adam of the wasm backend against tf.train.adam: same variables after several steps
 * (relative error < 1e-5), same optimizer state, no tensor left behind by a step.
 */

/** Trains two variables for `steps` steps on a fixed loss; returns their values and the optimizer's weights. */
async function run(backend: string, fast: boolean, steps: number, lr: number): Promise<Float32Array[]> {
  await tf.setBackend(backend)
  const w = tf.variable(tf.tensor2d(values(12, 1), [3, 4]))
  const b = tf.variable(tf.tensor1d(values(4, 2)))
  const x = tf.tensor2d(values(15, 3), [5, 3])
  const target = tf.tensor2d(values(20, 4), [5, 4])
  const opt = fast ? adam(lr) : tf.train.adam(lr)
  let afterFirst = 0
  for (let i = 0; i < steps; i++) {
    // a gradient with entries of both signs, some zero (relu), varying per step
    opt.minimize(
      () => tf.sum(tf.square(tf.sub(tf.relu(tf.add(tf.matMul(x, w), b)), tf.mul(target, i + 1)))),
      false,
      [w, b],
    )
    // moments are created on the first step; after that a step leaves no tensor behind
    if (i === 0) afterFirst = tf.memory().numTensors
    else expect(tf.memory().numTensors).toBe(afterFirst)
  }
  const state = await opt.getWeights()
  const out = [w, b, ...state.map((s) => s.tensor)].map((t) => Float32Array.from(t.dataSync()))
  tf.dispose([w, b, x, target])
  tf.dispose(state.map((s) => s.tensor))
  opt.dispose()
  return out
}

function relError(got: Float32Array, want: Float32Array): number {
  let diff = 0
  let scale = 0
  for (let i = 0; i < want.length; i++) {
    diff = Math.max(diff, Math.abs(got[i]! - want[i]!))
    scale = Math.max(scale, Math.abs(want[i]!))
  }
  return diff / Math.max(scale, 1e-12)
}

describe('single-pass Adam', () => {
  beforeAll(async () => {
    delete process.env.NAS_BACKEND
    expect((await initCompute()).name).toBe('wasm')
  })

  it.each([
    [1, 0.001],
    [7, 0.01],
    [20, 0.1],
  ])('equals tf.train.adam on wasm after %i steps (lr %f), state included', async (steps, lr) => {
    const fast = await run('wasm', true, steps, lr)
    const reference = await run('wasm', false, steps, lr)
    expect(fast.length).toBe(reference.length)
    for (let i = 0; i < reference.length; i++) expect(relError(fast[i]!, reference[i]!)).toBeLessThan(1e-5)
    const cpu = await run('cpu', false, steps, lr)
    for (let i = 0; i < cpu.length; i++) expect(relError(fast[i]!, cpu[i]!)).toBeLessThan(1e-5)
    await tf.setBackend('wasm')
  })

  it('updates the moments in place on wasm and the weight into new data (XNNPACK caches packed weights by data)', async () => {
    await tf.setBackend('wasm')
    const w = tf.variable(tf.tensor2d(values(12, 5), [3, 4]))
    const x = tf.tensor2d(values(15, 6), [5, 3])
    const opt = adam(0.01)
    const step = (): void => void opt.minimize(() => tf.sum(tf.square(tf.matMul(x, w))), false, [w])
    const state = opt as unknown as { accumulatedFirstMoment: Array<{ variable: tf.Variable }> }
    step()
    const moment = state.accumulatedFirstMoment[0]!.variable.dataId
    const weight = w.dataId
    step()
    expect(state.accumulatedFirstMoment[0]!.variable.dataId).toBe(moment)
    expect(w.dataId).not.toBe(weight)
    tf.dispose([w, x])
    opt.dispose()
  })

  it('uses tfjs own update on other backends', async () => {
    const fast = await run('cpu', true, 5, 0.01)
    const reference = await run('cpu', false, 5, 0.01)
    for (let i = 0; i < reference.length; i++) expect(fast[i]).toEqual(reference[i])
    await tf.setBackend('wasm')
  })
})
