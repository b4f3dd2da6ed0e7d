import { existsSync } from 'node:fs'
import { mkdir, writeFile } from 'node:fs/promises'
import path from 'node:path'
import sharp from 'sharp'
import type { Architecture, Dataset, ExportFormat, Run, Trial, TrialEpoch } from '../../shared'
import { NasError } from '../../shared'
import { initHostCompute, tf } from '../compute/backend'
import { loadDataset } from '../data/load'
import type { TrialJob, TrialOutcome, TrialRunner } from '../execution/types'
import type { EpochMetrics } from '../evaluate/train'
import { imagesToBackboneInput } from '../data/backbone-input'
import { backboneInfoOf } from '../space/backbones'
import { countFlops, networkInputShape } from '../space/shapes'
import { exportModel, ONNX_FILE, PREPROCESSING_FILE } from './export-model'
import { preprocessingFor, withBackboneInput } from './preprocessing'
import { exportReadme, README_FILE } from './export-readme'
import { renderReport } from './report'
import { openOnnx, predictTf, VERIFY_TOLERANCE } from './runtime'
import { loadModelDir, MODEL_JSON } from './tfjs-files'
import { loadTrainedModel } from './trained-model'

export { saveTrainedModel, loadTrainedModel } from './trained-model'
export { archToOnnx, ONNX_OPSET } from './onnx'
export { VERIFY_SAMPLES, VERIFY_TOLERANCE } from './runtime'

/** Seed of the train/validation split; the same as the trial workers', so "validation" means the same samples. */
const SPLIT_SEED = 0
/** File name of the report. */
export const REPORT_FILE = 'report.html'

/** Everything exportTrial needs; `modelDir` holds the trial's trained model (trained-model.ts). */
export interface ExportTrialRequest {
  format: ExportFormat
  modelDir: string
  outDir: string
  run: Run
  trial: Trial
  dataset: Dataset
  epochs: TrialEpoch[]
  appName: string
  appVersion: string
  backend?: string
  /** Name of the run's search space, for the report. */
  spaceName?: string
  now?: () => string
}

/** What an export wrote and how it verified (null for the report, which is not a model). */
export interface ExportTrialResult {
  files: string[]
  verified: boolean | null
  maxAbsDiff: number | null
  samples: number
  tolerance: number
}

/**
 * Exports a trial's trained model (loaded from `modelDir`) as TF.js, ONNX or the HTML report into `outDir`,
 * with preprocessing.json (how to feed it, as data) and a README.md with runnable examples. Model formats are
 * verified against the in-app model on up to 100 validation samples (export-model.ts). The report's confusion
 * matrix counts the test split for a final model (it trained on train + validation) and the validation split
 * for a search candidate; never rows the model trained on.
 */
export async function exportTrial(req: ExportTrialRequest): Promise<ExportTrialResult> {
  if (!existsSync(path.join(req.modelDir, MODEL_JSON))) {
    throw new NasError(
      'not_found',
      `Trial ${req.trial.index + 1} has no saved weights (${req.modelDir}); only trials completed since NAS Studio saves models can be exported. Run the search again.`,
      { trialId: req.trial.id },
    )
  }
  await initHostCompute()
  const data = await loadDataset(req.dataset, {
    validationFraction: req.run.config.train.validationFraction,
    seed: SPLIT_SEED,
  })
  const arch = req.trial.architecture
  const inputShape = networkInputShape(arch, data.inputShape)
  // a network on a pretrained backbone takes the data resized, converted and scaled as the backbone wants it
  const backbone = arch.genotype?.family === 'backbone' ? backboneInfoOf(arch.genotype.backbone) : null
  const asInput = (part: { x: Float32Array; count: number }): Float32Array =>
    backbone ? imagesToBackboneInput(part.x, part.count, data.inputShape, backbone) : part.x
  const generic = await preprocessingFor(req.format, req.dataset, req.trial, req.appVersion)
  const preprocessing = backbone ? withBackboneInput(generic, backbone, data.inputShape) : generic
  const writeReadme = async (): Promise<string> => {
    const file = path.join(req.outDir, README_FILE)
    await writeFile(file, exportReadme(preprocessing))
    return file
  }
  const model = await loadTrainedModel(req.modelDir)
  try {
    if (req.format !== 'report') {
      const result = await exportModel({
        format: req.format,
        model,
        arch,
        inputShape,
        outDir: req.outDir,
        samples: { x: asInput(data.validation), count: data.validation.count },
        preprocessing,
        appVersion: req.appVersion,
      })
      return { ...result, files: [...result.files, await writeReadme()] }
    }
    const split = req.trial.isFinal && data.test.count > 0 ? 'test' : 'validation'
    const part = split === 'test' ? data.test : data.validation
    const k = data.numClasses
    const confusion = Array.from({ length: k }, () => new Array<number>(k).fill(0))
    const probs = predictTf(model, asInput(part), part.count, inputShape)
    for (let i = 0; i < part.count; i++) {
      let best = 0
      for (let j = 1; j < k; j++) if (probs[i * k + j]! > probs[i * k + best]!) best = j
      confusion[part.y[i]!]![best]! += 1
    }
    const html = renderReport({
      appName: req.appName,
      appVersion: req.appVersion,
      createdAt: (req.now ?? (() => new Date().toISOString()))(),
      run: req.run,
      trial: req.trial,
      architecture: req.trial.architecture,
      dataset: req.dataset,
      epochs: req.epochs,
      confusion,
      confusionSplit: split,
      flops: countFlops(req.trial.architecture, inputShape),
      backend: req.backend ?? tf.getBackend(),
      preprocessing: preprocessing.normalisation,
      ...(req.spaceName ? { spaceName: req.spaceName } : {}),
    })
    await mkdir(req.outDir, { recursive: true })
    const file = path.join(req.outDir, REPORT_FILE)
    await writeFile(file, html)
    const pre = path.join(req.outDir, PREPROCESSING_FILE)
    await writeFile(pre, `${JSON.stringify(preprocessing, null, 2)}\n`)
    return {
      files: [file, pre, await writeReadme()],
      verified: null,
      maxAbsDiff: null,
      samples: 0,
      tolerance: VERIFY_TOLERANCE,
    }
  } finally {
    model.dispose()
  }
}

