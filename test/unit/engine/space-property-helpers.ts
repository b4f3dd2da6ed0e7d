import { expect } from 'vitest'
import type { Architecture, SearchSpaceDef } from '../../../src/shared'
import { architectureSchema } from '../../../src/shared'
import { initCompute, tf } from '../../../src/engine/compute/backend'
import { buildModel } from '../../../src/engine/evaluate/build-model'
import { Rng } from '../../../src/engine/rng'
import {
  activationMemory,
  archHash,
  countFlops,
  countParams,
  encodeArchitecture,
  encodingLength,
  inferShapes,
  mutateArchitecture,
  sampleArchitecture,
  validateArchitecture,
  validateSpace,
} from '../../../src/engine/space'

/** Samples per space in the property tests (NAS_PROPERTY_SAMPLES overrides; the suite runs 200). */
export const SAMPLES = Number(process.env.NAS_PROPERTY_SAMPLES ?? 200)

/**
 * The property every family must have: `SAMPLES` random architectures validate (schema and graph), build in
 * tf.js with exactly our parameter count, train one step on random data without leaking tensors, and
 * mutate into a valid neighbour whose encoding has the same length. Returns the distinct hashes seen.
 */
export async function checkSpace(
  def: SearchSpaceDef,
  inputShape: number[],
  seed: number,
  numClasses = 3,
): Promise<Set<string>> {
  await initCompute()
  validateSpace(def, inputShape)
  const rng = new Rng(seed)
  const x = tf.randomUniform([2, ...inputShape], 0, 1, 'float32', seed)
  const y = tf.oneHot(tf.tensor1d([0, numClasses - 1], 'int32'), numClasses)
  const hashes = new Set<string>()
  const length = encodingLength(def)
  try {
    for (let i = 0; i < SAMPLES; i++) {
      const arch: Architecture = sampleArchitecture(def, rng, inputShape, numClasses)
      expect(architectureSchema.parse(arch)).toEqual(arch)
      validateArchitecture(arch, inputShape)
      hashes.add(archHash(arch))
      const before = tf.memory().numTensors
      const model = buildModel(arch, inputShape, i)
      const ours = countParams(arch, inputShape)
      expect(ours, `sample ${i}: ${JSON.stringify(arch.genotype ?? arch.nodes)}`).toBe(model.countParams())
      const optimizer = tf.train.sgd(0.01)
      model.compile({ optimizer, loss: 'categoricalCrossentropy' })
      const loss = (await model.trainOnBatch(x, y)) as number
      expect(Number.isFinite(loss), `sample ${i} loss ${loss}`).toBe(true)
      model.dispose()
      optimizer.dispose()
      expect(tf.memory().numTensors, `sample ${i} leaked tensors`).toBe(before)
      expect(countFlops(arch, inputShape)).toBeGreaterThanOrEqual(0)
      expect(activationMemory(arch, inputShape, 2)).toBeGreaterThan(0)
      const code = encodeArchitecture(def, arch)
      expect(code).toHaveLength(length)
      expect(code.every((v) => v >= 0 && v <= 1)).toBe(true)
      const child = mutateArchitecture(def, arch, rng, inputShape, numClasses)
      expect(inferShapes(child, inputShape).size).toBe(child.nodes.length)
      expect(encodeArchitecture(def, child)).toHaveLength(length)
      expect(JSON.stringify(child.genotype ?? child.nodes)).not.toBe(
        JSON.stringify(arch.genotype ?? arch.nodes),
      )
    }
  } finally {
    tf.dispose([x, y])
  }
  return hashes
}

/** The message of the invalid_space NasError that `fn` throws (fails the test when it throws none or another). */
export function invalidSpaceMessage(fn: () => unknown): string {
  try {
    fn()
  } catch (err) {
    expect(err).toMatchObject({ code: 'invalid_space' })
    return (err as Error).message
  }
  throw new Error('expected invalid_space')
}
