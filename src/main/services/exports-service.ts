import { existsSync, statSync } from 'node:fs'
import { rm } from 'node:fs/promises'
import { isAbsolute, join } from 'node:path'
import type { Logger } from '../../engine/ports'
import {
  NasError,
  resultTrialId,
  type ApiHandlers,
  type Dataset,
  type ExportRecord,
  type Prediction,
  type Trial,
} from '../../shared'
import type { AppDb } from '../db'
import { ExportsRepo } from '../db/exports-repo'
import type { EngineApi, TrialRunnerLike } from './engine-facade'
import { archiveExport } from './export-archive'
import { removeModelLeftovers } from './model-leftovers'

/** The contract methods this service serves. */
export type ExportHandlers = Pick<
  ApiHandlers,
  | 'exports.create'
  | 'exports.list'
  | 'exports.archive'
  | 'exports.reveal'
  | 'exports.trials'
  | 'exports.predict'
>

/** Export handlers plus the hooks runs need: save trained models, forget them with their run. */
export interface ExportService {
  handlers: ExportHandlers
  /** Wraps the trial runner of a run so each completed trial's trained model is saved and recorded. */
  withModelSaving<R extends TrialRunnerLike>(runner: R): R
  /** Deletes the saved models of a run's trials (call before deleting the run's rows). */
  forgetRunModels(runId: string): Promise<void>
}

/** Inputs of createExportService. */
export interface ExportServiceOptions {
  db: AppDb
  engine: EngineApi
  dataDir: string
  appName: string
  version: string
  /** The dataset as the engine needs it (with its cache folder). */
  withCacheDir(dataset: Dataset): Dataset
  newId(): string
  nowIso(): string
  logger: Logger
  /** Opens a folder in the desktop's file manager (the desktop app only; absent in web mode). */
  showInFolder?: (path: string) => void
}

/**
 * Exports of trained trials. Trained models live in <dataDir>/models/<trialId>/ (written by the trial workers,
 * recorded in trials.model_dir); exports go to <dataDir>/exports/<run>/<trial>-<format>-<time>/ unless the
 * request names an absolute folder. Each export is written and verified by the engine, then recorded.
 * Exports are small and fast (seconds) and run on the engine's asynchronous backends.
 */
