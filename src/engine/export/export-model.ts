import { mkdir, stat, writeFile } from 'node:fs/promises'
import path from 'node:path'
import type { Architecture } from '../../shared'
import { NasError } from '../../shared'
import type { tf } from '../compute/backend'
import { archToOnnx, ONNX_OPSET } from './onnx'
import type { Preprocessing } from './preprocessing'
import { networkInputShape } from '../space/shapes'
import { buildPortableModel } from './portable'
import { maxAbsDiff, openOnnx, predictTf, VERIFY_SAMPLES, VERIFY_TOLERANCE } from './runtime'
import { fileSaveHandler, loadModelDir, MODEL_JSON, readLayerWeights, WEIGHTS_BIN } from './tfjs-files'

/** Formats a trained model can be written in (the report is written by report.ts). */
export type ModelFormat = 'tfjs' | 'onnx'

/** File names inside an export folder. */
export const ONNX_FILE = 'model.onnx'
export const PREPROCESSING_FILE = 'preprocessing.json'
export type { Preprocessing } from './preprocessing'

/** Outcome of writing and verifying one export. */
export interface ModelExportResult {
  files: string[]
  verified: boolean
  /** Largest |p_export - p_app| over the compared samples' class probabilities. */
  maxAbsDiff: number
  samples: number
  tolerance: number
}

/** Input of exportModel: the in-app (trained) model, its architecture, and validation samples to compare on. */
export interface ModelExportInput {
  format: ModelFormat
  model: tf.LayersModel
  arch: Architecture
  inputShape: number[]
  outDir: string
  /** Validation samples, row-major; the first VERIFY_SAMPLES (or fewer) are compared. */
  samples: { x: Float32Array; count: number }
  preprocessing: Preprocessing
  appVersion: string
}

/**
 * Writes the model as TF.js (standard layers, see portable.ts) or ONNX into `outDir` with preprocessing.json,
 * then reloads the written files in their runtime (tf.loadLayersModel through a file handler; onnxruntime-node)
 * and compares class probabilities with the in-app model on up to 100 validation samples: verified when the
 * largest absolute difference is below 1e-4. Every tensor it creates is disposed; `model` stays the caller's.
 */
export async function exportModel(input: ModelExportInput): Promise<ModelExportResult> {
  const { model, arch, outDir } = input
  // a network on a pretrained backbone takes the backbone's input (the samples must already be in it)
  const inputShape = networkInputShape(arch, input.inputShape)
  await mkdir(outDir, { recursive: true })
  const weights = readLayerWeights(model)
  const count = Math.min(VERIFY_SAMPLES, input.samples.count)
  if (count === 0)
    throw new NasError('training_failed', 'There are no validation samples to verify the export on')
  const expected = predictTf(model, input.samples.x, count, inputShape)
  let actual: Float32Array
  let files: string[]
  if (input.format === 'tfjs') {
    const portable = buildPortableModel(arch, inputShape, weights)
    try {
      await portable.save(fileSaveHandler(outDir))
    } finally {
      portable.dispose()
    }
    const reloaded = await loadModelDir(outDir)
    try {
      actual = predictTf(reloaded, input.samples.x, count, inputShape)
    } finally {
      reloaded.dispose()
    }
    files = [MODEL_JSON, WEIGHTS_BIN]
  } else {
    const bytes = archToOnnx(arch, inputShape, weights, {
      producerVersion: input.appVersion,
      docString: `NAS Studio trial ${input.preprocessing.trialId}`,
      metadata: {
        class_names: JSON.stringify(input.preprocessing.classNames),
        input_layout: input.preprocessing.layout,
        normalisation: input.preprocessing.normalisation,
      },
    })
    const file = path.join(outDir, ONNX_FILE)
    await writeFile(file, bytes)
    const session = await openOnnx(file)
    try {
      actual = await session.predict(input.samples.x, count, inputShape)
    } finally {
      await session.close()
    }
    files = [ONNX_FILE]
  }
  const pre: Preprocessing = {
    ...input.preprocessing,
    format: input.format,
    ...(input.format === 'onnx' ? { onnxOpset: ONNX_OPSET } : {}),
  }
  await writeFile(path.join(outDir, PREPROCESSING_FILE), `${JSON.stringify(pre, null, 2)}\n`)
  files.push(PREPROCESSING_FILE)
  const diff = maxAbsDiff(expected, actual)
  return {
    files: files.map((f) => path.join(outDir, f)),
    verified: diff < VERIFY_TOLERANCE,
    maxAbsDiff: diff,
    samples: count,
    tolerance: VERIFY_TOLERANCE,
  }
}

/** Total size in bytes of `files` (missing files count 0). */
export async function filesSize(files: string[]): Promise<number> {
  let total = 0
  for (const f of files)
    total += await stat(f).then(
      (s) => s.size,
      () => 0,
    )
  return total
}
