import { rename, rm } from 'node:fs/promises'
import type { Architecture } from '../../shared'
import type { tf } from '../compute/backend'
import { buildModel } from '../evaluate/build-model'
import '../evaluate/custom-layers'
import type { LayerWeights } from './onnx'
import { fileSaveHandler, loadModelDir, writeLayerWeights } from './tfjs-files'

/**
 * A completed trial's trained network on disk, <dataDir>/models/<trialId>/ in TF.js layers format (model.json +
 * weights.bin, our custom layers included). It is what every export starts from, so a model trained again
 * later (final training) is exported the same way by saving it here under its own id.
 */

/**
 * Copies the current weights of `model` (a snapshot that survives the model's disposal). Every read starts
 * before this returns, so the values are this moment's even though they arrive later: a GPU backend (webgpu)
 * can only read asynchronously, and training goes on meanwhile.
 */
export function snapshotWeights(model: tf.LayersModel): Promise<LayerWeights> {
  const out: LayerWeights = new Map()
  const reads: Array<Promise<void>> = []
  for (const layer of model.layers) {
    const entry: LayerWeights extends Map<string, infer V> ? V : never = {}
    for (const w of layer.weights) {
      const key = w.originalName.slice(w.originalName.lastIndexOf('/') + 1)
      const shape = [...w.shape] as number[]
      reads.push(
        w
          .read()
          .data()
          .then((d) => void (entry[key] = { shape, data: Float32Array.from(d as Float32Array) })),
      )
    }
    if (layer.weights.length > 0) out.set(layer.name, entry)
  }
  return Promise.all(reads).then(() => out)
}

/**
 * Rebuilds `arch` for `inputShape`, sets `weights` and writes it to `dir` (atomically: a temporary folder
 * renamed into place). Every tensor is disposed.
 */
export async function saveTrainedModel(
  arch: Architecture,
  inputShape: number[],
  weights: LayerWeights,
  dir: string,
): Promise<void> {
  const model = buildModel(arch, inputShape, 0)
  const tmp = `${dir}.tmp-${process.pid}-${Date.now()}`
  try {
    writeLayerWeights(model, weights)
    await model.save(fileSaveHandler(tmp))
    await rm(dir, { recursive: true, force: true })
    await rename(tmp, dir)
  } finally {
    model.dispose()
    await rm(tmp, { recursive: true, force: true })
  }
}

/** Loads a trial's trained model written by saveTrainedModel (the caller disposes it). */
export function loadTrainedModel(dir: string): Promise<tf.LayersModel> {
  return loadModelDir(dir)
}
