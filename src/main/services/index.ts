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
} from '../../shared'
import { isSqliteError, storageError, type AppDb } from '../db'
import { backbonesRoot, createBackboneService, type BackboneService, type CatalogueItem } from '../backbones'
import { runModelExporter } from './run-model-export'
import { createComputeSettings } from './compute-settings'
import { createDatasetService } from './datasets-service'
import { createEventHub, type EventSubscribe } from './event-hub'
import { createExportService } from './exports-service'
import { createRunService } from './runs-service'
import { createStudioHandlers } from './studio-service'
import type { BackendInfo, EngineApi, TrialRunnerLike } from './engine-facade'

export type { EngineApi, BackendInfo, TrialRunnerLike, PresetSpace } from './engine-facade'
export type { EventListener, EventSubscribe } from './event-hub'
export { dispatch, isMethod } from './dispatch'
export { FINISHED_RUN_STATUSES } from './runs-service'

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
  /** Opens a folder in the desktop's file manager (Export's "Show in folder"); the desktop app only. */
  showInFolder?: (path: string) => void
  /** The backbone catalogue (default: the built-in one); tests serve theirs from 127.0.0.1. */
  backboneCatalogue?: readonly CatalogueItem[]
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
  /** Backbones in the data folder: the store gives the engine each backbone's folder. */
  backbones: BackboneService
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
    ...(opts.showInFolder ? { showInFolder: opts.showInFolder } : {}),
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
  const runs = createRunService({
    db,
    engine,
    publish: hub.publish,
    withCacheDir: datasets.withCacheDir,
    exports: exportsSvc,
    // "Run trials on: a Redis queue": new runs go to the queue's workers instead of this machine's pool
    getRunner: () => compute.queueRunner() ?? localRunner(),
    localRunner,
    backbonesRoot: backbonesRoot(opts.dataDir),
    clock,
    logger,
    nowIso,
  })

  const backbones = createBackboneService({
    dataDir: opts.dataDir,
    engine,
    publish: hub.publish,
    exportRunModel: runModelExporter(db, exportsSvc.handlers),
    ...(opts.backboneCatalogue ? { catalogue: opts.backboneCatalogue } : {}),
    nowIso,
    logger,
  })

  /** The plan in progress: its speed probe must not overlap another's. */
  let probing: Promise<unknown> = Promise.resolve()
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
    ...createStudioHandlers({
      db,
      nowIso,
      newId: randomUUID,
      ...(engine.useBackbones
        ? {
            loadBackbones: (ids: readonly string[]) => engine.useBackbones!(backbonesRoot(opts.dataDir), ids),
          }
        : {}),
    }),
    'search.plan': async ({ datasetId, minutes, workers }) => {
      const dataset = db.datasets.require(datasetId)
      const input = {
        data: dataset,
        minutes,
        spaces: db.spaces.list(),
        workers,
        backbones: backbones.store.list(),
      }
      try {
        if (!engine.planAtMachineSpeed) return engine.planSearch(input)
        // one timing at a time: two at once would each measure the other's load
        const planned = probing.then(() => engine.planAtMachineSpeed!(input))
        probing = planned.catch(() => {})
        return (await planned).plan
      } catch (err) {
        throw new NasError('bad_request', (err as Error).message)
      }
    },
    ...runs.handlers,
    ...exportsSvc.handlers,
    ...backbones.handlers,
  }

  return {
    handlers: withStorageErrors(handlers, db.file),
    events: hub.subscribe,
    whenImported: (jobId) => datasets.whenImported(jobId),
    whenFinished: (runId) => runs.whenFinished(runId),
    backbones,
    close: async () => {
      if (closed) return
      closed = true
      // new and resumed runs are refused from here on, while imports are cancelled
      const runsPaused = runs.close(CLOSE_WAIT_MS)
      await datasets.close()
      await backbones.close()
      await runsPaused
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
