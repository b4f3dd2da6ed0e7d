import type { Architecture, Dataset, SearchSpaceDef, Trial } from '../../../shared'
import { toErrorData } from '../../../shared'
import { shouldStopEarly } from '../../evaluate/learning-curve'
import { describeProxy, proxyArchitecture } from '../../evaluate/proxy'
import { chanceBand } from '../../evaluate/signal-check'
import type { EventSink, Logger, RunStore } from '../../ports'
import { ZeroCostPreRank } from '../../strategy/zero-cost'
import { countParams } from '../../space'
import type { EpochMetrics } from '../../evaluate/train'
import { runRanks } from '../data-parallel-job'
import type { TrialJob, TrialOutcome, TrialRunner } from '../types'
import type { SearchBudget } from './budget'
import type { RunJournal } from './journal'
import type { ProposalSource } from './proposals'
import type { SearchResults } from './results'

/** What one trial's life needs from the search around it. */
export interface TrialContext {
  journal: RunJournal
  store: RunStore
  emit: EventSink
  runner: TrialRunner
  proposals: ProposalSource
  results: SearchResults
  budget: SearchBudget
  space: SearchSpaceDef
  dataset: Dataset
  /** Seed of the trial in budget slot k (see createTrialSeeds). */
  seedFor: (slot: number) => number
  /** The search's signal: aborted on cancel, pause, the budget's end or a fatal error. */
  signal: AbortSignal
  pausing: () => boolean
  /** Ends the search 'failed' with `err` (a storage or dataset error). */
  failHard: (err: unknown) => void
  iso: () => string
  now: () => number
  logger: Logger
}

/**
 * One trial, from proposal to result: takes the next candidate, journals it queued then running, trains it
 * (a proxy network when the settings narrow it) with per-epoch rows and events, lets early stopping end a
 * hopeless one (never while the scores are at chance), and journals the outcome in one transaction with the
 * strategy's observation, the Pareto front and the run's counters: completed (then maybe the best), stopped
 * early (a result, never the best), failed (a dataset error ends the search) or cancelled (not a result, so
 * a resumed run trains it again). With `ranks` > 1 (a run's only trial) it trains data-parallel in that
 * many workers, or in one when the group fails.
 */
