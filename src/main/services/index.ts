import { createHash, randomUUID } from 'node:crypto'
import { availableParallelism } from 'node:os'
import { join } from 'node:path'
import { systemClock, silentLogger, type Clock, type Logger } from '../../engine/ports'
import {
  NasError,
  toErrorData,
  type ApiHandlers,
  type AppInfo,
  type DatasetImportJob,
  searchSpaceDefSchema,
  type Dataset,
  type Run,
  type RunStatus,
  type SearchSpaceDef,
} from '../../shared'
import { isSqliteError, storageError, type AppDb } from '../db'
import { createComputeSettings } from './compute-settings'
import { createDatasetService } from './datasets-service'
import { createEventHub, type EventSubscribe } from './event-hub'
import { createExportService } from './exports-service'
import { createStudioHandlers } from './studio-service'
import type { BackendInfo, EngineApi, TrialRunnerLike } from './engine-facade'

export type { EngineApi, BackendInfo, TrialRunnerLike, PresetSpace } from './engine-facade'
export type { EventListener, EventSubscribe } from './event-hub'
export { dispatch, isMethod } from './dispatch'

/** Run statuses after which nothing changes any more ('interrupted' and 'paused' until resumed). */
export const FINISHED_RUN_STATUSES: ReadonlySet<RunStatus> = new Set([
  'completed',
  'failed',
  'cancelled',
  'interrupted',
  'paused',
])

/** Statuses a run can be resumed from (runs.resume). */
const RESUMABLE_STATUSES: ReadonlySet<RunStatus> = new Set(['paused', 'interrupted'])

/** Inputs of createServices; the caller owns `db` and closes it after `close()`. */
export interface ServicesOptions {
  db: AppDb
  engine: EngineApi
  dataDir: string
  resourcesDir: string
  mode: AppInfo['mode']
  /** Why this mode, shown in app.info (e.g. "Electron binary not installed: serving web mode"). */
  modeReason: string
  appName?: string
  version?: string
  /** Trial workers in the shared pool; default: the number of CPU cores. */
  poolSize?: number
  /** Makes the worker pool (default engine.createWorkerPool); created on the first run, shared by all. */
  createRunner?: (size: number) => TrialRunnerLike
  logger?: Logger
  clock?: Clock
}

/** The app's behaviour behind both transports. */
export interface Services {
  handlers: ApiHandlers
  /** Subscribes to every event (run.updated, trial.updated, trial.epoch); returns the unsubscribe. */
  events: EventSubscribe
  /** Resolves with the import job once it has finished (done, failed or cancelled). */
  whenImported(jobId: string): Promise<DatasetImportJob>
  /** Resolves with the run once it has finished (at once if it is not running in this process). */
  whenFinished(runId: string): Promise<Run>
  /**
   * Pauses running searches (so they can be resumed at the next start), waits for them (bounded), and closes
   * the worker pool. Does not close db.
   */
  close(): Promise<void>
}

const CLOSE_WAIT_MS = 15_000

/**
 * Composes engine and database into the contract's handlers. On start it registers the bundled sample
 * dataset (idempotent by content hash) and the preset search spaces (idempotent by key); a missing or
 * broken resource is logged, not fatal, so the app still opens.
 */
