import type { Architecture } from '../../shared'
import type { BaseState } from './common'
import { BaseStrategy, scoreOf } from './common'
import type { Proposal, SearchStrategy, StrategyContext, TrialObservation } from './types'

/** Options of local search. */
export interface LocalSearchOptions extends StrategyContext {
  /** Random candidates evaluated before climbing from the best of them; default 10. */
  initialSamples?: number
  /** Neighbours evaluated without improvement before the current point counts as a local optimum; default 30. */
  patience?: number
}

interface Point {
  architecture: Architecture
  hash: string
  score: number
}

interface LocalSearchState extends BaseState {
  current: Point | null
  best: Point | null
  randomLeft: number
  sinceImprovement: number
}

/**
 * Local search (White et al. 2021, "Local search is state of the art for NAS benchmarks"): evaluate a few
 * random candidates, then repeatedly evaluate unseen neighbours (one choice changed) of the current point and
 * move to the first that scores higher. When `patience` neighbours in a row fail to improve, or no unseen
 * neighbour is left, it restarts from fresh random candidates.
 */
export class LocalSearch extends BaseStrategy implements SearchStrategy {
  private readonly initialSamples: number
  private readonly patience: number
  private current: Point | null = null
  private best: Point | null = null
  private randomLeft: number
  private sinceImprovement = 0

  constructor(opts: LocalSearchOptions) {
    super('local', opts)
    this.initialSamples = opts.initialSamples ?? 10
    this.patience = opts.patience ?? 30
    this.randomLeft = this.initialSamples
  }

  /** A random candidate while (re)starting, else an unseen neighbour of the current point. */
  propose(): Proposal {
    if (this.randomLeft > 0 || this.current === null) {
      this.randomLeft = Math.max(0, this.randomLeft - 1)
      return this.emit(this.randomUnseen())
    }
    const next = this.mutateUnseen(this.current.architecture, 40)
    if (next !== null) return this.emit(next)
    this.restart()
    this.randomLeft--
    return this.emit(this.randomUnseen())
  }

  /** Moves to a better candidate (first improvement); counts failures towards a restart. */
  observe(result: TrialObservation): void {
    this.seen.add(result.archHash)
    const p: Point = { architecture: result.architecture, hash: result.archHash, score: scoreOf(result) }
    if (this.best === null || p.score > this.best.score) this.best = p
    if (this.current === null || p.score > this.current.score) {
      this.current = p
      this.sinceImprovement = 0
    } else if (++this.sinceImprovement >= this.patience) {
      this.restart()
    }
  }

  private restart(): void {
    this.current = null
    this.sinceImprovement = 0
    this.randomLeft = this.initialSamples
  }

  saveState(): LocalSearchState {
    return {
      ...this.baseState(),
      current: this.current,
      best: this.best,
      randomLeft: this.randomLeft,
      sinceImprovement: this.sinceImprovement,
    }
  }

  restoreState(state: unknown): void {
    const s = this.restoreBase<LocalSearchState>(state)
    this.current = s.current
    this.best = s.best
    this.randomLeft = s.randomLeft
    this.sinceImprovement = s.sinceImprovement
  }
}
