import type { EpochMetrics } from '../evaluate/train'
import type { TrialJob, TrialOutcome, TrialRunner } from './types'

/**
 * Wraps a trial runner so every job says where backbone folders are (`<root>/<id>`): a worker that trains a
 * network on a pretrained backbone loads the backbone from there the first time it needs it.
 */
export function withBackbones<R extends { backend(): unknown; close(): Promise<void> }>(
  runner: R,
  root: string,
): R {
  const inner = runner as unknown as TrialRunner
  const wrapped: TrialRunner = {
    run: (job: TrialJob, onEpoch: (e: EpochMetrics) => void, signal?: AbortSignal): Promise<TrialOutcome> =>
      inner.run({ ...job, backbonesRoot: root }, onEpoch, signal),
    backend: () => inner.backend(),
    close: () => inner.close(),
  }
  if (inner.searchOneShot) wrapped.searchOneShot = inner.searchOneShot.bind(inner)
  if (inner.dataParallelWorkers) wrapped.dataParallelWorkers = inner.dataParallelWorkers.bind(inner)
  return wrapped as unknown as R
}