export async function createServices(opts: ServicesOptions): Promise<Services> {
  const { db, engine } = opts
  const logger = opts.logger ?? silentLogger
  const clock = opts.clock ?? systemClock
  const hub = createEventHub(logger)
  const nowIso = (): string => new Date(clock.now()).toISOString()
  const active = new Map<
    string,
    { controller: AbortController; pause: AbortController; done: Promise<Run> }
  >()
  let runner: TrialRunnerLike | null = null
  let backend: Promise<BackendInfo> | null = null
  let closed = false

  await registerBundledDataset(opts, logger, nowIso)
  const datasets = createDatasetService({
    db,
    engine,
    dataDir: opts.dataDir,
    publish: hub.publish,
    logger,
    nowIso,
  })
  registerPresetSpaces(opts, logger, nowIso)
  const exportsSvc = createExportService({
    db,
    engine,
    dataDir: opts.dataDir,
    appName: opts.appName ?? 'NAS Studio',
    version: opts.version ?? '0.0.0',
    withCacheDir: datasets.withCacheDir,
    newId: randomUUID,
    nowIso,
    logger,
  })

  const getBackend = (): Promise<BackendInfo> =>
    (backend ??= engine.detectBackend().catch((err: unknown) => ({
      name: 'unavailable',
      detail: `No compute backend could be loaded: ${toErrorData(err).message}`,
      device: 'none',
    })))

  const compute = createComputeSettings({ dataDir: opts.dataDir, engine, logger })
  /** This machine's worker pool, started on first use. */
  const localRunner = (): TrialRunnerLike => {
    const size = Math.max(1, opts.poolSize ?? availableParallelism())
    runner ??= opts.createRunner ? opts.createRunner(size) : engine.createWorkerPool({ size, logger })
    return runner
  }
  // "Run trials on: a Redis queue": new runs go to the queue's workers instead of this machine's pool
  const getRunner = (): TrialRunnerLike => compute.queueRunner() ?? localRunner()

  const settleFailed = (runId: string, err: unknown): Run | null => {
    const current = db.runs.get(runId)
    if (!current || FINISHED_RUN_STATUSES.has(current.status)) return current
    const failed: Run = {
      ...current,
      status: 'failed',
      finishedAt: nowIso(),
      error: toErrorData(err).message,
    }
    db.runs.update(failed)
    hub.publish({ event: 'run.updated', payload: failed })
    return failed
  }

  /** Runs the search of `run` (already stored as 'queued') in the background and tracks it in `active`. */
  const launchRun = (
    run: Run,
    spaceDef: SearchSpaceDef,
    dataset: Dataset,
    resume?: Parameters<EngineApi['runSearch']>[0]['resume'],
  ): void => {
    const controller = new AbortController()
    const pause = new AbortController()
    const done = (async (): Promise<Run> => {
      try {
        return await engine.runSearch({
          run,
          space: spaceDef,
          dataset: datasets.withCacheDir(dataset),
          store: db.store,
          runner: exportsSvc.withModelSaving(getRunner()),
          // the winner's final training always runs here (data-parallel workers share memory)
          finalRunner: exportsSvc.withModelSaving(localRunner()),
          emit: hub.publish,
          clock,
          logger,
          signal: controller.signal,
          pause: pause.signal,
          ...(resume ? { resume } : {}),
        })
      } catch (err) {
        logger.error('Run failed', { runId: run.id, error: toErrorData(err).message })
        try {
          return settleFailed(run.id, err) ?? run
        } catch (settleErr) {
          logger.error('Could not record the failed run', { error: toErrorData(settleErr).message })
          return { ...run, status: 'failed', error: toErrorData(err).message }
        }
      } finally {
        active.delete(run.id)
      }
    })()
    active.set(run.id, { controller, pause, done })
  }

  const handlers: ApiHandlers = {
    'app.info': async () => ({
      name: opts.appName ?? 'NAS Studio',
      version: opts.version ?? '0.0.0',
      mode: opts.mode,
      modeReason: opts.modeReason,
      backend: await getBackend().then(({ name, detail, device }) => ({ name, detail, device })),
      dataDir: opts.dataDir,
    }),
    ...compute.handlers,
    'datasets.list': async () => db.datasets.list(),
    ...datasets.handlers,
    'spaces.list': async () => db.spaces.list(),
    ...createStudioHandlers({ db, nowIso, newId: randomUUID }),
    'runs.list': async () => db.runs.list(),
    'runs.get': async ({ runId }) => db.runs.require(runId),
    'runs.start': async (config) => {
      if (closed)
        throw new NasError('conflict', 'NAS Studio is shutting down; start the run again after it restarts.')
      const dataset = db.datasets.require(config.datasetId)
      const space = db.spaces.require(config.spaceId)
      engine.validateSpace(space.def)
      const run: Run = {
        id: randomUUID(),
        config,
        status: 'queued',
        createdAt: nowIso(),
        startedAt: null,
        finishedAt: null,
        trialsCompleted: 0,
        trialsFailed: 0,
        bestTrialId: null,
        bestValAccuracy: null,
        backend: null,
        error: null,
      }
      db.runs.insert(run, space.def, db.owner)
      hub.publish({ event: 'run.updated', payload: run })
      launchRun(run, space.def, dataset)
      return run
    },
    'runs.pause': async ({ runId }) => {
      const run = db.runs.require(runId)
      if (run.status === 'paused') return run
      const entry = active.get(runId)
      if (!entry) {
        throw new NasError(
          'conflict',
          FINISHED_RUN_STATUSES.has(run.status)
            ? `Run "${run.config.name}" is ${run.status}; only a running search can be paused.`
            : `Run "${run.config.name}" is running in another NAS Studio process; pause it there.`,
          { runId, status: run.status },
        )
      }
      entry.pause.abort()
      // the candidates in training stop between two batches; answer with the run as it was left
      return await entry.done
    },
    'runs.resume': async ({ runId }) => {
      if (closed)
        throw new NasError('conflict', 'NAS Studio is shutting down; resume the run after it restarts.')
      const run = db.runs.require(runId)
      const name = run.config.name
      if (active.has(runId) || run.status === 'running' || run.status === 'queued') {
        throw new NasError('conflict', `Run "${name}" is already running.`, { runId })
      }
      if (!RESUMABLE_STATUSES.has(run.status)) {
        throw new NasError(
          'conflict',
          `Run "${name}" is ${run.status}; only a paused or interrupted search can be resumed. Use "Run again with these settings" to start a new one.`,
          { runId, status: run.status },
        )
      }
      if (run.config.strategy === 'darts' || run.config.strategy === 'pc-darts') {
        throw new NasError(
          'conflict',
          `Run "${name}" cannot be resumed: a ${run.config.strategy === 'darts' ? 'DARTS' : 'PC-DARTS'} search keeps its weight-sharing network only in memory, so it must start over. Use "Run again with these settings".`,
          { runId },
        )
      }
      const dataset = db.datasets.get(run.config.datasetId)
      if (!dataset) {
        throw new NasError(
          'dataset_error',
          `Run "${name}" cannot be resumed: its dataset is no longer in NAS Studio. Import the data again and start a new search.`,
          { runId, datasetId: run.config.datasetId },
        )
      }
      const snapshot = searchSpaceDefSchema.safeParse(db.runs.spaceDef(runId))
      const spaceDef = snapshot.success ? snapshot.data : db.spaces.require(run.config.spaceId).def
      const resume = { trials: db.trials.listByRun(runId), checkpoint: db.runs.checkpoint(runId) }
      if (!db.runs.claimForResume(runId, db.owner)) {
        throw new NasError('conflict', `Run "${name}" was resumed by another NAS Studio process.`, {
          runId,
        })
      }
      const queued = db.runs.require(runId)
      hub.publish({ event: 'run.updated', payload: queued })
      launchRun(queued, spaceDef, dataset, resume)
      return queued
    },
    'runs.cancel': async ({ runId }) => {
      const run = db.runs.require(runId)
      if (run.status === 'paused' && !active.has(runId)) {
        // nothing is training: stopping a paused search for good is just a status change
        const cancelled: Run = { ...run, status: 'cancelled', finishedAt: nowIso() }
        db.runs.update(cancelled)
        hub.publish({ event: 'run.updated', payload: cancelled })
        return cancelled
      }
      if (FINISHED_RUN_STATUSES.has(run.status)) return run
      const entry = active.get(runId)
      if (!entry) {
        throw new NasError(
          'conflict',
          `Run "${run.config.name}" is running in another NAS Studio process; cancel it there.`,
          {
            runId,
          },
        )
      }
      entry.controller.abort()
      // The engine writes 'cancelled' and emits run.updated when the trial in flight has stopped.
      return db.runs.require(runId)
    },
    'runs.delete': async ({ runId }) => {
      const run = db.runs.require(runId)
      if (active.has(runId) || !FINISHED_RUN_STATUSES.has(run.status)) {
        throw new NasError(
          'conflict',
          `Run "${run.config.name}" is still running; stop it before deleting it.`,
          {
            runId,
          },
        )
      }
      await exportsSvc.forgetRunModels(runId)
      db.runs.delete(runId)
      return { deleted: true as const, id: runId }
    },
    ...exportsSvc.handlers,
    'runs.pareto': async ({ runId }) => db.runs.pareto(runId),
    'runs.alphas': async ({ runId }) => {
      db.runs.require(runId)
      return db.runs.alphaSnapshots(runId)
    },
    'trials.list': async ({ runId }) => {
      db.runs.require(runId)
      return db.trials.listByRun(runId)
    },
    'trials.epochs': async ({ trialId }) => {
      db.trials.require(trialId)
      return db.trials.listEpochs(trialId)
    },
  }

  return {
    handlers: withStorageErrors(handlers, db.file),
    events: hub.subscribe,
    whenImported: (jobId) => datasets.whenImported(jobId),
    whenFinished: async (runId) => (await active.get(runId)?.done) ?? db.runs.require(runId),
    close: async () => {
      if (closed) return
      closed = true
      await datasets.close()
      const pending = [...active.values()]
      // closing the app (or a lid, or SIGTERM) must not end a search for good: pause it, it resumes later
      for (const entry of pending) entry.pause.abort()
      let timer: NodeJS.Timeout | undefined
      const timeout = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, CLOSE_WAIT_MS)
      })
      await Promise.race([Promise.allSettled(pending.map((e) => e.done)), timeout])
      clearTimeout(timer)
      await runner
        ?.close()
        .catch((err: unknown) => logger.warn('Closing the worker pool failed', { error: String(err) }))
      await compute.close()
      hub.clear()
    },
  }
}

