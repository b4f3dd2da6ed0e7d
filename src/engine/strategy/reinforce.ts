import { tf } from '../compute/backend'
import type { BaseState } from './common'
import { BaseStrategy, scoreOf } from './common'
import type { Proposal, SearchStrategy, StrategyContext, TrialObservation } from './types'

/** Options of the REINFORCE controller. */
export interface ReinforceOptions extends StrategyContext {
  /** Learning rate of the policy's gradient steps; default 0.5 (rewards are accuracies in [0, 1]). */
  learningRate?: number
  /** Momentum of the moving-average baseline; default 0.9 (NAS-Bench-201's EMA_momentum). */
  baselineMomentum?: number
  /** Random candidates the policy chooses among per proposal; default 24. */
  poolSize?: number
}

interface PendingChoice {
  /** Encodings of the pool the choice was made from (row-major, poolSize x dims). */
  pool: number[][]
  chosen: number
}

interface ReinforceState extends BaseState {
  theta: number[]
  baseline: number | null
  pending: Record<string, PendingChoice>
}

/**
 * REINFORCE with a moving-average baseline (Williams 1992; the controller of Zoph & Le 2017 reduced to what
 * a generic space allows). The policy is a log-linear model over the space's encoding, trained in TF.js:
 * each proposal draws `poolSize` random candidates and samples one with probability softmax(theta . enc).
 * After a result, theta moves along (reward - baseline) * grad log pi(choice). With one-hot encodings (cell
 * spaces, NAS-Bench-201) this is a factorised categorical policy per decision, restricted to the pool.
 */
export class Reinforce extends BaseStrategy implements SearchStrategy {
  private readonly learningRate: number
  private readonly momentum: number
  private readonly poolSize: number
  private theta: number[]
  private baseline: number | null = null
  private pending = new Map<string, PendingChoice>()

  constructor(opts: ReinforceOptions) {
    super('reinforce', opts)
    this.learningRate = opts.learningRate ?? 0.5
    this.momentum = opts.baselineMomentum ?? 0.9
    this.poolSize = opts.poolSize ?? 24
    this.theta = []
  }

  /** Samples a candidate from the policy over a fresh random pool. */
  propose(): Proposal {
    const archs = Array.from({ length: this.poolSize }, () => this.randomUnseen(5))
    const encs = archs.map((a) => this.encode(a))
    if (this.theta.length === 0) this.theta = new Array<number>(encs[0]!.length).fill(0)
    const probs = tf.tidy(() =>
      tf
        .softmax(tf.matMul(tf.tensor2d(encs), tf.tensor2d(this.theta, [this.theta.length, 1])).reshape([-1]))
        .dataSync(),
    )
    let u = this.rng.next()
    let chosen = probs.length - 1
    for (let i = 0; i < probs.length; i++) {
      u -= probs[i]!
      if (u < 0) {
        chosen = i
        break
      }
    }
    const proposal = this.emit(archs[chosen]!)
    this.pending.set(proposal.archHash, { pool: encs, chosen })
    return proposal
  }

  /** One policy-gradient step on the result's advantage over the moving-average baseline. */
  observe(result: TrialObservation): void {
    this.seen.add(result.archHash)
    const choice = this.pending.get(result.archHash)
    this.pending.delete(result.archHash)
    const reward = scoreOf(result)
    if (choice === undefined || this.theta.length === 0) return
    const baseline = this.baseline ?? reward
    const advantage = reward - baseline
    this.baseline = this.momentum * baseline + (1 - this.momentum) * reward
    const theta = tf.variable(tf.tensor1d(this.theta))
    const enc = tf.tensor2d(choice.pool)
    try {
      const { grads } = tf.variableGrads(
        () =>
          tf.tidy(() => {
            const logits = tf.matMul(enc, theta.reshape([-1, 1])).reshape([-1])
            const logp = tf.logSoftmax(logits).gather([choice.chosen]).sum()
            return logp.mul(-advantage) as tf.Scalar
          }),
        [theta],
      )
      const g = grads[theta.name]!
      const next = tf.tidy(() => theta.sub(g.mul(this.learningRate)))
      this.theta = Array.from(next.dataSync())
      tf.dispose([next, ...Object.values(grads)])
    } finally {
      tf.dispose([theta, enc])
    }
  }

  saveState(): ReinforceState {
    return {
      ...this.baseState(),
      theta: this.theta,
      baseline: this.baseline,
      pending: Object.fromEntries(this.pending),
    }
  }

  restoreState(state: unknown): void {
    const s = this.restoreBase<ReinforceState>(state)
    this.theta = [...s.theta]
    this.baseline = s.baseline
    this.pending = new Map(Object.entries(s.pending))
  }
}