export function createExportService(opts: ExportServiceOptions): ExportService {
  const { db, engine } = opts
  const repo = new ExportsRepo(db.db)
  const modelsRoot = join(opts.dataDir, 'models')
  removeModelLeftovers(modelsRoot)
  const modelDirOf = (trial: Trial): string => repo.modelDir(trial.id) ?? join(modelsRoot, trial.id)
  const need = <K extends 'exportTrial' | 'predictSample'>(key: K): NonNullable<EngineApi[K]> => {
    const fn = engine[key]
    if (!fn) throw new NasError('internal', 'Exporting is not available in this build of NAS Studio')
    return fn.bind(engine) as NonNullable<EngineApi[K]>
  }

  const handlers: ExportHandlers = {
    'exports.create': async ({ runId, trialId, format, outDir }) => {
      const run = db.runs.require(runId)
      // default: the final model when the run has one, else the search's best trial
      const chosen = trialId ?? resultTrialId(run, run.finalTrialId ? db.trials.get(run.finalTrialId) : null)
      if (!chosen) {
        throw new NasError(
          'conflict',
          `Run "${run.config.name}" has no completed trial yet; nothing to export.`,
          { runId },
        )
      }
      const trial = db.trials.require(chosen)
      if (trial.runId !== runId)
        throw new NasError('bad_request', `Trial ${chosen} belongs to another run`, { trialId: chosen })
      if (trial.status !== 'completed') {
        throw new NasError(
          'conflict',
          `Trial ${trial.index + 1} is ${trial.status}; only completed trials can be exported.`,
        )
      }
      if (outDir !== undefined && !isAbsolute(outDir)) {
        throw new NasError('bad_request', `The output folder must be an absolute path, got "${outDir}"`, {
          outDir,
        })
      }
      const createdAt = opts.nowIso()
      const stamp = createdAt.replace(/[:.]/g, '-')
      const dir =
        outDir ?? join(opts.dataDir, 'exports', runId, `trial-${trial.index + 1}-${format}-${stamp}`)
      const dataset = opts.withCacheDir(db.datasets.require(run.config.datasetId))
      const result = await need('exportTrial')({
        format,
        modelDir: modelDirOf(trial),
        outDir: dir,
        run,
        trial,
        dataset,
        epochs: db.trials.listEpochs(trial.id),
        appName: opts.appName,
        appVersion: opts.version,
        spaceName: db.spaces.get(run.config.spaceId)?.name ?? run.config.spaceId,
        now: opts.nowIso,
      })
      const sizeBytes = result.files.reduce((n, f) => n + (existsSync(f) ? statSync(f).size : 0), 0)
      const record: ExportRecord = {
        id: opts.newId(),
        runId,
        trialId: trial.id,
        format,
        status: result.verified === null ? 'written' : result.verified ? 'verified' : 'mismatch',
        outDir: dir,
        files: result.files,
        sizeBytes,
        maxAbsDiff: result.maxAbsDiff,
        samples: result.samples,
        tolerance: result.tolerance,
        createdAt,
      }
      repo.insert(record)
      opts.logger.info('Exported a trial', { runId, trialId: trial.id, format, status: record.status, dir })
      return record
    },
    'exports.list': async ({ runId }) => {
      db.runs.require(runId)
      return repo.listByRun(runId)
    },
    'exports.archive': async ({ exportId }) => {
      const record = repo.require(exportId)
      return archiveExport(record, db.runs.require(record.runId).config.name)
    },
    'exports.reveal': async ({ exportId }) => {
      const record = repo.require(exportId)
      if (!opts.showInFolder) return { shown: false }
      opts.showInFolder(record.files[0] ?? record.outDir)
      return { shown: true }
    },
    'exports.trials': async ({ runId }) => {
      db.runs.require(runId)
      return repo
        .trialsWithModels(runId)
        .filter((t) => existsSync(join(t.dir, 'model.json')))
        .map((t) => t.id)
    },
    'exports.predict': async (req) => {
      let kind: Prediction['model'] = 'app'
      let trial: Trial
      let dir: string
      if (req.exportId !== undefined) {
        const exp = repo.require(req.exportId)
        trial = db.trials.require(exp.trialId)
        if (exp.format === 'report') dir = modelDirOf(trial)
        else {
          kind = exp.format
          dir = exp.outDir
        }
      } else {
        trial = db.trials.require(req.trialId!)
        dir = modelDirOf(trial)
      }
      const run = db.runs.require(trial.runId)
      const dataset = db.datasets.require(run.config.datasetId)
      const row = typeof req.row === 'string' ? parseRow(req.row) : req.row
      const image = req.imageBase64 === undefined ? undefined : decodeBase64(req.imageBase64)
      const result = await need('predictSample')({
        kind,
        dir,
        inputShape: dataset.inputShape,
        classNames: dataset.classNames,
        architecture: trial.architecture,
        ...(image ? { image } : {}),
        ...(row ? { row } : {}),
      })
      return {
        model: kind,
        predictedIndex: result.predictedIndex,
        predictedClass: dataset.classNames[result.predictedIndex] ?? String(result.predictedIndex),
        probabilities: result.probabilities.map((probability, i) => ({
          className: dataset.classNames[i] ?? String(i),
          probability,
        })),
        inputShape: dataset.inputShape,
      }
    },
  }

  return {
    handlers,
    withModelSaving: (runner) =>
      engine.withModelSaving
        ? engine.withModelSaving(
            runner,
            (trialId) => join(modelsRoot, trialId),
            (trialId, dir) => repo.setModelDir(trialId, dir),
          )
        : runner,
    forgetRunModels: async (runId) => {
      for (const t of repo.trialsWithModels(runId)) await rm(t.dir, { recursive: true, force: true })
    },
  }
}

/** Numbers of a pasted table row, separated by commas, semicolons, tabs or spaces. */
export function parseRow(text: string): number[] {
  const parts = text
    .trim()
    .split(/[,;\t ]+/)
    .filter((p) => p.length > 0)
  const values = parts.map(Number)
  const bad = parts.findIndex((p, i) => !Number.isFinite(values[i]))
  if (parts.length === 0)
    throw new NasError('bad_request', 'The row is empty; paste numbers separated by commas')
  if (bad >= 0) {
    throw new NasError('bad_request', `Value ${bad + 1} of the row ("${parts[bad]}") is not a number`)
  }
  return values
}

function decodeBase64(text: string): Uint8Array {
  const comma = text.startsWith('data:') ? text.indexOf(',') : -1
  const bytes = Buffer.from(text.slice(comma + 1), 'base64')
  if (bytes.length === 0) throw new NasError('bad_request', 'The image is empty or not base64')
  return bytes
}
