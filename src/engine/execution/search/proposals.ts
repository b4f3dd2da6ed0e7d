import type { RunConfig } from '../../../shared'
import { NasError } from '../../../shared'
import { candidateCost, constraintViolation } from '../../evaluate/objectives'
import type { Proposal, SearchStrategy } from '../../strategy'

/** Proposals a hard constraint may reject in a row before the search gives up on the space. */
const MAX_REJECTED_IN_A_ROW = 500

/** A proposal that respects the run's hard limits, with its cost. */
export interface CostedProposal {
  p: Proposal
  params: number
  flops: number
}

/**
 * Where candidates come from: a black-box strategy (its proposals that break a hard limit of
 * `config.objectives` are fed back as failures and never trained) or the one architecture a one-shot search
 * found. `observe` tells the strategy a result; `afterObserve` then saves the resume checkpoint.
 */
export class ProposalSource {
  constructor(
    readonly strategy: SearchStrategy | null,
    private readonly oneShot: Proposal | null,
    private readonly config: RunConfig,
    private readonly inputShape: number[],
    private readonly afterObserve: (state: unknown) => void,
  ) {}

  /** The next candidate that respects the hard limits; NasError('invalid_space') after 500 rejections in a row. */
  next(): CostedProposal {
    if (this.oneShot !== null)
      return { p: this.oneShot, ...candidateCost(this.oneShot.architecture, this.inputShape) }
    const strategy = this.strategy!
    for (let i = 0; i < MAX_REJECTED_IN_A_ROW; i++) {
      const p = strategy.propose()
      const cost = candidateCost(p.architecture, this.inputShape)
      if (constraintViolation(cost, this.config.objectives) === null) return { p, ...cost }
      strategy.observe({
        architecture: p.architecture,
        archHash: p.archHash,
        valAccuracy: null,
        fidelity: p.fidelity,
      })
    }
    throw new NasError(
      'invalid_space',
      `None of ${MAX_REJECTED_IN_A_ROW} candidates in a row respects the limits (${constraintViolation(
        { params: Infinity, flops: Infinity },
        this.config.objectives,
      )?.replace(/^Infinity \S+ exceed/, 'at most')}). Raise the limit or choose a smaller search space.`,
    )
  }

  /** Tells the strategy a result (null = failed) and saves the checkpoint; call inside the result's transaction. */
  observe(p: Proposal, valAccuracy: number | null): void {
    if (this.strategy === null) return
    this.strategy.observe({
      architecture: p.architecture,
      archHash: p.archHash,
      valAccuracy,
      fidelity: p.fidelity,
    })
    this.afterObserve(this.strategy.saveState())
  }
}
