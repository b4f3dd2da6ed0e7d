import { NasError, toErrorData } from '../../shared'
import { createParallelBuffer } from '../evaluate/data-parallel'
import type { ParallelGroup } from '../evaluate/data-parallel'
import type { EpochMetrics } from '../evaluate/train'
import type { OneShotFound, OneShotJob, OneShotSnapshot, TrialJob, TrialOutcome, TrialRunner } from './types'

/** How a data-parallel attempt ended: rank 0's result, or why the group failed (not a cancel). */
export type RanksResult<T = TrialOutcome> = { outcome: T } | { failed: string }

/**
 * Starts `ranks` ranks sharing one buffer of up to `maxWeights` values per rank and settles with rank 0's
 * result. Rejects when the job is cancelled; resolves `failed` when the group failed otherwise (a rank crashed
 * or another did not reach the same step), so the caller can run it in one worker instead.
 */
async function onRanks<T>(
  ranks: number,
  maxWeights: number,
  start: (group: ParallelGroup) => Promise<T>,
  signal?: AbortSignal,
): Promise<RanksResult<T>> {
  const buffer = createParallelBuffer(ranks, maxWeights)
  const all = Array.from({ length: ranks }, (_, rank) => start({ rank, size: ranks, buffer }))
  const first = (await Promise.allSettled(all))[0]!
  if (first.status === 'fulfilled') return { outcome: first.value }
  if (toErrorData(first.reason).code === 'cancelled' || signal?.aborted) throw first.reason
  return { failed: toErrorData(first.reason).message }
}

/**
 * Trains `job` as `ranks` data-parallel ranks on `runner` (worker threads sharing one buffer of up to
 * `maxWeights` values per rank: gradients and batch-norm statistics): every rank trains the same model on its
 * share of each batch; rank 0 reports the epochs and its outcome is the job's (rank r > 0 runs as
 * `<trialId>-rank<r>`). Settles like onRanks.
 */
export function runRanks(
  runner: TrialRunner,
  job: TrialJob,
  ranks: number,
  maxWeights: number,
  onEpoch: (e: EpochMetrics) => void,
  signal?: AbortSignal,
): Promise<RanksResult> {
  return onRanks(
    ranks,
    maxWeights,
    (group) =>
      runner.run(
        {
          ...job,
          trialId: group.rank === 0 ? job.trialId : `${job.trialId}-rank${group.rank}`,
          dataParallel: group,
        },
        group.rank === 0 ? onEpoch : () => {},
        signal,
      ),
    signal,
  )
}

/**
 * Trains a one-shot search's supernet as `ranks` data-parallel ranks on `runner`, which must have
 * searchOneShot: each rank learns from its share of every batch (weights and architecture weights alike, their
 * gradients averaged every step); rank 0's snapshots and result are the search's. Settles like onRanks.
 */
export function searchOneShotRanks(
  runner: TrialRunner,
  job: OneShotJob,
  ranks: number,
  maxWeights: number,
  onSnapshot: (snapshot: OneShotSnapshot) => void,
  signal?: AbortSignal,
): Promise<RanksResult<OneShotFound>> {
  if (!runner.searchOneShot) throw new NasError('internal', 'This trial runner cannot run a one-shot search')
  return onRanks(
    ranks,
    maxWeights,
    (group) =>
      runner.searchOneShot!(
        { ...job, id: group.rank === 0 ? job.id : `${job.id}-rank${group.rank}`, dataParallel: group },
        group.rank === 0 ? onSnapshot : () => {},
        signal,
      ),
    signal,
  )
}

/**
 * How many ranks a job that would otherwise train alone can take on `runner`: up to `wanted` (the run's
 * concurrency), as many as its workers that share memory (worker threads of this process), and only on
 * WebAssembly, one core per worker. A GPU or tfjs-node backend already uses the whole device for one trial;
 * before the first worker has started the backend is not known yet. 1 = train it in one worker.
 */
export function ranksFor(runner: TrialRunner, wanted: number): number {
  if (runner.dataParallelWorkers === undefined || runner.backend()?.name !== 'wasm') return 1
  return Math.max(1, Math.min(wanted, runner.dataParallelWorkers()))
}
