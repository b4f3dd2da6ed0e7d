import type { BaseState } from './common'
import { BaseStrategy } from './common'
import type { Proposal, SearchStrategy, StrategyContext, TrialObservation } from './types'

/** Options of RandomSearch: the strategy context plus how hard to look for an unseen architecture. */
export interface RandomSearchOptions extends StrategyContext {
  /** Extra draws allowed to find an architecture not proposed before (default 50). */
  maxRetries?: number
}

/**
 * Random search: each proposal is drawn uniformly from the space (see sampleArchitecture). It avoids proposing
 * an architecture twice: up to `maxRetries` extra draws, after which a repeat is returned (small spaces).
 * Same options -> same sequence of proposals.
 */
export class RandomSearch extends BaseStrategy implements SearchStrategy {
  private readonly maxRetries: number

  constructor(opts: RandomSearchOptions) {
    super('random', opts)
    this.maxRetries = opts.maxRetries ?? 50
  }

  /** Draws the next architecture, preferring one whose archHash was not proposed before. */
  propose(): Proposal {
    return this.emit(this.randomUnseen(this.maxRetries))
  }

  /** Random search does not learn from results; observing marks the architecture as seen. */
  observe(result: TrialObservation): void {
    this.seen.add(result.archHash)
  }

  /** JSON-safe state: RNG state and the hashes already proposed. */
  saveState(): BaseState {
    return this.baseState()
  }

  /** Restores a state from saveState. */
  restoreState(state: unknown): void {
    this.restoreBase(state)
  }
}
