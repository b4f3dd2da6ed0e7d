import type { Dataset, EventMessage, ParetoPoint, Run, SearchSpaceDef, Trial } from '../../shared'
import { NasError, isBetterResult, paretoFront, toErrorData } from '../../shared'
import { initCompute } from '../compute/backend'
import { loadDataset } from '../data/load'
import { shouldStopEarly } from '../evaluate/learning-curve'
import { candidateCost, constraintViolation } from '../evaluate/objectives'
import { describeProxy, proxyArchitecture } from '../evaluate/proxy'
import { chanceBand, checkSignal } from '../evaluate/signal-check'
import type { CandidateScore } from '../evaluate/signal-check'
import type { Clock, EventSink, Logger, RunCheckpoint, RunStore } from '../ports'
import { silentLogger, systemClock } from '../ports'
import { Rng } from '../rng'
import { archHash, validateSpace } from '../space'
import { searchOneShot } from '../strategy/darts'
import type { OneShotSettings } from '../strategy/darts'
import { createStrategy, isBlackBox } from '../strategy'
import { withZeroCostPreRanking, ZeroCostPreRank } from '../strategy/zero-cost'
import type { Proposal, SearchStrategy } from '../strategy'
import { trainFinalModel } from './final-training'
import type { OneShotFound, OneShotSnapshot, TrialRunner } from './types'

/** Time (ms) the final training leaves of the run's budget for scoring the test split and shutting down. */
const FINAL_SCORING_MARGIN_MS = 15_000

/** Proposals a hard constraint may reject in a row before the search gives up on the space. */
const MAX_REJECTED_IN_A_ROW = 500

