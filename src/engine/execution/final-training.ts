import type { Dataset, Run, Trial } from '../../shared'
import { toErrorData } from '../../shared'
import { withoutProxies } from '../evaluate/proxy'
import type { EpochMetrics } from '../evaluate/train'
import type { EventSink, Logger, RunStore } from '../ports'
import { runRanks } from './data-parallel-job'
import type { TrialJob, TrialOutcome, TrialRunner } from './types'

/** What the final training of a run needs from the scheduler. */
export interface FinalTrainingArgs {
  run: Run
  /** The search's winner (a completed, fully trained trial). */
  winner: Trial
  index: number
  seed: number
  dataset: Dataset
  runner: TrialRunner
  store: RunStore
  emit: EventSink
  iso: () => string
  /** The scheduler's clock (ms): the time a failed data-parallel attempt used is measured with it. */
  now?: () => number
  logger: Logger
  /** Wall-clock ms the final training may take (the rest of the run's time budget); absent = no limit. */
  timeLimitMs?: number
  /** Workers that may train it together (data parallel); 1 = one worker. */
  workers?: number
  signal?: AbortSignal
}

/**
 * Trains the winner again from scratch with the full recipe (run.config.finalTraining: its `train` settings,
 * else the search's settings without proxies, for `epochs`) on train + validation, scores it once on the test
 * split, and journals it as a trial flagged `isFinal`. Its valAccuracy/valLoss, and the val fields of its
 * per-epoch rows (stored and emitted like any trial's, so its progress shows), are training scores: it learns
 * from the validation split too, and the test split is scored only once, at the end. Returns the run with
 * finalTrialId and finalTestAccuracy set; a failed or cancelled final training leaves finalTestAccuracy null
 * and never fails the run.
 */
export async function trainFinalModel(args: FinalTrainingArgs): Promise<Run> {
  const { winner, store, emit, iso, logger } = args
  const cfg = args.run.config.finalTraining!
  const train = { ...(cfg.train ?? withoutProxies(args.run.config.train)), epochs: cfg.epochs }
  let run: Run = args.run
  const saveRun = (patch: Partial<Run>): void => {
    run = { ...run, ...patch }
    store.updateRun(run)
    emit({ event: 'run.updated', payload: run })
  }
  let trial: Trial = {
    id: `${run.id}-t${args.index}`,
    runId: run.id,
    index: args.index,
    status: 'running',
    architecture: winner.architecture,
    archHash: winner.archHash,
    params: winner.params,
    isFinal: true,
    valAccuracy: null,
    valLoss: null,
    trainTimeMs: null,
    error: null,
    startedAt: iso(),
    finishedAt: null,
  }
  store.insertTrial(trial)
  emit({ event: 'trial.updated', payload: trial })
  saveRun({ finalTrialId: trial.id, finalTestAccuracy: null })
  logger.info('Final training of the winner', {
    runId: run.id,
    winner: winner.id,
    epochs: train.epochs,
    timeLimitMs: args.timeLimitMs,
  })
  const now = args.now ?? Date.now
  const started = now()
  const base: TrialJob = {
    trialId: trial.id,
    runId: run.id,
    architecture: winner.architecture,
    dataset: args.dataset,
    train,
    seed: args.seed,
    mode: 'final',
    ...(args.timeLimitMs !== undefined ? { timeLimitMs: Math.max(1, args.timeLimitMs) } : {}),
  }
  const onEpoch = (e: EpochMetrics): void => {
    logger.info('Final training epoch', { runId: run.id, of: e.epochs ?? train.epochs, ...e })
    const epoch = { trialId: trial.id, runId: run.id, ...e }
    store.insertEpoch(epoch)
    emit({ event: 'trial.epoch', payload: epoch })
  }
  try {
    let outcome: TrialOutcome | null = null
    const workers = Math.max(1, args.workers ?? 1)
    if (workers > 1) {
      // every rank trains the same model on its share of each batch; rank 0's result is the trial's
      const tried = await runRanks(args.runner, base, workers, winner.params + 1024, onEpoch, args.signal)
      if ('outcome' in tried) outcome = tried.outcome
      else
        logger.warn('Data-parallel final training failed; training in one worker', {
          runId: run.id,
          error: tried.failed,
        })
    }
    if (outcome === null) {
      // after a failed data-parallel attempt, what is left of the limit (nothing used when there was none)
      const left = args.timeLimitMs === undefined ? undefined : args.timeLimitMs - (now() - started)
      outcome = await args.runner.run(
        { ...base, ...(left !== undefined ? { timeLimitMs: Math.max(1, left) } : {}) },
        onEpoch,
        args.signal,
      )
    }
    const testAccuracy = outcome.testAccuracy ?? null
    trial = {
      ...trial,
      status: 'completed',
      valAccuracy: outcome.valAccuracy,
      valLoss: outcome.valLoss,
      trainTimeMs: outcome.trainTimeMs,
      ...(testAccuracy !== null ? { testAccuracy } : {}),
      ...(outcome.epochs !== undefined && outcome.epochs < train.epochs
        ? { proxy: { epochs: outcome.epochs } }
        : {}),
      finishedAt: iso(),
    }
    store.updateTrial(trial)
    emit({ event: 'trial.updated', payload: trial })
    saveRun({ finalTestAccuracy: testAccuracy })
  } catch (err) {
    const data = toErrorData(err)
    const cancelled = data.code === 'cancelled'
    trial = { ...trial, status: cancelled ? 'cancelled' : 'failed', error: data.message, finishedAt: iso() }
    store.updateTrial(trial)
    emit({ event: 'trial.updated', payload: trial })
    logger.warn('Final training did not finish', { runId: run.id, error: data.message })
  }
  return run
}
