import type { Dataset, Run, SearchSpaceDef } from '../../shared'
import { NasError, toErrorData } from '../../shared'
import { initHostCompute } from '../compute/backend'
import type { Clock, EventSink, Logger, RunStore } from '../ports'
import { silentLogger, systemClock } from '../ports'
import { Rng } from '../rng'
import { validateSpace } from '../space'
import type { OneShotSettings } from '../strategy/darts'
import { createStrategy, isBlackBox } from '../strategy'
import { withZeroCostPreRanking } from '../strategy/zero-cost'
import type { SearchStrategy } from '../strategy'
import { ranksFor } from './data-parallel-job'
import { trainFinalModel } from './final-training'
import { SearchBudget } from './search/budget'
import { oneShotRecipe } from './search/one-shot-recipe'
import { RunJournal } from './search/journal'
import { findOneShotArchitecture } from './search/one-shot'
import { ProposalSource } from './search/proposals'
import { SearchResults } from './search/results'
import { restoreResults } from './search/resume'
import type { ResumeFrom } from './search/resume'
import { runTrial } from './search/trial'
import { runSeedCheck } from './search/seed-check'
import type { TrialRunner } from './types'

export type { ResumeFrom } from './search/resume'

/**
 * Seed of the trial in budget slot `slot` (0-based count of results before it) of a run seeded `runSeed`:
 * the slot-th draw of its own stream, so it does not depend on how many draws a proposal took, nor on
 * whether the run was paused or interrupted before that slot.
 */
export function createTrialSeeds(runSeed: number): (slot: number) => number {
  let rng = new Rng(runSeed + 1)
  let drawn: number[] = []
  return (slot) => {
    if (drawn.length > 4096) {
      // long runs: keep memory bounded by restarting the stream when an old slot is asked again
      drawn = []
      rng = new Rng(runSeed + 1)
    }
    while (drawn.length <= slot) drawn.push(rng.seed())
    return drawn[slot]!
  }
}

/** Everything one search needs; `run` arrives with status 'queued'. */
export interface RunSearchOptions {
  run: Run
  space: SearchSpaceDef
  dataset: Dataset
  store: RunStore
  runner: TrialRunner
  /**
   * Trains the winner's final training; default `runner`. Why: a final training may train data-parallel in
   * workers that share memory, so it needs this machine's workers even when trials went to a remote queue.
   */
  finalRunner?: TrialRunner
  emit: EventSink
  clock?: Clock
  logger?: Logger
  signal?: AbortSignal
  /** A strategy state saved by an earlier run of the same config (store.saveStrategyState): continue it. */
  resumeState?: unknown
  /** Sizes of a DARTS / PC-DARTS search (default DEFAULT_ONE_SHOT; tests make it smaller). */
  oneShotSettings?: Partial<OneShotSettings>
  /** Continue a paused or interrupted run from its stored trials, strategy state and time spent. */
  resume?: ResumeFrom
  /**
   * Aborting it pauses the run: no new trials, the ones training are cancelled (not observed, so a resume
   * trains them again), and the run ends 'paused' (unless every trial had finished: then 'completed').
   */
  pause?: AbortSignal
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
 * params or FLOPs) after each completed trial. A finished trial's rows (trial, strategy state, Pareto front,
 * run counters, time spent) are written in one store transaction. A failed trial never stops the search,
 * except a dataset error (the data is gone or changed) or a storage error (nothing could be saved): those
 * end it 'failed' with the reason. Ends 'completed'; 'paused' when `pause` aborts; 'cancelled' when
 * `signal` aborts; 'failed' with `run.error` for an unexpected error.
 * With `run.config.seedCheck`, the best few are then trained again with a second seed when the search's share of
 * the time allows (the budget keeps room for it), the verdict is stored on the run (run.seedCheck) and the
 * final training trains the candidate with the best mean over both seeds.
 * Trial i of budget slot k (k = results before it) trains with seed createTrialSeeds(seed)(k), so with
 * `resume` and concurrency 1 the remaining trajectory is the one an uninterrupted run would have taken.
 */