export async function runTrial(ctx: TrialContext, index: number, slot: number, ranks = 1): Promise<void> {
  const { journal, results, proposals, dataset } = ctx
  const runId = journal.run.id
  const config = journal.run.config
  const numClasses = dataset.classNames.length
  // zero-cost pre-ranking scores its round here without blocking the event loop (strategy/zero-cost.ts)
  if (proposals.strategy instanceof ZeroCostPreRank) await proposals.strategy.prepare()
  const { p, params, flops } = proposals.next()
  const { architecture, archHash: hash } = p
  const epochs = Math.max(1, Math.round(config.train.epochs * p.fidelity))
  const trainSettings = { ...config.train, epochs }
  const proxy = describeProxy(trainSettings, config.finalTraining?.epochs ?? config.train.epochs)
  const trainArch = proxyArchitecture(architecture, trainSettings, ctx.space, dataset.inputShape, numClasses)
  const trialStart = ctx.now()
  let trial: Trial = {
    id: `${runId}-t${index}`,
    runId,
    index,
    status: 'queued',
    architecture,
    archHash: hash,
    params,
    ...(p.zeroCostScore !== undefined ? { zeroCostScore: p.zeroCostScore } : {}),
    ...(proxy ? { proxy } : {}),
    valAccuracy: null,
    valLoss: null,
    trainTimeMs: null,
    error: null,
    startedAt: null,
    finishedAt: null,
  }
  journal.transaction((queue) => {
    journal.updateTrialIn(queue, trial, true)
    trial = { ...trial, status: 'running', startedAt: ctx.iso() }
    journal.updateTrialIn(queue, trial)
  })
  const job = {
    trialId: trial.id,
    runId,
    architecture: trainArch,
    dataset,
    train: trainSettings,
    seed: ctx.seedFor(slot),
  }
  // early stopping: a per-trial signal that the learning-curve check may abort (full-budget trials only)
  const trialCtl = new AbortController()
  const onAbort = (): void => trialCtl.abort()
  ctx.signal.addEventListener('abort', onAbort, { once: true })
  const curve: Array<{ accuracy: number; valAccuracy: number; valLoss: number }> = []
  let stopped: { reason: string; predicted: number } | null = null
  let outcome: Awaited<ReturnType<TrialRunner['run']>>
  const onEpoch = (e: EpochMetrics): void => {
    const epoch = { trialId: trial.id, runId, ...e }
    try {
      ctx.store.insertEpoch(epoch)
    } catch (storeErr) {
      ctx.failHard(storeErr)
      return
    }
    ctx.emit({ event: 'trial.epoch', payload: epoch })
    curve.push(e)
    // early stopping never acts while the scores are no signal (the signal check warns)
    if (config.earlyStop === undefined || p.fidelity < 1 || stopped !== null) return
    if (journal.run.signalWarning) return
    const decision = shouldStopEarly(
      curve.map((c) => c.valAccuracy),
      epochs,
      results.accuracies(),
      { ...config.earlyStop, floor: chanceBand(numClasses) },
    )
    if (decision.stop) {
      stopped = { reason: decision.reason!, predicted: decision.predicted }
      trialCtl.abort()
    }
  }
  try {
    outcome = await trainJob(ctx, job, trainArch, ranks, onEpoch, trialCtl.signal).finally(() =>
      ctx.signal.removeEventListener('abort', onAbort),
    )
  } catch (err) {
    const data = toErrorData(err)
    const stop = stopped as { reason: string; predicted: number } | null
    if (stop !== null && !ctx.signal.aborted && curve.length > 0) {
      // stopped early: a result (the strategy learns the predicted accuracy), never the best
      const last = curve[curve.length - 1]!
      journal.transaction((queue) => {
        trial = {
          ...trial,
          status: 'completed',
          valAccuracy: last.valAccuracy,
          valLoss: last.valLoss,
          stoppedEarly: true,
          stopReason: stop.reason,
          predictedAccuracy: stop.predicted,
          finishedAt: ctx.iso(),
        }
        journal.updateTrialIn(queue, trial)
        proposals.observe(p, stop.predicted)
        journal.updateRunIn(queue, { trialsCompleted: journal.run.trialsCompleted + 1 })
      })
      return
    }
    if (data.code === 'cancelled' || ctx.signal.aborted) {
      // not a result: the strategy is not told, so a resumed run proposes this candidate again
      journal.saveTrial({
        ...trial,
        status: 'cancelled',
        error: ctx.pausing() ? 'paused: trained again when the search resumes' : null,
        finishedAt: ctx.iso(),
      })
      return
    }
    ctx.logger.warn('Trial failed', { trialId: trial.id, error: data.message })
    journal.transaction((queue) => {
      trial = { ...trial, status: 'failed', error: data.message, finishedAt: ctx.iso() }
      journal.updateTrialIn(queue, trial)
      proposals.observe(p, null)
      journal.updateRunIn(queue, {
        trialsFailed: journal.run.trialsFailed + 1,
        backend: ctx.runner.backend()?.name ?? journal.run.backend,
      })
    })
    // the data is gone or changed: every further trial would fail the same way
    if (data.code === 'dataset_error') ctx.failHard(err)
    return
  }
  // a shortened (multi-fidelity) trial is not comparable with full ones, so it never becomes the best
  const full = p.fidelity >= 1
  if (full) {
    results.addFull({
      trialId: trial.id,
      valAccuracy: outcome.valAccuracy,
      valLoss: outcome.valLoss,
      // a narrowed proxy network has fewer weights than the candidate it scores
      params: trainArch === architecture ? outcome.params : params,
      flops,
      trainAccuracy: curve[curve.length - 1]?.accuracy ?? null,
    })
  } else results.partialTrialIds.push(trial.id)
  const front = full ? results.front(config.objectives?.secondary) : null
  const warning = full ? results.signalWarning() : (journal.run.signalWarning ?? null)
  if (warning !== null && !journal.run.signalWarning) ctx.logger.warn(warning, { runId })
  const result = outcome
  journal.transaction((queue) => {
    trial = {
      ...trial,
      status: 'completed',
      ...result,
      ...(trainArch !== architecture ? { params } : {}),
      finishedAt: ctx.iso(),
    }
    results.finished.set(trial.id, trial)
    ctx.budget.recordTrial(ctx.now() - trialStart)
    journal.updateTrialIn(queue, trial)
    proposals.observe(p, result.valAccuracy)
    if (front !== null) ctx.store.savePareto?.(runId, front)
    journal.updateRunIn(queue, {
      trialsCompleted: journal.run.trialsCompleted + 1,
      bestTrialId: results.best?.id ?? null,
      bestValAccuracy: results.best?.acc ?? null,
      backend: ctx.runner.backend()?.name ?? journal.run.backend,
      // absent until the check first warns, as a stored run without a warning reads back
      ...(warning !== null || journal.run.signalWarning != null ? { signalWarning: warning } : {}),
    })
  })
}

/**
 * Trains `job` on the context's runner: data-parallel in `ranks` workers when more than one (each learns from
 * its share of every batch), in one worker when that group fails for another reason than a cancel.
 */
async function trainJob(
  ctx: TrialContext,
  job: TrialJob,
  arch: Architecture,
  ranks: number,
  onEpoch: (e: EpochMetrics) => void,
  signal: AbortSignal,
): Promise<TrialOutcome> {
  if (ranks > 1) {
    // room for the gradients and the batch-norm statistics the ranks average (no more values than weights)
    const weights = countParams(arch, ctx.dataset.inputShape, ctx.dataset.classNames.length)
    const tried = await runRanks(ctx.runner, job, ranks, 2 * weights + 1024, onEpoch, signal)
    if ('outcome' in tried) return tried.outcome
    ctx.logger.warn('Data-parallel trial failed; training it in one worker', {
      trialId: job.trialId,
      error: tried.failed,
    })
  }
  return ctx.runner.run(job, onEpoch, signal)
}
