import type { BaseState, Scored } from './common'
import { BaseStrategy, scoreOf } from './common'
import type { Elite } from './candidates'
import { addElite } from './candidates'
import type { StrategyContext, TrialObservation } from './types'

/** Saved state of a model-based strategy: the base state, every scored result, the elite and the count. */
export interface ModelBasedState extends BaseState {
  history: Scored[]
  elite: Elite[]
  proposed: number
}

/**
 * What the model-based strategies (TPE, BO) share: every result as (hash, encoding, score) for the model, the
 * best networks (the elite) to draw candidates around, the number of proposals made, and their save/restore.
 */
export abstract class ModelBasedStrategy extends BaseStrategy {
  protected history: Scored[] = []
  protected elite: Elite[] = []
  protected proposed = 0

  protected constructor(
    name: string,
    ctx: StrategyContext,
    /** Best networks kept to draw candidates around. */
    protected readonly eliteSize: number,
  ) {
    super(name, ctx)
  }

  /** Records the result for the model, and in the elite when it is among the best. */
  observe(result: TrialObservation): void {
    this.seen.add(result.archHash)
    const score = scoreOf(result)
    this.history.push({ hash: result.archHash, enc: this.encode(result.architecture), score })
    this.elite = addElite(
      this.elite,
      { architecture: result.architecture, hash: result.archHash, score },
      this.eliteSize,
    )
  }

  saveState(): ModelBasedState {
    return { ...this.baseState(), history: this.history, elite: this.elite, proposed: this.proposed }
  }

  restoreState(state: unknown): void {
    const s = this.restoreBase<ModelBasedState>(state)
    this.history = s.history.map((h) => ({ ...h }))
    this.elite = s.elite.map((e) => ({ ...e }))
    this.proposed = s.proposed
  }
}