export async function runSearch(opts: RunSearchOptions): Promise<Run> {
  const { store, runner, emit, dataset } = opts
  const clock = opts.clock ?? systemClock
  const logger = opts.logger ?? silentLogger
  const iso = (): string => new Date(clock.now()).toISOString()
  const config = opts.run.config
  const journal = new RunJournal(store, emit, opts.run)
  const runId = opts.run.id

  const inner = new AbortController()
  const onAbort = (): void => inner.abort()
  opts.signal?.addEventListener('abort', onAbort, { once: true })
  let pausing = false
  const onPause = (): void => {
    pausing = true
    inner.abort()
  }
  opts.pause?.addEventListener('abort', onPause, { once: true })
  if (opts.pause?.aborted) onPause()
  /** The first storage or dataset error: the search stops and ends 'failed' with it. */
  let fatal: unknown = null
  const failHard = (err: unknown): void => {
    fatal ??= err
    inner.abort()
  }
  const inFlight = new Set<Promise<void>>()
  // a resumed run continues its clock: time already spent counts against the budget
  const budget = new SearchBudget(config, clock, opts.resume?.checkpoint?.budgetUsedMs ?? 0)

  try {
    const resume = opts.resume
    if (resume && !isBlackBox(config.strategy)) {
      throw new NasError(
        'conflict',
        `A ${config.strategy} search cannot be resumed: its weight-sharing network is kept only in memory. Run it again with the same settings.`,
      )
    }
    journal.saveRun({
      status: 'running',
      startedAt: journal.run.startedAt ?? iso(),
      finishedAt: null,
      error: null,
    })
    validateSpace(opts.space, dataset.inputShape)
    const numClasses = dataset.classNames.length
    const seedFor = createTrialSeeds(config.seed)
    const results = new SearchResults(numClasses, [...(resume?.checkpoint?.partialTrialIds ?? [])])
    budget.start(() => {
      logger.info('Time budget spent', { runId, minutes: config.budgetMinutes })
      inner.abort()
    })

    const saveCheckpoint = (state: unknown): void => {
      if (store.saveCheckpoint)
        store.saveCheckpoint(runId, {
          strategy: state,
          budgetUsedMs: budget.usedMs(),
          partialTrialIds: results.partialTrialIds,
        })
      else store.saveStrategyState?.(runId, state)
    }
    const proposals = await makeProposals(opts, inner.signal, logger, saveCheckpoint, budget.searchLeftMs())
    const maxTrials = proposals.strategy === null ? 1 : config.maxTrials

    let nextIndex = 0
    /** Budget slots taken: trials that ended completed or failed, plus those in flight. */
    let nextSlot = 0
    if (resume) {
      ;({ nextIndex, nextSlot } = restoreResults(resume, journal, results, dataset, iso))
      logger.info('Resuming run', { runId, results: nextSlot, nextIndex })
    }

    const ctx = {
      journal,
      store,
      emit,
      runner,
      proposals,
      results,
      budget,
      space: opts.space,
      dataset,
      seedFor,
      signal: inner.signal,
      pausing: () => pausing,
      failHard,
      iso,
      now: () => clock.now(),
      logger,
    }
    const launch = (): void => {
      // the run's only trial (the network a one-shot search derived, a one-trial search) takes the run's
      // other workers too, data-parallel. Not the last trial of a longer search, though it may end up alone:
      // whether it does depends on timing, and data-parallel training learns from other batches (each rank
      // from its share of the epoch), so its score would change from one run of the same seed to the next
      const ranks = maxTrials === 1 ? ranksFor(runner, config.concurrency) : 1
      const p: Promise<void> = runTrial(ctx, nextIndex++, nextSlot++, ranks).finally(() => inFlight.delete(p))
      inFlight.add(p)
    }
    try {
      while (!inner.signal.aborted && (nextSlot < maxTrials || inFlight.size > 0)) {
        while (
          !inner.signal.aborted &&
          budget.timeLeft() &&
          budget.fitsBeforeFinal() &&
          inFlight.size < config.concurrency &&
          nextSlot < maxTrials
        )
          launch()
        if (inFlight.size > 0) await Promise.race(inFlight)
        else if (!budget.timeLeft() || !budget.fitsBeforeFinal()) break
      }
      await Promise.all(inFlight)
    } finally {
      budget.stop()
    }
    if (fatal !== null) throw fatal
    if (budget.spent) logger.info('Search stopped by its time budget', { runId })
    let winner = results.winner()
    if (config.seedCheck !== undefined && !opts.signal?.aborted && !pausing) {
      const left = budget.searchLeftMs()
      const seedCheck = await runSeedCheck({
        runId,
        config,
        top: results.top(config.seedCheck.candidates),
        space: opts.space,
        dataset,
        runner,
        // after the final training's seed (slot nextSlot), so no trial shares one
        seedFor: (i) => seedFor(nextSlot + 1 + i),
        ...(Number.isFinite(left) ? { timeLeftMs: left } : {}),
        trialMs: budget.meanTrialMs(),
        signal: inner.signal,
        logger,
        onProgress: (running) => journal.saveRun({ seedCheck: running }),
      })
      // a check cancelled half-way must not stay stored as running
      if (seedCheck === null && journal.run.seedCheck) journal.saveRun({ seedCheck: undefined })
      if (seedCheck !== null) {
        journal.saveRun({ seedCheck })
        // the mean over two seeds is the steadier estimate: the final training trains that pick
        winner = (seedCheck.pickedTrialId && results.finished.get(seedCheck.pickedTrialId)) || winner
      }
    }
    if (config.finalTraining !== undefined && winner && !opts.signal?.aborted && !pausing) {
      const timeLimitMs = budget.finalTimeLimitMs()
      journal.run = await trainFinalModel({
        run: journal.run,
        winner,
        index: nextIndex++,
        seed: seedFor(nextSlot),
        dataset,
        runner: opts.finalRunner ?? runner,
        store,
        emit,
        iso,
        now: () => clock.now(),
        logger,
        workers: Math.min(config.finalTraining.workers ?? 1, config.concurrency),
        ...(timeLimitMs !== undefined ? { timeLimitMs } : {}),
        ...(opts.signal ? { signal: opts.signal } : {}),
      })
    }
    const run = journal.run
    const finished = run.trialsCompleted + run.trialsFailed >= maxTrials
    const status = opts.signal?.aborted
      ? 'cancelled'
      : pausing && !finished && !budget.spent
        ? 'paused'
        : 'completed'
    journal.transaction((queue) => {
      if (proposals.strategy !== null && store.saveCheckpoint) saveCheckpoint(proposals.strategy.saveState())
      journal.updateRunIn(queue, { status, finishedAt: iso() })
    })
    logger.info('Search finished', { runId, status, best: journal.run.bestValAccuracy })
    return journal.run
  } catch (err) {
    inner.abort()
    await Promise.allSettled(inFlight)
    const data = toErrorData(fatal ?? err)
    logger.error('Search failed', { runId, error: data.message })
    const message =
      (fatal ?? err) instanceof NasError || data.code !== 'internal'
        ? data.message
        : `Unexpected error: ${data.message}`
    try {
      journal.saveRun({ status: 'failed', error: message, finishedAt: iso() })
    } catch (saveErr) {
      // The database itself refuses writes (disk full, locked, read-only): the run stays 'running' there,
      // so the next start marks it interrupted and it can be resumed once the cause is fixed.
      logger.error('Could not record the failed run', { runId, error: toErrorData(saveErr).message })
      journal.run = { ...journal.run, status: 'failed', error: message, finishedAt: iso() }
      emit({ event: 'run.updated', payload: journal.run })
    }
    return journal.run
  } finally {
    budget.stop()
    opts.signal?.removeEventListener('abort', onAbort)
    opts.pause?.removeEventListener('abort', onPause)
  }
}

