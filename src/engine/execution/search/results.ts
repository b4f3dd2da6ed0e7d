import type { Objectives, ParetoPoint, Trial } from '../../../shared'
import { isBetterResult, paretoFront } from '../../../shared'
import { checkSignal } from '../../evaluate/signal-check'
import type { CandidateScore } from '../../evaluate/signal-check'

/** A fully trained candidate's result, as the search ranks it. */
export interface FullResult {
  trialId: string
  valAccuracy: number
  valLoss: number | null
  params: number
  flops: number
  /** Last epoch's training accuracy, for the signal check; null when unknown. */
  trainAccuracy: number | null
}

/**
 * The search's results so far: the best fully trained trial (ties: lower validation loss, then fewer weights),
 * the points of the Pareto front, the scores the signal check reads, completed trials by id (the final
 * training looks its winner up here) and the trials trained with less than the full budget.
 */
export class SearchResults {
  best: { id: string; acc: number; loss: number | null; params: number } | null = null
  private readonly points: ParetoPoint[] = []
  private readonly scores: CandidateScore[] = []
  private readonly ranked: Array<{
    trialId: string
    valAccuracy: number
    valLoss: number | null
    params: number
  }> = []
  readonly finished = new Map<string, Trial>()

  constructor(
    private readonly numClasses: number,
    /** Completed trials trained with less than the full budget (never the best; kept for a resume). */
    readonly partialTrialIds: string[],
  ) {}

  /** Adds a fully trained result; returns true when it became the best. */
  addFull(r: FullResult): boolean {
    this.points.push({ trialId: r.trialId, valAccuracy: r.valAccuracy, params: r.params, flops: r.flops })
    this.scores.push({ valAccuracy: r.valAccuracy, trainAccuracy: r.trainAccuracy })
    this.ranked.push({ trialId: r.trialId, valAccuracy: r.valAccuracy, valLoss: r.valLoss, params: r.params })
    const b = this.best
    if (b !== null && !isBetterResult(r, { valAccuracy: b.acc, valLoss: b.loss, params: b.params }))
      return false
    this.best = { id: r.trialId, acc: r.valAccuracy, loss: r.valLoss, params: r.params }
    return true
  }

  /** Validation accuracies of the fully trained results (early stopping's bar). */
  accuracies(): number[] {
    return this.points.map((p) => p.valAccuracy)
  }

  /** The Pareto front: accuracy against `secondary` (weights by default). */
  front(secondary: Objectives['secondary']): ParetoPoint[] {
    const cost = secondary ?? 'params'
    return paretoFront(
      this.points,
      (q) => q[cost],
      (q) => q.valAccuracy,
    )
  }

  /** The signal check's warning on the results so far, or null. */
  signalWarning(): string | null {
    return checkSignal(this.scores, this.numClasses)
  }

  /** The `k` best fully trained trials, best first (the winner's ranking), that are known completed. */
  top(k: number): Trial[] {
    return [...this.ranked]
      .sort((a, b) => (isBetterResult(a, b) ? -1 : isBetterResult(b, a) ? 1 : 0))
      .map((r) => this.finished.get(r.trialId))
      .filter((t): t is Trial => t !== undefined)
      .slice(0, k)
  }

  /** The winner's completed trial, if any. */
  winner(): Trial | undefined {
    return this.best === null ? undefined : this.finished.get(this.best.id)
  }
}
