import type { Dataset, Run, SearchSpaceDef, Trial } from '../../shared'
import { NasError, toErrorData } from '../../shared'
import type { Clock, EventSink, Logger, RunStore } from '../ports'
import { silentLogger, systemClock } from '../ports'
import { Rng } from '../rng'
import { archHash, countParams, validateSpace } from '../space'
import { RandomSearch } from '../strategy/random'
import type { TrialRunner } from './types'

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
}

/**
 * Runs one search to its end and resolves with the final Run (never rejects for trial or search errors).
 * Proposes `run.config.maxTrials` candidates from a strategy seeded with `run.config.seed`, keeps up to
 * `run.config.concurrency` trials in flight on `runner`, and journals everything: each store write is followed
 * by emitting the same object ('trial.updated', 'trial.epoch', 'run.updated'). A failed trial never stops the
 * search. Ends 'completed'; 'cancelled' when `signal` aborts (in-flight trials are cancelled and marked so);
 * 'failed' with `run.error` for an unexpected error. Times are ISO strings from `clock`.
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

  try {
    saveRun({ status: 'running', startedAt: iso(), error: null })
    validateSpace(opts.space, dataset.inputShape)
    const numClasses = dataset.classNames.length
    const strategy = new RandomSearch({
      space: opts.space,
      inputShape: dataset.inputShape,
      numClasses,
      seed: config.seed,
    })
    // trial seeds come from their own stream so they do not depend on how many draws a proposal took
    const seeds = new Rng(config.seed + 1)
    let nextIndex = 0
    let best: { id: string; acc: number } | null = null

    const runTrial = async (index: number): Promise<void> => {
      const architecture = strategy.propose()
      const hash = archHash(architecture)
      const seed = seeds.seed()
      let trial: Trial = {
        id: `${run.id}-t${index}`,
        runId: run.id,
        index,
        status: 'queued',
        architecture,
        archHash: hash,
        params: countParams(architecture, dataset.inputShape),
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
      const job = { trialId: trial.id, runId: run.id, architecture, dataset, train: config.train, seed }
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
        strategy.observe({ architecture, archHash: hash, valAccuracy: outcome.valAccuracy })
        if (best === null || outcome.valAccuracy > best.acc) best = { id: trial.id, acc: outcome.valAccuracy }
        saveRun({
          trialsCompleted: run.trialsCompleted + 1,
          bestTrialId: best.id,
          bestValAccuracy: best.acc,
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
        strategy.observe({ architecture, archHash: hash, valAccuracy: null })
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
    while (!inner.signal.aborted && (nextIndex < config.maxTrials || inFlight.size > 0)) {
      while (!inner.signal.aborted && inFlight.size < config.concurrency && nextIndex < config.maxTrials)
        launch()
      if (inFlight.size > 0) await Promise.race(inFlight)
    }
    await Promise.all(inFlight)
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
    opts.signal?.removeEventListener('abort', onAbort)
  }
}
