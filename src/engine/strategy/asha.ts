import type { Architecture } from '../../shared'
import type { RngState } from '../rng'
import type { Proposal, SearchStrategy, TrialObservation } from './types'

/** Options of ASHA: the sampler it wraps and its rungs. */
export interface AshaOptions {
  /** Proposes new candidates at the lowest rung (any strategy: random, evolution, bo, ...). */
  sampler: SearchStrategy
  /** Reduction factor: the top 1/eta of a rung is promoted to eta times the budget; default 3. */
  eta?: number
  /** Budget share of the lowest rung, in (0, 1]; default 1/9 (with eta 3: rungs 1/9, 1/3, 1). */
  minFidelity?: number
}

interface RungEntry {
  architecture: Architecture
  hash: string
  score: number
  promoted: boolean
}

interface AshaState {
  strategy: 'asha'
  sampler: unknown
  rungs: RungEntry[][]
  rng?: RngState
}

/**
 * Asynchronous successive halving (ASHA, Li et al. 2020), the asynchronous form of Hyperband's brackets,
 * wrapped around any sampler. Budget is a share of the full training (the scheduler turns it into epochs).
 * Rungs are minFidelity * eta^k up to 1. Whenever a candidate in rung k is among the top 1/eta of the
 * results seen in rung k and not yet promoted, it is proposed again at rung k + 1; otherwise the sampler
 * proposes a new candidate at rung 0. The sampler sees every result (with its fidelity).
 */
export class Asha implements SearchStrategy {
  readonly name = 'asha'
  private readonly sampler: SearchStrategy
  private readonly eta: number
  private readonly fidelities: number[]
  private rungs: RungEntry[][]

  constructor(opts: AshaOptions) {
    this.sampler = opts.sampler
    this.eta = opts.eta ?? 3
    const min = opts.minFidelity ?? 1 / 9
    const f: number[] = []
    for (let v = 1; v >= min * 0.999; v /= this.eta) f.unshift(v)
    this.fidelities = f
    this.rungs = f.map(() => [])
  }

  /** The budget shares of the rungs, lowest first (the last is 1). */
  get rungFidelities(): readonly number[] {
    return this.fidelities
  }

  /** A promotion when one is due (highest rung first), else a new candidate from the sampler at rung 0. */
  propose(): Proposal {
    for (let k = this.rungs.length - 2; k >= 0; k--) {
      const rung = this.rungs[k]!
      const keep = Math.floor(rung.length / this.eta)
      if (keep === 0) continue
      const top = [...rung].sort((a, b) => b.score - a.score).slice(0, keep)
      const next = top.find((e) => !e.promoted)
      if (next) {
        next.promoted = true
        return { architecture: next.architecture, archHash: next.hash, fidelity: this.fidelities[k + 1]! }
      }
    }
    const p = this.sampler.propose()
    return { ...p, fidelity: this.fidelities[0]! }
  }

  /** Files the result in the rung of its fidelity and passes it on to the sampler. */
  observe(result: TrialObservation): void {
    const f = result.fidelity ?? 1
    let k = this.fidelities.findIndex((v) => Math.abs(v - f) < 1e-9)
    if (k < 0) k = this.fidelities.length - 1
    this.rungs[k]!.push({
      architecture: result.architecture,
      hash: result.archHash,
      score: result.valAccuracy ?? 0,
      promoted: false,
    })
    this.sampler.observe(result)
  }

  saveState(): AshaState {
    return {
      strategy: 'asha',
      sampler: this.sampler.saveState(),
      rungs: this.rungs.map((r) => r.map((e) => ({ ...e }))),
    }
  }

  restoreState(state: unknown): void {
    const s = state as Partial<AshaState> | null
    if (s?.strategy !== 'asha' || !Array.isArray(s.rungs) || s.rungs.length !== this.fidelities.length)
      throw new TypeError('Asha.restoreState: not an ASHA state with the same rungs')
    this.sampler.restoreState(s.sampler)
    this.rungs = s.rungs.map((r) => r.map((e) => ({ ...e })))
  }
}
