import type { RunConfig } from '../../../shared'
import type { Clock } from '../../ports'

/** Time (ms) the final training leaves of the run's budget for scoring the test split and shutting down. */
const FINAL_SCORING_MARGIN_MS = 15_000

/**
 * The seed re-check's reserve is its rounds of an average trial, and a quarter more: trial times vary (several
 * fold on small data) and the best candidates are often larger than the average, so a reserve of exactly the
 * mean left the re-check just short of time, and skipped, in about half of the short runs.
 */
const RECHECK_RESERVE = 1.25

/**
 * The run's time budget: what has been used (a resumed run counts its earlier sessions), the search's share
 * (all of it but the final training's reserve), whether another trial still fits, and the final training's
 * time limit. `start` arms a timer that calls `onSpent` when the search's share runs out.
 */
export class SearchBudget {
  private readonly startedAt: number
  private readonly searchMs: number
  /** Wall-clock ms of each fully trained trial of this session. */
  private readonly trialMs: number[] = []
  private timer: NodeJS.Timeout | undefined
  /** True once the search's share ran out. */
  spent = false

  constructor(
    private readonly config: RunConfig,
    private readonly clock: Clock,
    usedBeforeMs: number,
  ) {
    this.startedAt = clock.now() - usedBeforeMs
    const reserveMs =
      config.finalTraining !== undefined ? (config.finalTraining.reserveMinutes ?? 0) * 60_000 : 0
    this.searchMs = config.budgetMinutes === undefined ? Infinity : config.budgetMinutes * 60_000 - reserveMs
  }

  usedMs(): number {
    return this.clock.now() - this.startedAt
  }

  /** Whether the search's share of the budget has time left. */
  timeLeft(): boolean {
    return this.usedMs() < this.searchMs
  }

  /**
   * Under a time budget, with final training or a seed re-check to follow, a trial is only started when a trial
   * of average length still fits in the search's share, with the re-check's retrainings after it: one cancelled
   * at the deadline would be wasted, and the re-check and the final training get the time instead.
   */
  fitsBeforeFinal(): boolean {
    if (this.config.budgetMinutes === undefined) return true
    const recheck = this.seedCheckRounds()
    if (this.config.finalTraining === undefined && recheck === 0) return true
    const mean = this.meanTrialMs()
    if (mean === null) return true
    return this.searchLeftMs() >= mean * (1 + recheck * RECHECK_RESERVE)
  }

  /** Rounds of retraining the seed re-check takes (its candidates over the concurrency); 0 without one. */
  seedCheckRounds(): number {
    const check = this.config.seedCheck
    return check === undefined ? 0 : Math.ceil(check.candidates / Math.max(1, this.config.concurrency))
  }

  /** Mean wall-clock ms of this session's fully trained trials; null before the first. */
  meanTrialMs(): number | null {
    if (this.trialMs.length === 0) return null
    return this.trialMs.reduce((a, b) => a + b, 0) / this.trialMs.length
  }

  /** Ms left of the search's share of the budget (Infinity without a budget). */
  searchLeftMs(): number {
    return this.searchMs - this.usedMs()
  }

  /** Records how long a fully trained trial took. */
  recordTrial(ms: number): void {
    this.trialMs.push(ms)
  }

  /** The final training's time limit: the rest of the budget less a margin for scoring; none without one. */
  finalTimeLimitMs(): number | undefined {
    if (this.config.budgetMinutes === undefined) return undefined
    return this.config.budgetMinutes * 60_000 - this.usedMs() - FINAL_SCORING_MARGIN_MS
  }

  /** Arms the timer of the search's share (nothing without a time budget). */
  start(onSpent: () => void): void {
    if (this.config.budgetMinutes === undefined) return
    this.timer = setTimeout(
      () => {
        this.spent = true
        onSpent()
      },
      Math.max(0, this.searchMs - this.usedMs()),
    )
  }

  stop(): void {
    clearTimeout(this.timer)
  }
}
