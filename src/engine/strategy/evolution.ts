import type { Architecture } from '../../shared'
import type { BaseState } from './common'
import { BaseStrategy, scoreOf } from './common'
import type { Proposal, SearchStrategy, StrategyContext, TrialObservation } from './types'

/** Options of regularized evolution (defaults are NAS-Bench-201's REA settings). */
export interface EvolutionOptions extends StrategyContext {
  /** Individuals kept alive (the oldest dies when a child is added); default 10. */
  populationSize?: number
  /** Individuals drawn for each tournament; the best of them is the parent; default 3. */
  sampleSize?: number
}

interface Member {
  architecture: Architecture
  hash: string
  score: number
}

interface EvolutionState extends BaseState {
  population: Member[]
  proposed: number
}

/**
 * Regularized (aging) evolution, Real et al. 2019: the first `populationSize` proposals are random; after
 * that each proposal mutates the best of `sampleSize` members drawn at random, and every result joins the
 * population while the oldest member leaves (age, not fitness, decides who dies). A mutation already proposed
 * is redrawn a few times so the budget is not spent on repeats.
 */
export class RegularizedEvolution extends BaseStrategy implements SearchStrategy {
  private readonly populationSize: number
  private readonly sampleSize: number
  private population: Member[] = []
  private proposed = 0

  constructor(opts: EvolutionOptions) {
    super('evolution', opts)
    this.populationSize = opts.populationSize ?? 10
    this.sampleSize = opts.sampleSize ?? 3
  }

  /** Random until the first population is drawn, then the mutated tournament winner. */
  propose(): Proposal {
    this.proposed++
    if (this.proposed <= this.populationSize || this.population.length === 0)
      return this.emit(this.randomUnseen())
    let parent: Member | null = null
    for (let i = 0; i < this.sampleSize; i++) {
      const m = this.rng.pick(this.population)
      if (parent === null || m.score > parent.score) parent = m
    }
    return this.emit(this.mutateUnseen(parent!.architecture, 10) ?? this.mutate(parent!.architecture))
  }

  /** Adds the result to the population and retires the oldest member beyond populationSize. */
  observe(result: TrialObservation): void {
    this.seen.add(result.archHash)
    this.population.push({ architecture: result.architecture, hash: result.archHash, score: scoreOf(result) })
    while (this.population.length > this.populationSize) this.population.shift()
  }

  saveState(): EvolutionState {
    return { ...this.baseState(), population: this.population, proposed: this.proposed }
  }

  restoreState(state: unknown): void {
    const s = this.restoreBase<EvolutionState>(state)
    this.population = s.population.map((m) => ({ ...m }))
    this.proposed = s.proposed
  }
}