/** Which model a prediction runs: the trial's in-app model, or a written TF.js / ONNX export. */
export interface PredictRequest {
  kind: 'app' | 'tfjs' | 'onnx'
  /** The trained-model folder (app) or the export folder (tfjs, onnx). */
  dir: string
  /** The dataset's sample shape: images are decoded to it. */
  inputShape: number[]
  classNames: string[]
  /** The trial's network: one on a pretrained backbone takes the image resized and scaled the backbone's way. */
  architecture?: Architecture
  /** Encoded image bytes (PNG, JPEG, WebP, ...) for image models. */
  image?: Uint8Array
  /** One row of features for table models. */
  row?: number[]
}

/** Class probabilities of one sample, in class order. */
export interface PredictResult {
  probabilities: number[]
  predictedIndex: number
}

/** Decodes an image like the importer does (flatten onto white, resize with fill, sRGB or its red channel) to [0, 1]. */
export async function imageToInput(bytes: Uint8Array, inputShape: number[]): Promise<Float32Array> {
  if (inputShape.length !== 3) {
    throw new NasError(
      'bad_request',
      `This model takes a row of ${inputShape.join('x')} features, not an image`,
    )
  }
  const [h, w, c] = inputShape as [number, number, number]
  let raw: Buffer
  try {
    raw = await sharp(bytes, { limitInputPixels: 64_000_000, animated: false })
      .flatten({ background: '#ffffff' })
      .resize(w, h, { fit: 'fill' })
      .toColourspace('srgb')
      .removeAlpha()
      .raw()
      .toBuffer()
  } catch (err) {
    throw new NasError(
      'bad_request',
      `The image could not be decoded (${(err as Error).message}); use PNG, JPEG, WebP, GIF, TIFF or AVIF`,
    )
  }
  const out = new Float32Array(h * w * c)
  for (let p = 0; p < h * w; p++)
    for (let ch = 0; ch < c; ch++) out[p * c + ch] = raw[p * 3 + (c === 1 ? 0 : ch)]! / 255
  return out
}

/** Predicts one image or table row with the chosen model (see PredictRequest). */
export async function predictSample(req: PredictRequest): Promise<PredictResult> {
  const size = req.inputShape.reduce((a, b) => a * b, 1)
  let x: Float32Array
  if (req.image) x = await imageToInput(req.image, req.inputShape)
  else if (req.row) {
    if (req.row.length !== size) {
      throw new NasError(
        'bad_request',
        `The row has ${req.row.length} values; this model takes ${size} features`,
      )
    }
    if (req.row.some((v) => !Number.isFinite(v)))
      throw new NasError('bad_request', 'Every value of the row must be a number')
    x = Float32Array.from(req.row)
  } else throw new NasError('bad_request', 'Give an image or a table row to predict')
  const arch = req.architecture
  let shape = req.inputShape
  if (req.image && arch?.genotype?.family === 'backbone') {
    x = imagesToBackboneInput(x, 1, req.inputShape, backboneInfoOf(arch.genotype.backbone))
    shape = networkInputShape(arch, req.inputShape)
  }
  let probs: Float32Array
  if (req.kind === 'onnx') {
    const session = await openOnnx(path.join(req.dir, ONNX_FILE))
    try {
      probs = await session.predict(x, 1, shape)
    } finally {
      await session.close()
    }
  } else {
    await initHostCompute()
    const model = await loadModelDir(req.dir)
    try {
      probs = predictTf(model, x, 1, shape)
    } finally {
      model.dispose()
    }
  }
  const probabilities = Array.from(probs)
  const predictedIndex = probabilities.indexOf(Math.max(...probabilities))
  return { probabilities, predictedIndex }
}

/**
 * Wraps a trial runner so each job carries `modelDirFor(trialId)`: the worker saves the trained model there
 * when the trial completes, and `onSaved` is told when the folder exists. Runners that do not save (fakes)
 * simply never call onSaved.
 */
export function withModelSaving<R extends { backend(): unknown; close(): Promise<void> }>(
  runner: R,
  modelDirFor: (trialId: string) => string,
  onSaved: (trialId: string, dir: string) => void,
): R {
  const inner = runner as unknown as TrialRunner
  const wrapped: TrialRunner = {
    run: async (
      job: TrialJob,
      onEpoch: (e: EpochMetrics) => void,
      signal?: AbortSignal,
    ): Promise<TrialOutcome> => {
      // Of a data-parallel group only rank 0 keeps the model: the other ranks hold the same weights.
      if (job.dataParallel && job.dataParallel.rank > 0) return inner.run(job, onEpoch, signal)
      const dir = modelDirFor(job.trialId)
      const outcome = await inner.run({ ...job, modelDir: dir }, onEpoch, signal)
      if (existsSync(path.join(dir, MODEL_JSON))) onSaved(job.trialId, dir)
      return outcome
    },
    backend: () => inner.backend(),
    close: () => inner.close(),
  }
  // a one-shot search saves no model: it goes straight to the wrapped runner
  if (inner.searchOneShot) wrapped.searchOneShot = inner.searchOneShot.bind(inner)
  if (inner.dataParallelWorkers) wrapped.dataParallelWorkers = inner.dataParallelWorkers.bind(inner)
  return wrapped as unknown as R
}
