import type { Architecture, SearchSpaceDef } from '../../shared'

/** What a strategy learns about one of its proposals once it has been evaluated. */
export interface TrialObservation {
  architecture: Architecture
  archHash: string
  /** Validation accuracy in [0, 1]; null when the trial failed, was cancelled or broke a hard constraint. */
  valAccuracy: number | null
  /** Share of the full training budget this result was trained with, in (0, 1]; 1 when absent. */
  fidelity?: number
}

/** One candidate to evaluate: the network, its hash, and the share of the full budget to train it with. */
export interface Proposal {
  architecture: Architecture
  archHash: string
  /** In (0, 1]: 1 = the full budget (all epochs); multi-fidelity strategies ask for less first. */
  fidelity: number
  /** Zero-cost proxy score it was pre-ranked with (strategy/zero-cost.ts); null = not scorable; absent = not pre-ranked. */
  zeroCostScore?: number | null
}

/** What every black-box strategy is built from: the space, the data's input shape and class count, a seed. */
export interface StrategyContext {
  space: SearchSpaceDef
  inputShape: number[]
  numClasses: number
  seed: number
}

/**
 * The one interface every search strategy implements. A strategy only proposes and reacts: the scheduler owns
 * the queue, budget, concurrency and cancellation. `propose` may be called several times before results come
 * back (concurrent trials), and results may arrive in any order. State (including the RNG) must round-trip
 * through JSON: `restoreState(JSON.parse(JSON.stringify(saveState())))` continues exactly as the original.
 */
export interface SearchStrategy {
  /** Short name, as in STRATEGIES. */
  readonly name: string
  /** The next candidate to evaluate. */
  propose(): Proposal
  /** Feedback on a proposed candidate (any order, possibly not all of them). */
  observe(result: TrialObservation): void
  /** JSON-safe snapshot of everything the strategy needs to continue, RNG included. */
  saveState(): unknown
  /** Restores a snapshot from saveState (throws on a snapshot of another strategy). */
  restoreState(state: unknown): void
}