/** What a resumed run continues from: what its earlier session(s) stored. */
export interface ResumeFrom {
  /** The run's stored trials, any status; ones left 'queued' or 'running' are marked cancelled first. */
  trials: Trial[]
  /** The checkpoint saved with the last result (store.saveCheckpoint), or null if none was saved. */
  checkpoint: RunCheckpoint | null
}

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
 * Trial i of budget slot k (k = results before it) trains with seed createTrialSeeds(seed)(k), so with
 * `resume` and concurrency 1 the remaining trajectory is the one an uninterrupted run would have taken.
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
  /** Runs `fn` as one store transaction; the events it queues go out only once it has committed. */
  const journal = (fn: (queue: (m: EventMessage) => void) => void): void => {
    const queued: EventMessage[] = []
    const body = (): void => fn((m) => queued.push(m))
    if (store.transaction) store.transaction(body)
    else body()
    for (const m of queued) emit(m)
  }

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
  let budgetTimer: NodeJS.Timeout | undefined

  try {
    const resume = opts.resume
    if (resume && !isBlackBox(config.strategy)) {
      throw new NasError(
        'conflict',
        `A ${config.strategy} search cannot be resumed: its weight-sharing network is kept only in memory. Run it again with the same settings.`,
      )
    }
    saveRun({ status: 'running', startedAt: run.startedAt ?? iso(), finishedAt: null, error: null })
    validateSpace(opts.space, dataset.inputShape)
    const numClasses = dataset.classNames.length
    const ctx = { space: opts.space, inputShape: dataset.inputShape, numClasses, seed: config.seed }
    const seedFor = createTrialSeeds(config.seed)
    let nextIndex = 0
    /** Budget slots taken: trials that ended completed or failed, plus those in flight. */
    let nextSlot = 0
    let best: { id: string; acc: number; loss: number | null; params: number } | null = null
    /** Whether `t` beats the best so far (ties: lower validation loss, then fewer weights). */
    const beatsBest = (t: { valAccuracy: number; valLoss: number | null; params: number }): boolean =>
      best === null || isBetterResult(t, { valAccuracy: best.acc, valLoss: best.loss, params: best.params })
    const completed: ParetoPoint[] = []
    /** Scores of fully trained candidates, for the signal check. */
    const scores: CandidateScore[] = []
    /** The signal check's verdict on `scores` (logged once when it first warns). */
    const signalWarning = (): string | null => {
      const warning = checkSignal(scores, numClasses)
      if (warning !== null && !run.signalWarning) logger.warn(warning, { runId: run.id })
      return warning
    }
    // a resumed run continues its clock: time already spent counts against the budget
    const startedAt = clock.now() - (resume?.checkpoint?.budgetUsedMs ?? 0)
    /** Completed trials trained with less than the full budget (never the best; kept for a resume). */
    const partialTrialIds = [...(resume?.checkpoint?.partialTrialIds ?? [])]
    const usedMs = (): number => clock.now() - startedAt
    let budgetSpent = false
    // final training keeps its share of the time budget: the search itself stops that much earlier
    const reserveMs =
      config.finalTraining !== undefined ? (config.finalTraining.reserveMinutes ?? 0) * 60_000 : 0
    /** The search's own share of the time budget (ms): all of it but the final training's reserve. */
    const searchBudgetMs =
      config.budgetMinutes === undefined ? Infinity : config.budgetMinutes * 60_000 - reserveMs
    /** Completed trials by id (the final training looks its winner up here). */
    const finishedTrials = new Map<string, Trial>()
    /** Wall-clock ms of each fully trained trial of this session. */
    const trialWallMs: number[] = []
    /**
     * With final training under a time budget, a trial is only started when a trial of average length still
     * fits in the search's share: one cancelled at the deadline would be wasted, and the final training gets
     * the time instead.
     */
    const fitsBeforeFinal = (): boolean => {
      if (config.finalTraining === undefined || config.budgetMinutes === undefined) return true
      if (trialWallMs.length === 0) return true
      const mean = trialWallMs.reduce((a, b) => a + b, 0) / trialWallMs.length
      return searchBudgetMs - usedMs() >= mean
    }
    if (config.budgetMinutes !== undefined) {
      budgetTimer = setTimeout(
        () => {
          budgetSpent = true
          logger.info('Time budget spent', { runId: run.id, minutes: config.budgetMinutes })
          inner.abort()
        },
        Math.max(0, searchBudgetMs - usedMs()),
      )
    }
    const timeLeft = (): boolean => usedMs() < searchBudgetMs

    let strategy: SearchStrategy | null = null
    let oneShot: Proposal | null = null
    let maxTrials = config.maxTrials
    if (isBlackBox(config.strategy)) {
      if (config.strategy === 'reinforce') await initCompute(logger)
      strategy = await withZeroCostPreRanking(createStrategy(config.strategy, ctx), config, dataset, logger)
      const saved = resume ? resume.checkpoint?.strategy : opts.resumeState
      if (saved !== undefined && saved !== null) strategy.restoreState(saved)
    } else {
      const onSnapshot = (snap: OneShotSnapshot): void =>
        store.insertAlphaSnapshot?.({ ...snap, runId: run.id })
      // why a worker: the weight-sharing network trains for minutes in long synchronous steps (seconds each on
      // the DARTS cell space); in this process they would freeze the app's answers to the UI meanwhile. This
      // machine's workers (finalRunner) also serve when trials go to a Redis queue.
      const local = [opts.finalRunner, runner].find((r) => r?.searchOneShot !== undefined)
      let found: OneShotFound
      if (local?.searchOneShot) {
        logger.info(`${config.strategy} search runs in a worker thread`, { runId: run.id })
        found = await local.searchOneShot(
          {
            id: `${run.id}-one-shot`,
            runId: run.id,
            method: config.strategy,
            space: opts.space,
            dataset,
            validationFraction: config.train.validationFraction,
            seed: config.seed,
            ...(opts.oneShotSettings ? { settings: opts.oneShotSettings } : {}),
          },
          onSnapshot,
          inner.signal,
        )
      } else {
        await initCompute(logger)
        const data = await loadDataset(dataset, {
          validationFraction: config.train.validationFraction,
          seed: 0,
        })
        found = await searchOneShot({
          method: config.strategy,
          space: opts.space,
          data,
          seed: config.seed,
          signal: inner.signal,
          ...(opts.oneShotSettings ? { settings: opts.oneShotSettings } : {}),
          onSnapshot,
          logger,
        })
      }
      oneShot = { architecture: found.architecture, archHash: archHash(found.architecture), fidelity: 1 }
      maxTrials = 1
    }

    if (resume) {
      // trials in flight when the run stopped are not results: cancel them; the strategy proposes them again
      const stale = resume.trials.filter((t) => t.status === 'queued' || t.status === 'running')
      journal((queue) => {
        for (const t of stale) {
          const cancelled: Trial = {
            ...t,
            status: 'cancelled',
            error: 'interrupted: the run stopped while this trial was training; it was trained again',
            finishedAt: t.finishedAt ?? iso(),
          }
          store.updateTrial(cancelled)
          queue({ event: 'trial.updated', payload: cancelled })
        }
      })
      let done = 0
      let failed = 0
      for (const t of resume.trials) {
        nextIndex = Math.max(nextIndex, t.index + 1)
        // the winner's final training is not a search result (it is redone if it did not finish)
        if (t.isFinal) continue
        if (t.status === 'failed') failed++
        if (t.status !== 'completed' || t.valAccuracy === null) continue
        finishedTrials.set(t.id, t)
        done++
        // as in an uninterrupted run: shortened and early-stopped trials never become the best
        if (partialTrialIds.includes(t.id) || t.stoppedEarly) continue
        scores.push({ valAccuracy: t.valAccuracy, trainAccuracy: null })
        if (beatsBest({ valAccuracy: t.valAccuracy, valLoss: t.valLoss, params: t.params }))
          best = { id: t.id, acc: t.valAccuracy, loss: t.valLoss, params: t.params }
        const { flops } = candidateCost(t.architecture, dataset.inputShape)
        completed.push({ trialId: t.id, valAccuracy: t.valAccuracy, params: t.params, flops })
      }
      nextSlot = done + failed
      saveRun({
        trialsCompleted: done,
        trialsFailed: failed,
        bestTrialId: best?.id ?? null,
        bestValAccuracy: best?.acc ?? null,
        signalWarning: checkSignal(scores, numClasses),
      })
      logger.info('Resuming run', { runId: run.id, results: nextSlot, nextIndex })
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
    /** Tells the strategy a result and saves the resume checkpoint (inside the result's transaction). */
    const observe = (p: Proposal, valAccuracy: number | null): void => {
      if (strategy === null) return
      strategy.observe({
        architecture: p.architecture,
        archHash: p.archHash,
        valAccuracy,
        fidelity: p.fidelity,
      })
      const state = strategy.saveState()
      if (store.saveCheckpoint)
        store.saveCheckpoint(run.id, { strategy: state, budgetUsedMs: usedMs(), partialTrialIds })
      else store.saveStrategyState?.(run.id, state)
    }

    const runTrial = async (index: number, slot: number): Promise<void> => {
      // zero-cost pre-ranking scores its round here without blocking the event loop (strategy/zero-cost.ts)
      if (strategy instanceof ZeroCostPreRank) await strategy.prepare()
      const { p, params, flops } = nextProposal()
      const { architecture, archHash: hash } = p
      const epochs = Math.max(1, Math.round(config.train.epochs * p.fidelity))
      const trainSettings = { ...config.train, epochs }
      const proxy = describeProxy(trainSettings, config.finalTraining?.epochs ?? config.train.epochs)
      const trainArch = proxyArchitecture(
        architecture,
        trainSettings,
        opts.space,
        dataset.inputShape,
        numClasses,
      )
      const seed = seedFor(slot)
      const trialStart = clock.now()
      let trial: Trial = {
        id: `${run.id}-t${index}`,
        runId: run.id,
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
      journal((queue) => {
        store.insertTrial(trial)
        queue({ event: 'trial.updated', payload: trial })
        trial = { ...trial, status: 'running', startedAt: iso() }
        store.updateTrial(trial)
        queue({ event: 'trial.updated', payload: trial })
      })
      const job = {
        trialId: trial.id,
        runId: run.id,
        architecture: trainArch,
        dataset,
        train: trainSettings,
        seed,
      }
      // early stopping: a per-trial signal that the learning-curve check may abort (full-budget trials only)
      const trialCtl = new AbortController()
      const onInnerAbort = (): void => trialCtl.abort()
      inner.signal.addEventListener('abort', onInnerAbort, { once: true })
      const curve: Array<{ accuracy: number; valAccuracy: number; valLoss: number }> = []
      let stopped: { reason: string; predicted: number } | null = null
      let outcome: Awaited<ReturnType<TrialRunner['run']>>
      try {
        outcome = await runner
          .run(
            job,
            (e) => {
              const epoch = { trialId: trial.id, runId: run.id, ...e }
              try {
                store.insertEpoch(epoch)
              } catch (storeErr) {
                failHard(storeErr)
                return
              }
              emit({ event: 'trial.epoch', payload: epoch })
              curve.push(e)
              // early stopping never acts while the scores are no signal (the signal check warns)
              if (config.earlyStop === undefined || p.fidelity < 1 || stopped !== null) return
              if (run.signalWarning) return
              const decision = shouldStopEarly(
                curve.map((c) => c.valAccuracy),
                epochs,
                completed.map((c) => c.valAccuracy),
                { ...config.earlyStop, floor: chanceBand(numClasses) },
              )
              if (decision.stop) {
                stopped = { reason: decision.reason!, predicted: decision.predicted }
                trialCtl.abort()
              }
            },
            trialCtl.signal,
          )
          .finally(() => inner.signal.removeEventListener('abort', onInnerAbort))
      } catch (err) {
        const data = toErrorData(err)
        const stop = stopped as { reason: string; predicted: number } | null
        if (stop !== null && !inner.signal.aborted && curve.length > 0) {
          // stopped early: a result (the strategy learns the predicted accuracy), never the best
          const last = curve[curve.length - 1]!
          journal((queue) => {
            trial = {
              ...trial,
              status: 'completed',
              valAccuracy: last.valAccuracy,
              valLoss: last.valLoss,
              stoppedEarly: true,
              stopReason: stop.reason,
              predictedAccuracy: stop.predicted,
              finishedAt: iso(),
            }
            store.updateTrial(trial)
            queue({ event: 'trial.updated', payload: trial })
            observe(p, stop.predicted)
            run = { ...run, trialsCompleted: run.trialsCompleted + 1 }
            store.updateRun(run)
            queue({ event: 'run.updated', payload: run })
          })
          return
        }
        if (data.code === 'cancelled' || inner.signal.aborted) {
          // not a result: the strategy is not told, so a resumed run proposes this candidate again
          saveTrial({
            ...trial,
            status: 'cancelled',
            error: pausing ? 'paused: trained again when the search resumes' : null,
            finishedAt: iso(),
          })
          return
        }
        logger.warn('Trial failed', { trialId: trial.id, error: data.message })
        journal((queue) => {
          trial = { ...trial, status: 'failed', error: data.message, finishedAt: iso() }
          store.updateTrial(trial)
          queue({ event: 'trial.updated', payload: trial })
          observe(p, null)
          run = {
            ...run,
            trialsFailed: run.trialsFailed + 1,
            backend: runner.backend()?.name ?? run.backend,
          }
          store.updateRun(run)
          queue({ event: 'run.updated', payload: run })
        })
        // the data is gone or changed: every further trial would fail the same way
        if (data.code === 'dataset_error') failHard(err)
        return
      }
      // a shortened (multi-fidelity) trial is not comparable with full ones, so it never becomes the best
      let front: ParetoPoint[] | null = null
      let warning = run.signalWarning ?? null
      if (p.fidelity >= 1) {
        const weights = trainArch === architecture ? outcome.params : params
        if (beatsBest({ valAccuracy: outcome.valAccuracy, valLoss: outcome.valLoss, params: weights }))
          best = { id: trial.id, acc: outcome.valAccuracy, loss: outcome.valLoss, params: weights }
        completed.push({ trialId: trial.id, valAccuracy: outcome.valAccuracy, params: weights, flops })
        const secondary = config.objectives?.secondary ?? 'params'
        front = paretoFront(
          completed,
          (q) => q[secondary],
          (q) => q.valAccuracy,
        )
        const lastEpoch = curve[curve.length - 1]
        scores.push({ valAccuracy: outcome.valAccuracy, trainAccuracy: lastEpoch?.accuracy ?? null })
        warning = signalWarning()
      }
      const result = outcome
      if (p.fidelity < 1) partialTrialIds.push(trial.id)
      journal((queue) => {
        trial = {
          ...trial,
          status: 'completed',
          ...result,
          // a narrowed proxy network has fewer weights than the candidate it scores
          ...(trainArch !== architecture ? { params } : {}),
          finishedAt: iso(),
        }
        finishedTrials.set(trial.id, trial)
        trialWallMs.push(clock.now() - trialStart)
        store.updateTrial(trial)
        queue({ event: 'trial.updated', payload: trial })
        observe(p, result.valAccuracy)
        if (front !== null) store.savePareto?.(run.id, front)
        run = {
          ...run,
          trialsCompleted: run.trialsCompleted + 1,
          bestTrialId: best?.id ?? null,
          bestValAccuracy: best?.acc ?? null,
          backend: runner.backend()?.name ?? run.backend,
          signalWarning: warning,
        }
        store.updateRun(run)
        queue({ event: 'run.updated', payload: run })
      })
    }

    const launch = (): void => {
      const index = nextIndex++
      const slot = nextSlot++
      const p: Promise<void> = runTrial(index, slot).finally(() => inFlight.delete(p))
      inFlight.add(p)
    }
    try {
      while (!inner.signal.aborted && (nextSlot < maxTrials || inFlight.size > 0)) {
        while (
          !inner.signal.aborted &&
          timeLeft() &&
          fitsBeforeFinal() &&
          inFlight.size < config.concurrency &&
          nextSlot < maxTrials
        )
          launch()
        if (inFlight.size > 0) await Promise.race(inFlight)
        else if (!timeLeft() || !fitsBeforeFinal()) break
      }
      await Promise.all(inFlight)
    } finally {
      clearTimeout(budgetTimer)
    }
    if (fatal !== null) throw fatal
    if (budgetSpent) logger.info('Search stopped by its time budget', { runId: run.id })
    const winner = best === null ? undefined : finishedTrials.get(best.id)
    if (config.finalTraining !== undefined && winner && !opts.signal?.aborted && !pausing) {
      run = await trainFinalModel({
        run,
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
        // why: the margin leaves time for scoring the test split and closing the workers within the budget
        ...(config.budgetMinutes !== undefined
          ? { timeLimitMs: config.budgetMinutes * 60_000 - usedMs() - FINAL_SCORING_MARGIN_MS }
          : {}),
        ...(opts.signal ? { signal: opts.signal } : {}),
      })
    }
    const finished = run.trialsCompleted + run.trialsFailed >= maxTrials
    const status = opts.signal?.aborted
      ? 'cancelled'
      : pausing && !finished && !budgetSpent
        ? 'paused'
        : 'completed'
    journal((queue) => {
      if (strategy !== null && store.saveCheckpoint) {
        const state = strategy.saveState()
        store.saveCheckpoint(run.id, { strategy: state, budgetUsedMs: usedMs(), partialTrialIds })
      }
      run = { ...run, status, finishedAt: iso() }
      store.updateRun(run)
      queue({ event: 'run.updated', payload: run })
    })
    logger.info('Search finished', { runId: run.id, status: run.status, best: run.bestValAccuracy })
    return run
  } catch (err) {
    inner.abort()
    await Promise.allSettled(inFlight)
    const data = toErrorData(fatal ?? err)
    logger.error('Search failed', { runId: run.id, error: data.message })
    const message =
      (fatal ?? err) instanceof NasError || data.code !== 'internal'
        ? data.message
        : `Unexpected error: ${data.message}`
    try {
      saveRun({ status: 'failed', error: message, finishedAt: iso() })
    } catch (saveErr) {
      // The database itself refuses writes (disk full, locked, read-only): the run stays 'running' there,
      // so the next start marks it interrupted and it can be resumed once the cause is fixed.
      logger.error('Could not record the failed run', { runId: run.id, error: toErrorData(saveErr).message })
      run = { ...run, status: 'failed', error: message, finishedAt: iso() }
      emit({ event: 'run.updated', payload: run })
    }
    return run
  } finally {
    clearTimeout(budgetTimer)
    opts.signal?.removeEventListener('abort', onAbort)
    opts.pause?.removeEventListener('abort', onPause)
  }
}
