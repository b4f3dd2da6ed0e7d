import type { Architecture } from '../../shared'
import type { RngState } from '../rng'
import { Rng } from '../rng'
import { archHash, encodeArchitecture, mutateArchitecture, sampleArchitecture } from '../space'
import type { Proposal, StrategyContext, TrialObservation } from './types'

/** One evaluated candidate as model-based strategies remember it: hash, encoding and score (failed = 0). */
export interface Scored {
  hash: string
  enc: number[]
  score: number
}

/** The state every strategy shares: its name, the RNG and the hashes already proposed. */
export interface BaseState {
  strategy: string
  rng: RngState
  seen: string[]
}

/**
 * Shared plumbing of the black-box strategies: a seeded RNG, the set of hashes proposed so far (so no
 * candidate is evaluated twice while the space allows it), and sampling / mutation / encoding helpers.
 */
export abstract class BaseStrategy {
  protected readonly rng: Rng
  protected readonly seen = new Set<string>()

  protected constructor(
    readonly name: string,
    protected readonly ctx: StrategyContext,
  ) {
    this.rng = new Rng(ctx.seed)
  }

  /** A uniformly drawn architecture, preferring one not proposed before (bounded retries). */
  protected randomUnseen(retries = 50): Architecture {
    let arch = this.sample()
    for (let i = 0; i < retries && this.seen.has(archHash(arch)); i++) arch = this.sample()
    return arch
  }

  protected sample(): Architecture {
    return sampleArchitecture(this.ctx.space, this.rng, this.ctx.inputShape, this.ctx.numClasses)
  }

  protected mutate(arch: Architecture): Architecture {
    return mutateArchitecture(this.ctx.space, arch, this.rng, this.ctx.inputShape, this.ctx.numClasses)
  }

  /** A mutation of `arch` not proposed before, or null after `retries` tries. */
  protected mutateUnseen(arch: Architecture, retries = 20): Architecture | null {
    for (let i = 0; i < retries; i++) {
      const child = this.mutate(arch)
      if (!this.seen.has(archHash(child))) return child
    }
    return null
  }

  protected encode(arch: Architecture): number[] {
    return encodeArchitecture(this.ctx.space, arch)
  }

  /** Marks `arch` as proposed and wraps it as a full-budget proposal. */
  protected emit(arch: Architecture): Proposal {
    const hash = archHash(arch)
    this.seen.add(hash)
    return { architecture: arch, archHash: hash, fidelity: 1 }
  }

  protected baseState(): BaseState {
    return { strategy: this.name, rng: this.rng.getState(), seen: [...this.seen] }
  }

  /** Checks the snapshot belongs to this strategy and restores the RNG and seen set; returns it typed. */
  protected restoreBase<S extends BaseState>(state: unknown): S {
    const s = state as Partial<S> | null
    if (s?.strategy !== this.name || s.rng === undefined || !Array.isArray(s.seen)) {
      throw new TypeError(`${this.constructor.name}.restoreState: not a ${this.name} state`)
    }
    this.rng.setState(s.rng)
    this.seen.clear()
    for (const h of s.seen) this.seen.add(h)
    return s as S
  }
}

/** The score a strategy learns from: the accuracy, or 0 for a failed or infeasible candidate. */
export function scoreOf(result: TrialObservation): number {
  return result.valAccuracy ?? 0
}