async function registerBundledDataset(
  opts: ServicesOptions,
  logger: Logger,
  nowIso: () => string,
): Promise<void> {
  try {
    const described = await opts.engine.describeBundledDataset(opts.resourcesDir)
    if (opts.db.datasets.getByHash(described.hash)) return
    opts.db.datasets.insert({ ...described, id: `ds-${described.hash.slice(0, 16)}`, createdAt: nowIso() })
  } catch (err) {
    logger.warn('The bundled sample dataset could not be registered', { error: toErrorData(err).message })
  }
}

function registerPresetSpaces(opts: ServicesOptions, logger: Logger, nowIso: () => string): void {
  let presets: ReturnType<EngineApi['loadPresetSpaces']>
  try {
    presets = opts.engine.loadPresetSpaces(join(opts.resourcesDir, 'presets'))
  } catch (err) {
    logger.warn('The preset search spaces could not be loaded', { error: toErrorData(err).message })
    return
  }
  for (const preset of presets) {
    try {
      opts.engine.validateSpace(preset.def)
      const existing = opts.db.spaces.getByPresetKey(preset.key)
      const fields = { name: preset.name, description: preset.description, def: preset.def }
      if (!existing) {
        opts.db.spaces.insert(
          { id: presetSpaceId(preset.key), preset: true, createdAt: nowIso(), ...fields },
          preset.key,
        )
      } else if (
        hashOf(fields) !==
        hashOf({ name: existing.name, description: existing.description, def: existing.def })
      ) {
        opts.db.spaces.updatePreset(existing.id, fields)
      }
    } catch (err) {
      logger.warn(`Preset search space "${preset.key}" was skipped`, { error: toErrorData(err).message })
    }
  }
}

/**
 * Wraps every handler so a database failure (disk full, read-only, locked, damaged file) reaches the caller
 * as NasError('storage_error') in plain words instead of a raw SQLite message.
 */
function withStorageErrors(handlers: ApiHandlers, file: string): ApiHandlers {
  const wrapped: Record<string, (req: never) => Promise<unknown>> = {}
  for (const [method, handler] of Object.entries(handlers) as Array<
    [string, (req: never) => Promise<unknown>]
  >) {
    wrapped[method] = async (req) => {
      try {
        return await handler(req)
      } catch (err) {
        throw isSqliteError(err) ? storageError(file, err) : err
      }
    }
  }
  return wrapped as unknown as ApiHandlers
}

/** The stable id a preset space gets in the database. */
export const presetSpaceId = (key: string): string => `preset-${key}`

const hashOf = (value: unknown): string => createHash('sha256').update(JSON.stringify(value)).digest('hex')