/**
 * Where the run's candidates come from: its black-box strategy (seeded, zero-cost pre-ranked when asked,
 * restored from a resume checkpoint or a saved state), or the one architecture a one-shot search derives.
 */
async function makeProposals(
  opts: RunSearchOptions,
  signal: AbortSignal,
  logger: Logger,
  saveCheckpoint: (state: unknown) => void,
  searchLeftMs: number,
): Promise<ProposalSource> {
  const { run, dataset } = opts
  const config = run.config
  if (isBlackBox(config.strategy)) {
    if (config.strategy === 'reinforce') await initHostCompute(logger)
    const ctx = {
      space: opts.space,
      inputShape: dataset.inputShape,
      numClasses: dataset.classNames.length,
      seed: config.seed,
    }
    const strategy: SearchStrategy = await withZeroCostPreRanking(
      createStrategy(config.strategy, ctx),
      config,
      dataset,
      logger,
    )
    const saved = opts.resume ? opts.resume.checkpoint?.strategy : opts.resumeState
    if (saved !== undefined && saved !== null) strategy.restoreState(saved)
    return new ProposalSource(strategy, null, config, dataset.inputShape, saveCheckpoint)
  }
  const found = await findOneShotArchitecture({
    run,
    space: opts.space,
    dataset,
    store: opts.store,
    runners: [opts.finalRunner, opts.runner],
    settings: oneShotRecipe(config.strategy as 'darts' | 'pc-darts', searchLeftMs, opts.oneShotSettings),
    signal,
    logger,
  })
  return new ProposalSource(null, found, config, dataset.inputShape, saveCheckpoint)
}
