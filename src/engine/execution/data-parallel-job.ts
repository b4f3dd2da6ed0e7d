import { toErrorData } from '../../shared'
import { createParallelBuffer } from '../evaluate/data-parallel'
import type { EpochMetrics } from '../evaluate/train'
import type { TrialJob, TrialOutcome, TrialRunner } from './types'

/** How a data-parallel attempt ended: rank 0's outcome, or why the group failed (not a cancel). */
export type RanksResult = { outcome: TrialOutcome } | { failed: string }

/**
 * Trains `job` as `ranks` data-parallel ranks on `runner` (worker threads sharing one buffer of up to
 * `maxWeights` values per rank: gradients and batch-norm statistics): every rank trains the same model on its
 * share of each batch; rank 0 reports the epochs and its outcome is the job's (rank r > 0 runs as
 * `<trialId>-rank<r>`). Rejects when the job is cancelled; resolves `failed` when the group failed otherwise
 * (a rank crashed or another did not reach the same step), so the caller can train it in one worker instead.
 */
export async function runRanks(
  runner: TrialRunner,
  job: TrialJob,
  ranks: number,
  maxWeights: number,
  onEpoch: (e: EpochMetrics) => void,
  signal?: AbortSignal,
): Promise<RanksResult> {
  const buffer = createParallelBuffer(ranks, maxWeights)
  const all = Array.from({ length: ranks }, (_, rank) =>
    runner.run(
      {
        ...job,
        trialId: rank === 0 ? job.trialId : `${job.trialId}-rank${rank}`,
        dataParallel: { rank, size: ranks, buffer },
      },
      rank === 0 ? onEpoch : () => {},
      signal,
    ),
  )
  const first = (await Promise.allSettled(all))[0]!
  if (first.status === 'fulfilled') return { outcome: first.value }
  if (toErrorData(first.reason).code === 'cancelled' || signal?.aborted) throw first.reason
  return { failed: toErrorData(first.reason).message }
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
