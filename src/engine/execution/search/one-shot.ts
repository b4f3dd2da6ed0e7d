import type { Dataset, Run, SearchSpaceDef } from '../../../shared'
import { initCompute } from '../../compute/backend'
import { loadDataset } from '../../data/load'
import type { Logger, RunStore } from '../../ports'
import { archHash } from '../../space'
import { searchOneShot } from '../../strategy/darts'
import type { OneShotSettings } from '../../strategy/darts'
import type { Proposal } from '../../strategy'
import type { OneShotFound, OneShotJob, OneShotSnapshot, TrialRunner } from '../types'
import { ranksFor, searchOneShotRanks } from '../data-parallel-job'

/**
 * Gradient values per rank the ranks' shared buffer holds: the supernet's weights are made during its first
 * step, so they are not counted beforehand. The recipe's supernets have well under a million; a larger one fails
 * the group, and one worker trains it instead. Memory is taken only as far as it is written.
 */
const SUPERNET_MAX_WEIGHTS = 4_000_000

/** What the one-shot (DARTS, PC-DARTS) path needs. */
export interface OneShotArgs {
  run: Run
  space: SearchSpaceDef
  dataset: Dataset
  store: RunStore
  /** The runners that may train the supernet in a worker: this machine's first (finalRunner), then trials'. */
  runners: Array<TrialRunner | undefined>
  settings?: Partial<OneShotSettings>
  signal: AbortSignal
  logger: Logger
}

/**
 * Trains the weight-sharing network of a one-shot search (architecture weights journalled per epoch) and
 * returns the architecture it derives, as the run's only proposal. Why a worker when there is one: the
 * supernet trains for minutes in long synchronous steps (seconds each on the DARTS cell space); in this
 * process they would freeze the app's answers to the UI meanwhile. This machine's workers also serve when
 * trials go to a Redis queue.
 */
export async function findOneShotArchitecture(a: OneShotArgs): Promise<Proposal> {
  const { run, logger } = a
  const method = run.config.strategy as 'darts' | 'pc-darts'
  const onSnapshot = (snap: OneShotSnapshot): void =>
    a.store.insertAlphaSnapshot?.({ ...snap, runId: run.id })
  const local = a.runners.find((r) => r?.searchOneShot !== undefined)
  let found: OneShotFound
  if (local?.searchOneShot) {
    const job: OneShotJob = {
      id: `${run.id}-one-shot`,
      runId: run.id,
      method,
      space: a.space,
      dataset: a.dataset,
      validationFraction: run.config.train.validationFraction,
      seed: run.config.seed,
      ...(a.settings ? { settings: a.settings } : {}),
    }
    // the supernet is the run's only training: it takes every core the run may use (the backend is known
    // only once a worker has started)
    await local.whenReady?.()
    const ranks = ranksFor(local, run.config.concurrency)
    logger.info(`${method} search runs in ${ranks === 1 ? 'a worker thread' : `${ranks} worker threads`}`, {
      runId: run.id,
    })
    const tried =
      ranks > 1
        ? await searchOneShotRanks(local, job, ranks, SUPERNET_MAX_WEIGHTS, onSnapshot, a.signal)
        : null
    if (tried && 'outcome' in tried) found = tried.outcome
    else {
      if (tried) logger.warn(`${method} search: data-parallel training failed, one worker trains it`, tried)
      found = await local.searchOneShot(job, onSnapshot, a.signal)
    }
  } else {
    await initCompute(logger)
    const data = await loadDataset(a.dataset, {
      validationFraction: run.config.train.validationFraction,
      seed: 0,
    })
    found = await searchOneShot({
      method,
      space: a.space,
      data,
      seed: run.config.seed,
      signal: a.signal,
      ...(a.settings ? { settings: a.settings } : {}),
      onSnapshot,
      logger,
    })
  }
  return { architecture: found.architecture, archHash: archHash(found.architecture), fidelity: 1 }
}
