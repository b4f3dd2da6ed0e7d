import type { Architecture, SearchSpaceDef } from '../../shared'
import type { RngState } from '../rng'
import { Rng } from '../rng'
import { archHash, sampleArchitecture } from '../space'
import type { SearchStrategy, TrialObservation } from './types'

/** Options of RandomSearch: the space, the data's input shape and class count, and the seed. */
export interface RandomSearchOptions {
  space: SearchSpaceDef
  inputShape: number[]
  numClasses: number
  seed: number
  /** Extra draws allowed to find an architecture not proposed before (default 50). */
  maxRetries?: number
}

interface RandomSearchState {
  strategy: 'random'
  rng: RngState
  seen: string[]
}

/**
 * Random search: each proposal is drawn uniformly from the space (see sampleArchitecture). It avoids proposing
 * an architecture twice: up to `maxRetries` extra draws, after which a repeat is returned (small spaces).
 * Same options -> same sequence of proposals.
 */
export class RandomSearch implements SearchStrategy {
  private readonly rng: Rng
  private readonly seen = new Set<string>()
  private readonly maxRetries: number

  constructor(private readonly opts: RandomSearchOptions) {
    this.rng = new Rng(opts.seed)
    this.maxRetries = opts.maxRetries ?? 50
  }

  /** Draws the next architecture, preferring one whose archHash was not proposed before. */
  propose(): Architecture {
    let arch = this.draw()
    for (let retry = 0; retry < this.maxRetries && this.seen.has(archHash(arch)); retry++) arch = this.draw()
    this.seen.add(archHash(arch))
    return arch
  }

  /** Random search does not learn from results; observing marks the architecture as seen. */
  observe(result: TrialObservation): void {
    this.seen.add(result.archHash)
  }

  /** JSON-safe state: RNG state and the hashes already proposed. */
  saveState(): RandomSearchState {
    return { strategy: 'random', rng: this.rng.getState(), seen: [...this.seen] }
  }

  /** Restores a state from saveState. */
  restoreState(state: unknown): void {
    const s = state as Partial<RandomSearchState> | null
    if (s?.strategy !== 'random' || s.rng === undefined || !Array.isArray(s.seen)) {
      throw new TypeError('RandomSearch.restoreState: not a random-search state')
    }
    this.rng.setState(s.rng)
    this.seen.clear()
    for (const h of s.seen) this.seen.add(h)
  }

  private draw(): Architecture {
    return sampleArchitecture(this.opts.space, this.rng, this.opts.inputShape, this.opts.numClasses)
  }
}
