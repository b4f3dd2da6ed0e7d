import type { Architecture } from '../../shared'

/** What a strategy learns about one of its proposals once it has been evaluated. */
export interface TrialObservation {
  architecture: Architecture
  archHash: string
  /** Validation accuracy in [0, 1]; null when the trial failed or was cancelled. */
  valAccuracy: number | null
}

/**
 * The one interface every search strategy implements. A strategy only proposes and reacts: the scheduler owns
 * the queue, budget, concurrency and cancellation. State (including the RNG) must round-trip through JSON:
 * `restoreState(JSON.parse(JSON.stringify(saveState())))` continues exactly as the original would have.
 */
export interface SearchStrategy {
  /** The next architecture to evaluate. */
  propose(): Architecture
  /** Feedback on a proposed architecture (any order, possibly not all of them). */
  observe(result: TrialObservation): void
  /** JSON-safe snapshot of everything the strategy needs to continue, RNG included. */
  saveState(): unknown
  /** Restores a snapshot from saveState (throws on a snapshot of another strategy). */
  restoreState(state: unknown): void
}
