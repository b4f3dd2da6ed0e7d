import { randomUUID } from 'node:crypto'
import { rm } from 'node:fs/promises'
import { isAbsolute, join, relative, sep } from 'node:path'
import type { Logger } from '../../engine/ports'
import {
  NasError,
  toErrorData,
  type ApiHandlers,
  type Dataset,
  type DatasetImportJob,
  type DatasetImportRequest,
  type EventMessage,
} from '../../shared'
import type { AppDb } from '../db'
import type { EngineApi } from './engine-facade'

/** The dataset methods of the contract. */
export type DatasetHandlers = Pick<
  ApiHandlers,
  | 'datasets.get'
  | 'datasets.import'
  | 'datasets.importStatus'
  | 'datasets.cancelImport'
  | 'datasets.preview'
  | 'datasets.rename'
  | 'datasets.delete'
>

/** Imports and previews of datasets, with their jobs. */
export interface DatasetService {
  handlers: DatasetHandlers
  /** Resolves with the job once it has finished (done, failed or cancelled). */
  whenImported(jobId: string): Promise<DatasetImportJob>
  /** The dataset with its cache folder filled in, as the engine (trial workers) needs it. */
  withCacheDir(dataset: Dataset): Dataset
  /** Cancels running imports and waits for them to stop. */
  close(): Promise<void>
}

/** Least time between two progress events of one import, in ms. */
export const PROGRESS_INTERVAL_MS = 100
/** Finished jobs kept for datasets.importStatus. */
const KEEP_FINISHED_JOBS = 50

interface JobEntry {
  job: DatasetImportJob
  controller: AbortController
  done: Promise<DatasetImportJob>
}

/**
 * Runs imports in the background of this process (decoding is libvips' threads and small synchronous
 * steps), one job per request: `datasets.import` answers at once with the job; `dataset.importProgress`
 * events follow (at most every PROGRESS_INTERVAL_MS, and always on a phase change and at the end). The
 * decoded data goes to <dataDir>/cache/<hash>/; the dataset row is added once, unique by that hash.
 */
export function createDatasetService(opts: {
  db: AppDb
  engine: EngineApi
  dataDir: string
  publish: (message: EventMessage) => void
  logger: Logger
  nowIso: () => string
}): DatasetService {
  const { db, engine, logger } = opts
  const cacheRoot = join(opts.dataDir, 'cache')
  const jobs = new Map<string, JobEntry>()

  const withCacheDir = (dataset: Dataset): Dataset =>
    dataset.source === 'bundled'
      ? dataset
      : { ...dataset, cacheDir: engine.cacheDirFor(cacheRoot, dataset.hash) }

  const requireJob = (jobId: string): JobEntry => {
    const entry = jobs.get(jobId)
    if (!entry)
      throw new NasError('not_found', `No import with id "${jobId}". It may belong to an earlier session.`)
    return entry
  }

  const forgetOldJobs = (): void => {
    const finished = [...jobs.values()].filter((e) => e.job.state !== 'running')
    for (const e of finished.slice(0, Math.max(0, finished.length - KEEP_FINISHED_JOBS)))
      jobs.delete(e.job.jobId)
  }

  const start = (req: DatasetImportRequest): DatasetImportJob => {
    const controller = new AbortController()
    const job: DatasetImportJob = {
      jobId: randomUUID(),
      path: req.path,
      state: 'running',
      phase: 'Starting',
      done: 0,
      total: 0,
      datasetId: null,
      fromCache: false,
      error: null,
      startedAt: opts.nowIso(),
      finishedAt: null,
    }
    let lastSent = 0
    const emit = (): void => {
      lastSent = Date.now()
      opts.publish({ event: 'dataset.importProgress', payload: { ...job } })
    }
    const onProgress = (phase: string, done: number, total: number): void => {
      const phaseChanged = phase !== job.phase
      Object.assign(job, { phase, done, total })
      if (phaseChanged || Date.now() - lastSent >= PROGRESS_INTERVAL_MS) emit()
    }
    const done = (async (): Promise<DatasetImportJob> => {
      try {
        const imported = await engine.importDataset(req, { cacheRoot, signal: controller.signal, onProgress })
        const existing = db.datasets.getByHash(imported.dataset.hash)
        const dataset: Dataset = existing ?? {
          ...imported.dataset,
          id: `ds-${imported.dataset.hash.slice(0, 16)}`,
          createdAt: opts.nowIso(),
        }
        if (!existing) db.datasets.insert(dataset)
        Object.assign(job, {
          state: 'done',
          phase: 'Done',
          datasetId: dataset.id,
          fromCache: imported.fromCache,
        })
      } catch (err) {
        const data = toErrorData(err)
        if (data.code === 'cancelled' || controller.signal.aborted) {
          Object.assign(job, { state: 'cancelled', phase: 'Cancelled', error: null })
        } else {
          logger.info('Dataset import failed', { path: req.path, error: data.message })
          Object.assign(job, { state: 'failed', phase: 'Failed', error: data.message })
        }
      }
      job.finishedAt = opts.nowIso()
      emit()
      forgetOldJobs()
      return { ...job }
    })()
    jobs.set(job.jobId, { job, controller, done })
    return { ...job }
  }

  return {
    handlers: {
      'datasets.get': async ({ datasetId }) => db.datasets.require(datasetId),
      'datasets.import': async (req) => start(req),
      'datasets.importStatus': async ({ jobId }) => ({ ...requireJob(jobId).job }),
      'datasets.cancelImport': async ({ jobId }) => {
        const entry = requireJob(jobId)
        if (entry.job.state === 'running') entry.controller.abort()
        return { ...entry.job }
      },
      'datasets.rename': async ({ datasetId, name }) => db.datasets.rename(datasetId, name.trim()),
      'datasets.delete': async ({ datasetId }) => {
        const dataset = db.datasets.require(datasetId)
        if (dataset.source === 'bundled') {
          throw new NasError('conflict', `"${dataset.name}" comes with NAS Studio and cannot be deleted.`)
        }
        const users = db.runs.list().filter((r) => r.config.datasetId === datasetId)
        if (users.length > 0) {
          const names = users.slice(0, 5).map((r) => `"${r.config.name}"`)
          const more = users.length > 5 ? ` and ${users.length - 5} more` : ''
          throw new NasError(
            'conflict',
            `"${dataset.name}" is used by ${users.length === 1 ? 'the run' : `${users.length} runs:`} ${names.join(', ')}${more}. Delete ${users.length === 1 ? 'that run' : 'those runs'} in History first.`,
            { runIds: users.map((r) => r.id) },
          )
        }
        db.datasets.delete(datasetId)
        // NAS Studio's own copies go with it: the decoded cache, and the browser upload it was imported from
        await rm(engine.cacheDirFor(cacheRoot, dataset.hash), { recursive: true, force: true })
        const uploads = join(opts.dataDir, 'uploads')
        const rel = relative(uploads, dataset.path)
        if (rel && !rel.startsWith('..') && !isAbsolute(rel)) {
          await rm(join(uploads, rel.split(sep)[0]!), { recursive: true, force: true })
        }
        return { deleted: true as const, id: datasetId }
      },
      'datasets.preview': async ({ datasetId, perClass }) =>
        engine.previewDataset(withCacheDir(db.datasets.require(datasetId)), { perClass: perClass ?? 8 }),
    },
    whenImported: async (jobId) => requireJob(jobId).done,
    withCacheDir,
    close: async () => {
      const running = [...jobs.values()].filter((e) => e.job.state === 'running')
      for (const e of running) e.controller.abort()
      await Promise.allSettled(running.map((e) => e.done))
    },
  }
}
