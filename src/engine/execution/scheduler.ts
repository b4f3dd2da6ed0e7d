import type { Dataset, ParetoPoint, Run, SearchSpaceDef, Trial } from '../../shared'
import { NasError, toErrorData } from '../../shared'
import { initCompute } from '../compute/backend'
import { loadDataset } from '../data/bundled'
import { candidateCost, constraintViolation, paretoFront } from '../evaluate/objectives'
import type { Clock, EventSink, Logger, RunStore } from '../ports'
import { silentLogger, systemClock } from '../ports'
import { Rng } from '../rng'
import { archHash, validateSpace } from '../space'
import { searchOneShot } from '../strategy/darts'
import { createStrategy, isBlackBox } from '../strategy'
import type { Proposal, SearchStrategy } from '../strategy'
import type { TrialRunner } from './types'

/** Proposals a hard constraint may reject in a row before the search gives up on the space. */
const MAX_REJECTED_IN_A_ROW = 500

/** Everything one search needs; `run` arrives with status 'queued'. */
export interface RunSearchOptions {
  run: Run
  space: SearchSpaceDef
  dataset: Dataset
  store: RunStore
  runner: TrialRunner
  emit: EventSink
  clock?: Clock
  logger?: Logger
  signal?: AbortSignal
  /** A strategy state saved by an earlier run of the same config (store.saveStrategyState): continue it. */
  resumeState?: unknown
}

/**
 * Runs one search to its end and resolves with the final Run (never rejects for trial or search errors).
 * Black-box strategies (run.config.strategy, seeded with run.config.seed): proposes up to
 * `run.config.maxTrials` candidates, keeps up to `run.config.concurrency` trials in flight on `runner`, and
 * stops launching when `run.config.budgetMinutes` have passed (trials still training then are cancelled and
 * the run completes). A candidate breaking a hard limit of `run.config.objectives` is never trained: the
 * strategy is told it failed and proposes another. One-shot strategies (darts, pc-darts) first train a
 * supernet here (architecture weights journalled per epoch), then train the derived network as trial 0.
 * Everything is journalled: each store write is followed by emitting the same object ('trial.updated',
 * 'trial.epoch', 'run.updated'); the strategy state after each result and the Pareto front (accuracy vs
 * params or FLOPs) after each completed trial. A failed trial never stops the search. Ends 'completed';
 * 'cancelled' when `signal` aborts; 'failed' with `run.error` for an unexpected error.
 */
