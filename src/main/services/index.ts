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
  type Run,
  type RunStatus,
} from '../../shared'
import type { AppDb } from '../db'
import { createDatasetService } from './datasets-service'
import { createEventHub, type EventSubscribe } from './event-hub'
import { createExportService } from './exports-service'
import { createStudioHandlers } from './studio-service'
import type { BackendInfo, EngineApi, TrialRunnerLike } from './engine-facade'

export type { EngineApi, BackendInfo, TrialRunnerLike, PresetSpace } from './engine-facade'
export type { EventListener, EventSubscribe } from './event-hub'
export { dispatch, isMethod } from './dispatch'

/** Run statuses after which nothing changes any more. */
export const FINISHED_RUN_STATUSES: ReadonlySet<RunStatus> = new Set([
  'completed',
  'failed',
  'cancelled',
  'interrupted',
])

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
  /** Cancels running searches, waits for them (bounded), and closes the worker pool. Does not close db. */
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
  const active = new Map<string, { controller: AbortController; done: Promise<Run> }>()
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

  const getRunner = (): TrialRunnerLike => {
    const size = Math.max(1, opts.poolSize ?? availableParallelism())
    runner ??= opts.createRunner ? opts.createRunner(size) : engine.createWorkerPool({ size, logger })
    return runner
  }

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

  const handlers: ApiHandlers = {
    'app.info': async () => ({
      name: opts.appName ?? 'NAS Studio',
      version: opts.version ?? '0.0.0',
      mode: opts.mode,
      modeReason: opts.modeReason,
      backend: await getBackend().then(({ name, detail, device }) => ({ name, detail, device })),
      dataDir: opts.dataDir,
    }),
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
      const controller = new AbortController()
      const done = (async (): Promise<Run> => {
        try {
          return await engine.runSearch({
            run,
            space: space.def,
            dataset: datasets.withCacheDir(dataset),
            store: db.store,
            runner: exportsSvc.withModelSaving(getRunner()),
            emit: hub.publish,
            clock,
            logger,
            signal: controller.signal,
          })
        } catch (err) {
          logger.error('Run failed', { runId: run.id, error: toErrorData(err).message })
          return settleFailed(run.id, err) ?? run
        } finally {
          active.delete(run.id)
        }
      })()
      active.set(run.id, { controller, done })
      return run
    },
    'runs.cancel': async ({ runId }) => {
      const run = db.runs.require(runId)
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
    handlers,
    events: hub.subscribe,
    whenImported: (jobId) => datasets.whenImported(jobId),
    whenFinished: async (runId) => (await active.get(runId)?.done) ?? db.runs.require(runId),
    close: async () => {
      if (closed) return
      closed = true
      await datasets.close()
      const pending = [...active.values()]
      for (const entry of pending) entry.controller.abort()
      let timer: NodeJS.Timeout | undefined
      const timeout = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, CLOSE_WAIT_MS)
      })
      await Promise.race([Promise.allSettled(pending.map((e) => e.done)), timeout])
      clearTimeout(timer)
      await runner
        ?.close()
        .catch((err: unknown) => logger.warn('Closing the worker pool failed', { error: String(err) }))
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

/** The stable id a preset space gets in the database. */
export const presetSpaceId = (key: string): string => `preset-${key}`

const hashOf = (value: unknown): string => createHash('sha256').update(JSON.stringify(value)).digest('hex')
