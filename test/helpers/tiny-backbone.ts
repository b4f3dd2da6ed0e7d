import { createHash } from 'node:crypto'
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { initHostCompute, tf } from '../../src/engine/compute/backend'

/** Layers of the tiny backbone that all of its input flows through (the cut points an inspection must find). */
export const TINY_CUT_POINTS = [
  { layer: 'stem', outputShape: [8, 8, 4] },
  { layer: 'pool', outputShape: [4, 4, 4] },
  { layer: 'block_in', outputShape: [4, 4, 8] },
  { layer: 'block_add', outputShape: [4, 4, 8] },
  { layer: 'features', outputShape: [8] },
]

/** A written model: its files (name -> bytes) and their SHA-256. */
export interface TinyBackboneFiles {
  files: Array<{ path: string; bytes: Buffer; sha256: string }>
}

/**
 * Writes a small TF.js Layers model into `dir`: an 8 × 8 × 3 image through a conv stem, a pool, a residual
 * block (whose inner conv a skip connection bypasses), global pooling and a softmax classifier; its weights
 * split over `shards` files, as the TF.js converter does for big models.
 */
export async function writeTinyBackbone(dir: string, shards = 2): Promise<TinyBackboneFiles> {
  await initHostCompute()
  const input = tf.input({ shape: [8, 8, 3], name: 'image' })
  const stem = tf.layers
    .conv2d({ filters: 4, kernelSize: 3, padding: 'same', activation: 'relu', name: 'stem' })
    .apply(input) as tf.SymbolicTensor
  const pool = tf.layers.maxPooling2d({ poolSize: 2, name: 'pool' }).apply(stem) as tf.SymbolicTensor
  const a = tf.layers
    .conv2d({ filters: 8, kernelSize: 1, padding: 'same', activation: 'relu', name: 'block_in' })
    .apply(pool) as tf.SymbolicTensor
  const b = tf.layers
    .conv2d({ filters: 8, kernelSize: 3, padding: 'same', name: 'block_inner' })
    .apply(a) as tf.SymbolicTensor
  const sum = tf.layers.add({ name: 'block_add' }).apply([a, b]) as tf.SymbolicTensor
  const gap = tf.layers.globalAveragePooling2d({ name: 'features' }).apply(sum) as tf.SymbolicTensor
  const out = tf.layers
    .dense({ units: 2, activation: 'softmax', name: 'classes' })
    .apply(gap) as tf.SymbolicTensor
  const model = tf.model({ inputs: input, outputs: out, name: 'tiny_backbone' })
  let artifacts: tf.io.ModelArtifacts | null = null
  await model.save(
    tf.io.withSaveHandler(async (a) => {
      artifacts = a
      return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(a) }
    }),
  )
  model.dispose()
  const saved = artifacts as unknown as tf.io.ModelArtifacts
  const data = Buffer.from(saved.weightData as ArrayBuffer)
  const names = Array.from({ length: shards }, (_, i) => `group1-shard${i + 1}of${shards}.bin`)
  const per = Math.ceil(data.length / shards)
  const shardBytes = names.map((_, i) => data.subarray(i * per, Math.min(data.length, (i + 1) * per)))
  const modelJson = Buffer.from(
    JSON.stringify({
      format: 'layers-model',
      generatedBy: 'NAS Studio tests',
      convertedBy: null,
      modelTopology: saved.modelTopology,
      weightsManifest: [{ paths: names, weights: saved.weightSpecs }],
    }),
  )
  mkdirSync(dir, { recursive: true })
  const files = [
    { path: 'model.json', bytes: modelJson },
    ...names.map((path, i) => ({ path, bytes: shardBytes[i]! })),
  ]
  for (const f of files) writeFileSync(join(dir, f.path), f.bytes)
  return {
    files: files.map((f) => ({ ...f, sha256: createHash('sha256').update(f.bytes).digest('hex') })),
  }
}
