import { candidatePool } from './candidates'
import type { ModelBasedState } from './model-based'
import { ModelBasedStrategy } from './model-based'
import { MlpEnsemble, type EnsembleOptions, type EnsembleState } from './mlp-ensemble'
import type { Proposal, SearchStrategy, StrategyContext } from './types'

/** Options of BANANAS. */
export interface BananasOptions extends StrategyContext {
  /** Random candidates evaluated before the predictor is used; default 10. */
  initialSamples?: number
  /** Best candidates whose mutations are scored each step; default 1 (the incumbent). */
  eliteSize?: number
  /** Mutations scored per elite member each step; default 20. */
  perElite?: number
  /** Random candidates scored each step; default 0. */
  randomCandidates?: number
  /** How a candidate is chosen from the predictions: the best predicted mean (default) or Thompson sampling. */
  acquisition?: 'its' | 'mean'
  /** The predictor's settings (mlp-ensemble.ts). */
  ensemble?: EnsembleOptions
}

interface BananasState extends ModelBasedState {
  ensemble: EnsembleState | null
}

/**
 * BANANAS (White, Neiswanger & Savani, AAAI 2021): after a few random candidates, an ensemble of small MLPs is
 * trained on every result so far (refitted at every step, continuing from its previous weights), and the next
 * candidate is the one the ensemble rates highest among mutations of the best networks so far (local
 * acquisition optimisation). By default it scores 20 mutations of the incumbent and takes the best predicted
 * mean: of the settings tried on NAS-Bench-201 development seeds (bench/README.md) this one had the best
 * validation accuracy; `acquisition: 'its'` is the paper's independent Thompson sampling (one draw per
 * candidate from the ensemble's mean and spread), and more elite members and random candidates widen the
 * pool. The pool is kept small because building and hashing candidates is most of a step's cost.
 */
export class Bananas extends ModelBasedStrategy implements SearchStrategy {
  private readonly initialSamples: number
  private readonly perElite: number
  private readonly randomCandidates: number
  private readonly acquisition: 'its' | 'mean'
  private readonly ensembleOptions: EnsembleOptions
  private ensemble: MlpEnsemble | null = null

  constructor(opts: BananasOptions) {
    super('bananas', opts, opts.eliteSize ?? 1)
    this.initialSamples = opts.initialSamples ?? 10
    this.perElite = opts.perElite ?? 20
    this.randomCandidates = opts.randomCandidates ?? 0
    this.acquisition = opts.acquisition ?? 'mean'
    this.ensembleOptions = opts.ensemble ?? {}
  }

  /** Random at first, then the candidate the predictor ranks first. */
  propose(): Proposal {
    this.proposed++
    if (this.proposed <= this.initialSamples || this.history.length < 2) return this.emit(this.randomUnseen())
    const pool = candidatePool(this.elite, {
      perElite: this.perElite,
      random: this.randomCandidates,
      seen: this.seen,
      mutate: (a) => this.mutate(a),
      sample: () => this.sample(),
      encode: (a) => this.encode(a),
      coin: () => this.rng.next(),
    })
    if (pool.length === 0) return this.emit(this.randomUnseen())
    const model = (this.ensemble ??= new MlpEnsemble(pool[0]!.enc.length, this.ensembleOptions, this.rng))
    model.fit(
      this.history.map((h) => h.enc),
      this.history.map((h) => h.score),
    )
    let bestIdx = 0
    let bestValue = -Infinity
    pool.forEach((c, i) => {
      const { mean, std } = model.predict(c.enc)
      const value = this.acquisition === 'its' ? mean + std * this.gaussian() : mean
      if (value > bestValue) {
        bestValue = value
        bestIdx = i
      }
    })
    return this.emit(pool[bestIdx]!.architecture)
  }

  override saveState(): BananasState {
    return { ...super.saveState(), ensemble: this.ensemble?.state() ?? null }
  }

  override restoreState(state: unknown): void {
    super.restoreState(state)
    const e = (state as BananasState).ensemble
    this.ensemble = e ? new MlpEnsemble(e.inputSize, this.ensembleOptions, e) : null
  }

  /** A standard normal draw (Box-Muller) from the strategy's RNG. */
  private gaussian(): number {
    const u = 1 - this.rng.next()
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.rng.next())
  }
}
