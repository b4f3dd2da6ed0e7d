import { NasError } from '../../shared'
import type { tf } from '../compute/backend'
import type { ParallelGroup } from '../evaluate/data-parallel'
import { ParallelSync, averageGradientsAcrossRanks } from '../evaluate/data-parallel'

/** How long a rank waits for the others at a step: the first builds the supernet's weights, so it waits longer. */
const FIRST_STEP_WAIT_MS = 300_000
const STEP_WAIT_MS = 60_000

/**
 * A supernet training's place in a data-parallel group, or alone (no group, or a group of one): which rows of a
 * batch this rank learns from, the optimizers' gradients averaged over the ranks, and the decisions every rank
 * must take at the same step (stop for the time limit, stop for a cancel) so that no rank waits for another
 * that has left.
 */
export class SupernetRanks {
  private readonly sync: ParallelSync | null
  private averaged = 0

  constructor(
    private readonly group: ParallelGroup | undefined,
    private readonly signal?: AbortSignal,
  ) {
    this.sync = group && group.size > 1 ? new ParallelSync(group) : null
  }

  /** This rank's contiguous share of a batch's rows; every row when there are fewer rows than ranks. */
  share(rows: readonly number[]): number[] {
    const g = this.group
    if (!this.sync || !g || rows.length < g.size) return [...rows]
    return rows.slice(
      Math.floor((rows.length * g.rank) / g.size),
      Math.floor((rows.length * (g.rank + 1)) / g.size),
    )
  }

  /** Makes each optimizer average its gradients over the ranks before every step it applies. */
  averageGradients(...optimizers: tf.Optimizer[]): void {
    const sync = this.sync
    if (!sync) return
    const wait = (): number => (this.averaged++ < optimizers.length ? FIRST_STEP_WAIT_MS : STEP_WAIT_MS)
    for (const optimizer of optimizers) averageGradientsAcrossRanks(optimizer, sync, wait)
  }

  /**
   * Throws NasError('cancelled') when the search was cancelled: alone, on its own signal; in a group, once rank
   * 0's cancel has reached every rank (with the next averaged step), so all ranks leave at the same step.
   */
  throwIfCancelled(): void {
    if (!this.sync) {
      if (this.signal?.aborted) throw new NasError('cancelled', 'The search was cancelled')
      return
    }
    if (this.group!.rank === 0 && this.signal?.aborted) this.sync.requestStop()
    if (this.sync.stopAgreed()) throw new NasError('cancelled', 'The search was cancelled')
  }

  /** Rank 0's `stop` on every rank (alone: `stop`); every rank must call it at the same point. */
  agree(stop: boolean): boolean {
    return this.sync ? this.sync.agree(stop ? 1 : 0, STEP_WAIT_MS) === 1 : stop
  }
}