export async function runSearch(opts: RunSearchOptions): Promise<Run> {
  const { store, runner, emit, dataset } = opts
  const clock = opts.clock ?? systemClock
  const logger = opts.logger ?? silentLogger
  const iso = (): string => new Date(clock.now()).toISOString()
  const config = opts.run.config
  let run: Run = opts.run

  const saveRun = (patch: Partial<Run>): void => {
    run = { ...run, ...patch }
    store.updateRun(run)
    emit({ event: 'run.updated', payload: run })
  }
  const saveTrial = (trial: Trial, insert = false): void => {
    if (insert) store.insertTrial(trial)
    else store.updateTrial(trial)
    emit({ event: 'trial.updated', payload: trial })
  }

  const inner = new AbortController()
  const onAbort = (): void => inner.abort()
  opts.signal?.addEventListener('abort', onAbort, { once: true })
  const inFlight = new Set<Promise<void>>()
  let budgetTimer: NodeJS.Timeout | undefined

  try {
    saveRun({ status: 'running', startedAt: iso(), error: null })
    validateSpace(opts.space, dataset.inputShape)
    const numClasses = dataset.classNames.length
    const ctx = { space: opts.space, inputShape: dataset.inputShape, numClasses, seed: config.seed }
    // trial seeds come from their own stream so they do not depend on how many draws a proposal took
    const seeds = new Rng(config.seed + 1)
    let nextIndex = 0
    let best: { id: string; acc: number } | null = null
    const completed: ParetoPoint[] = []
    const startedAt = clock.now()
    let budgetSpent = false
    if (config.budgetMinutes !== undefined) {
      budgetTimer = setTimeout(() => {
        budgetSpent = true
        logger.info('Time budget spent', { runId: run.id, minutes: config.budgetMinutes })
        inner.abort()
      }, config.budgetMinutes * 60_000)
    }
    const timeLeft = (): boolean =>
      config.budgetMinutes === undefined || clock.now() - startedAt < config.budgetMinutes * 60_000

    let strategy: SearchStrategy | null = null
    let oneShot: Proposal | null = null
    let maxTrials = config.maxTrials
    if (isBlackBox(config.strategy)) {
      if (config.strategy === 'reinforce') await initCompute(logger)
      strategy = createStrategy(config.strategy, ctx)
      if (opts.resumeState !== undefined) strategy.restoreState(opts.resumeState)
    } else {
      await initCompute(logger)
      const data = await loadDataset(dataset, {
        validationFraction: config.train.validationFraction,
        seed: 0,
      })
      const found = await searchOneShot({
        method: config.strategy,
        space: opts.space,
        data,
        seed: config.seed,
        signal: inner.signal,
        onSnapshot: (snap) => store.insertAlphaSnapshot?.({ ...snap, runId: run.id }),
        logger,
      })
      oneShot = { architecture: found.architecture, archHash: archHash(found.architecture), fidelity: 1 }
      maxTrials = 1
    }

    /** The next candidate that respects the hard limits, with its cost; rejected ones are fed back as failures. */
    const nextProposal = (): { p: Proposal; params: number; flops: number } => {
      if (oneShot !== null) return { p: oneShot, ...candidateCost(oneShot.architecture, dataset.inputShape) }
      for (let i = 0; i < MAX_REJECTED_IN_A_ROW; i++) {
        const p = strategy!.propose()
        const cost = candidateCost(p.architecture, dataset.inputShape)
        const why = constraintViolation(cost, config.objectives)
        if (why === null) return { p, ...cost }
        strategy!.observe({
          architecture: p.architecture,
          archHash: p.archHash,
          valAccuracy: null,
          fidelity: p.fidelity,
        })
      }
      throw new NasError(
        'invalid_space',
        `None of ${MAX_REJECTED_IN_A_ROW} candidates in a row respects the limits (${constraintViolation(
          { params: Infinity, flops: Infinity },
          config.objectives,
        )?.replace(/^Infinity \S+ exceed/, 'at most')}). Raise the limit or choose a smaller search space.`,
      )
    }
    const observe = (p: Proposal, valAccuracy: number | null): void => {
      if (strategy === null) return
      strategy.observe({
        architecture: p.architecture,
        archHash: p.archHash,
        valAccuracy,
        fidelity: p.fidelity,
      })
      store.saveStrategyState?.(run.id, strategy.saveState())
    }

    const runTrial = async (index: number): Promise<void> => {
      const { p, params, flops } = nextProposal()
      const { architecture, archHash: hash } = p
      const epochs = Math.max(1, Math.round(config.train.epochs * p.fidelity))
      const seed = seeds.seed()
      let trial: Trial = {
        id: `${run.id}-t${index}`,
        runId: run.id,
        index,
        status: 'queued',
        architecture,
        archHash: hash,
        params,
        valAccuracy: null,
        valLoss: null,
        trainTimeMs: null,
        error: null,
        startedAt: null,
        finishedAt: null,
      }
      saveTrial(trial, true)
      trial = { ...trial, status: 'running', startedAt: iso() }
      saveTrial(trial)
      const job = {
        trialId: trial.id,
        runId: run.id,
        architecture,
        dataset,
        train: { ...config.train, epochs },
        seed,
      }
      try {
        const outcome = await runner.run(
          job,
          (e) => {
            const epoch = { trialId: trial.id, runId: run.id, ...e }
            store.insertEpoch(epoch)
            emit({ event: 'trial.epoch', payload: epoch })
          },
          inner.signal,
        )
        trial = { ...trial, status: 'completed', ...outcome, finishedAt: iso() }
        saveTrial(trial)
        observe(p, outcome.valAccuracy)
        // a shortened (multi-fidelity) trial is not comparable with full ones, so it never becomes the best
        if (p.fidelity >= 1) {
          if (best === null || outcome.valAccuracy > best.acc)
            best = { id: trial.id, acc: outcome.valAccuracy }
          completed.push({
            trialId: trial.id,
            valAccuracy: outcome.valAccuracy,
            params: outcome.params,
            flops,
          })
          store.savePareto?.(run.id, paretoFront(completed, config.objectives?.secondary))
        }
        saveRun({
          trialsCompleted: run.trialsCompleted + 1,
          bestTrialId: best?.id ?? null,
          bestValAccuracy: best?.acc ?? null,
          backend: runner.backend()?.name ?? run.backend,
        })
      } catch (err) {
        const data = toErrorData(err)
        const wasCancelled = data.code === 'cancelled' || inner.signal.aborted
        trial = {
          ...trial,
          status: wasCancelled ? 'cancelled' : 'failed',
          error: wasCancelled ? null : data.message,
          finishedAt: iso(),
        }
        saveTrial(trial)
        observe(p, null)
        if (!wasCancelled) {
          logger.warn('Trial failed', { trialId: trial.id, error: data.message })
          saveRun({ trialsFailed: run.trialsFailed + 1, backend: runner.backend()?.name ?? run.backend })
        }
      }
    }

    const launch = (): void => {
      const index = nextIndex++
      const p: Promise<void> = runTrial(index).finally(() => inFlight.delete(p))
      inFlight.add(p)
    }
    try {
      while (!inner.signal.aborted && (nextIndex < maxTrials || inFlight.size > 0)) {
        while (
          !inner.signal.aborted &&
          timeLeft() &&
          inFlight.size < config.concurrency &&
          nextIndex < maxTrials
        )
          launch()
        if (inFlight.size > 0) await Promise.race(inFlight)
        else if (!timeLeft()) break
      }
      await Promise.all(inFlight)
    } finally {
      clearTimeout(budgetTimer)
    }
    if (budgetSpent) logger.info('Search stopped by its time budget', { runId: run.id })
    if (opts.signal?.aborted) {
      saveRun({ status: 'cancelled', finishedAt: iso() })
    } else {
      saveRun({ status: 'completed', finishedAt: iso() })
    }
    logger.info('Search finished', { runId: run.id, status: run.status, best: run.bestValAccuracy })
    return run
  } catch (err) {
    inner.abort()
    await Promise.allSettled(inFlight)
    const data = toErrorData(err)
    logger.error('Search failed', { runId: run.id, error: data.message })
    const message =
      err instanceof NasError || data.code !== 'internal' ? data.message : `Unexpected error: ${data.message}`
    saveRun({ status: 'failed', error: message, finishedAt: iso() })
    return run
  } finally {
    clearTimeout(budgetTimer)
    opts.signal?.removeEventListener('abort', onAbort)
  }
}
