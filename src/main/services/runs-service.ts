import { randomUUID } from 'node:crypto'
import type { Clock, Logger } from '../../engine/ports'
import {
  NasError,
  isOneShot,
  toErrorData,
  searchSpaceDefSchema,
  type ApiHandlers,
  type Dataset,
  type EventMessage,
  type Run,
  type RunStatus,
  type SearchSpaceDef,
} from '../../shared'
import type { AppDb } from '../db'
import type { EngineApi, TrialRunnerLike } from './engine-facade'
import type { ExportService } from './exports-service'

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

/** The run and trial methods of the contract. */
export type RunHandlers = Pick<
  ApiHandlers,
  | 'runs.list'
  | 'runs.get'
  | 'runs.start'
  | 'runs.pause'
  | 'runs.resume'
  | 'runs.cancel'
  | 'runs.delete'
  | 'runs.pareto'
  | 'runs.alphas'
  | 'trials.list'
  | 'trials.epochs'
>

/** Searches started from this process, with what closing the app needs. */
export interface RunService {
  handlers: RunHandlers
  /** Resolves with the run once it has finished (at once if it is not running in this process). */
  whenFinished(runId: string): Promise<Run>
  /** Refuses new and resumed runs from now on, pauses the running ones and waits for them (up to `waitMs`). */
  close(waitMs: number): Promise<void>
}

/** Inputs of createRunService. */
export interface RunServiceOptions {
  db: AppDb
  engine: EngineApi
  publish: (message: EventMessage) => void
  /** The dataset as the engine needs it (with its cache folder). */
  withCacheDir(dataset: Dataset): Dataset
  exports: Pick<ExportService, 'withModelSaving' | 'forgetRunModels'>
  /** Where this run's candidates train: this machine's pool or a Redis queue. */
  getRunner(): TrialRunnerLike
  /** This machine's pool; the winner's final training always runs here. */
  localRunner(): TrialRunnerLike
  /** Folder of the backbone folders (<root>/<id>), for spaces on a pretrained backbone. */
  backbonesRoot?: string
  clock: Clock
  logger: Logger
  nowIso(): string
}

/**
 * Starts, pauses, resumes, cancels and deletes searches. Each run's search runs in the background of this
 * process and is tracked until it finishes; another process's runs are reported as such, never touched.
 */
export function createRunService(opts: RunServiceOptions): RunService {
  const { db, engine, clock, logger, nowIso, publish, getRunner, localRunner } = opts
  const exportsSvc = opts.exports
  const active = new Map<
    string,
    { controller: AbortController; pause: AbortController; done: Promise<Run> }
  >()
  let closed = false

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
    publish({ event: 'run.updated', payload: failed })
    return failed
  }

  /** A space on pretrained backbones samples from their graphs: they are loaded into this process first. */
  const loadBackbonesOf = async (def: SearchSpaceDef): Promise<void> => {
    if (def.family === 'backbone' && opts.backbonesRoot && engine.useBackbones)
      await engine.useBackbones(
        opts.backbonesRoot,
        def.backbones.map((b) => b.id),
      )
  }

  /** The runner whose jobs say where backbone folders are (trial workers load backbones from there). */
  const withBackbonesRoot = <R extends TrialRunnerLike>(runner: R): R =>
    opts.backbonesRoot && engine.withBackbones ? engine.withBackbones(runner, opts.backbonesRoot) : runner

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
          dataset: opts.withCacheDir(dataset),
          store: db.store,
          runner: withBackbonesRoot(exportsSvc.withModelSaving(getRunner())),
          // the winner's final training always runs here (data-parallel workers share memory)
          finalRunner: withBackbonesRoot(exportsSvc.withModelSaving(localRunner())),
          emit: publish,
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

  const handlers: RunHandlers = {
    'runs.list': async () => db.runs.list(),
    'runs.get': async ({ runId }) => db.runs.require(runId),
    'runs.start': async (config) => {
      if (closed)
        throw new NasError('conflict', 'NAS Studio is shutting down; start the run again after it restarts.')
      const dataset = db.datasets.require(config.datasetId)
      const space = db.spaces.require(config.spaceId)
      await loadBackbonesOf(space.def)
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
      publish({ event: 'run.updated', payload: run })
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
      if (isOneShot(run.config.strategy)) {
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
      await loadBackbonesOf(spaceDef)
      const resume = { trials: db.trials.listByRun(runId), checkpoint: db.runs.checkpoint(runId) }
      if (!db.runs.claimForResume(runId, db.owner)) {
        throw new NasError('conflict', `Run "${name}" was resumed by another NAS Studio process.`, {
          runId,
        })
      }
      const queued = db.runs.require(runId)
      publish({ event: 'run.updated', payload: queued })
      launchRun(queued, spaceDef, dataset, resume)
      return queued
    },
    'runs.cancel': async ({ runId }) => {
      const run = db.runs.require(runId)
      if (run.status === 'paused' && !active.has(runId)) {
        // nothing is training: stopping a paused search for good is just a status change
        const cancelled: Run = { ...run, status: 'cancelled', finishedAt: nowIso() }
        db.runs.update(cancelled)
        publish({ event: 'run.updated', payload: cancelled })
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
    whenFinished: async (runId) => (await active.get(runId)?.done) ?? db.runs.require(runId),
    close: async (waitMs) => {
      closed = true
      const pending = [...active.values()]
      // closing the app (or a lid, or SIGTERM) must not end a search for good: pause it, it resumes later
      for (const entry of pending) entry.pause.abort()
      let timer: NodeJS.Timeout | undefined
      const timeout = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, waitMs)
      })
      await Promise.race([Promise.allSettled(pending.map((e) => e.done)), timeout])
      clearTimeout(timer)
    },
  }
}
