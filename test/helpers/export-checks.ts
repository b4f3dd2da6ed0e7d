import path from 'node:path'
import { expect } from 'vitest'
import type { tf } from '../../src/engine/compute/backend'
import type { LoadedData } from '../../src/engine/data/loaded-data'
import { observeBuiltModels } from '../../src/engine/evaluate/build-model'
import { trainArchitecture } from '../../src/engine/evaluate/train'
import { exportModel, type Preprocessing } from '../../src/engine/export/export-model'
import type { LayerWeights } from '../../src/engine/export/onnx'
import { snapshotWeights } from '../../src/engine/export/trained-model'
import type { Architecture, TrainSettings } from '../../src/shared'

/** A preprocessing record for tests that only need the export to run: `shape` input, these classes. */
export function testPreprocessing(shape: number[], classNames: string[]): Preprocessing {
  return {
    schema: 'nas-studio-preprocessing/2',
    format: 'onnx',
    inputName: 'input',
    inputShape: shape,
    layout: shape.length === 3 ? 'NHWC' : 'features',
    dtype: 'float32',
    normalisation: 'test data',
    classNames,
    output: 'probabilities',
    model: { kind: 'search candidate', trial: 1, testAccuracy: null },
    datasetName: 'tiny',
    datasetHash: 'x',
    trialId: 't',
    appVersion: 'test',
  }
}

/**
 * Exports `model` to TF.js and ONNX under `outRoot` (export-tfjs, export-onnx) and expects both reloaded exports
 * to predict the validation samples of `data` within 1e-4 of the model (verified).
 */
export async function expectBothExportsVerified(
  model: tf.LayersModel,
  arch: Architecture,
  data: LoadedData,
  outRoot: string,
  preprocessing: Preprocessing = testPreprocessing(data.inputShape, data.classNames),
): Promise<void> {
  for (const format of ['tfjs', 'onnx'] as const) {
    const r = await exportModel({
      format,
      model,
      arch,
      inputShape: data.inputShape,
      outDir: path.join(outRoot, `export-${format}`),
      samples: { x: data.validation.x, count: data.validation.count },
      preprocessing,
      appVersion: 'test',
    })
    expect(r.verified, format).toBe(true)
    expect(r.maxAbsDiff, format).toBeLessThan(1e-4)
  }
}

/** Trains `arch` on `data` for the epochs of `settings` like a trial worker; the weights it would save. */
export async function trainOnce(
  arch: Architecture,
  data: LoadedData,
  settings: TrainSettings,
): Promise<LayerWeights> {
  let model: tf.LayersModel | null = null
  let weights: Promise<LayerWeights> | null = null
  const stop = observeBuiltModels((m) => (model = m))
  try {
    await trainArchitecture(arch, data, settings, {
      seed: 1,
      onEpoch: () => {
        weights = snapshotWeights(model!)
      },
    })
  } finally {
    stop()
  }
  return await weights!
}
