import type { Architecture, Nb201Space } from '../../shared'
import { buildNb201, countParams, encodeNb201, nb201Hash } from '../space'
import { candidatePool, type Elite } from './candidates'
import { nb201CellPaths } from './path-encoding'
import { nb201GenesOf, nb201Neighbours, randomNb201Genes, type Nb201Genes } from './nb201-neighbours'
import type { ModelBasedState } from './model-based'
import { ModelBasedStrategy } from './model-based'
import { MlpEnsemble, type EnsembleOptions, type EnsembleState } from './mlp-ensemble'
import { scoreOf } from './common'
import type { Proposal, SearchStrategy, StrategyContext, TrialObservation } from './types'

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
  /**
   * How a candidate is chosen from the predictions: independent Thompson sampling (default: one draw per
   * candidate from the ensemble's mean and spread, as the paper) or the best predicted mean.
   */
  acquisition?: 'its' | 'mean'
  /**
   * Results without a new best after which the search restarts around fresh random candidates (the predictor
   * keeps everything it learnt), as local search does; default 20; 0 = never.
   */
  restartAfter?: number
  /**
   * Random candidates the predictor ranks to choose each (re)start point; default 0: (re)start points are
   * drawn at random, unranked.
   */
  restartPool?: number
  /** Candidates drawn (ranked or not, see restartPool) at each restart; default initialSamples. */
  restartSamples?: number
  /**
   * What the predictor sees: 'onehot' (default), each slot's choice (encodeArchitecture); 'paths', the path
   * encoding of NAS-Bench-201 cells (path-encoding.ts); or 'both' side by side. Spaces other than
   * NAS-Bench-201 always use 'onehot'.
   */
  encoding?: 'onehot' | 'paths' | 'both'
  /**
   * On NAS-Bench-201 spaces, when > 0: the pool holds every unseen network within `radius` changed choices of
   * each elite member (264 at radius 2 in the benchmark's space) instead of `perElite` random mutations;
   * default 2; 0 = random mutations there too (as in every other space).
   */
  radius?: number
  /**
   * Uniform draws per random (re)start candidate: the one with the most weights (countParams, a zero-cost
   * proxy) among them is evaluated; default 1 (uniform). Larger values bias the starts towards big networks.
   */
  startDraws?: number
  /**
   * What the predictor learns: the ranks of the scores (default; 0 = worst, 1 = best), which keeps a few
   * failed networks (accuracy near chance) from dominating the squared error, or the scores themselves.
   */
  targets?: 'score' | 'rank'
  /** The predictor's settings (mlp-ensemble.ts). */
  ensemble?: EnsembleOptions
}

/** A candidate as the acquisition sees it: its encoding, and how to build it if chosen. */
interface PoolEntry {
  enc: number[]
  build: () => Architecture
}

interface BananasState extends ModelBasedState {
  ensemble: EnsembleState | null
  restart: { best: number; since: number; randomLeft: number }
}

/**
 * BANANAS (White, Neiswanger & Savani, AAAI 2021): after a few random candidates, an ensemble of small MLPs is
 * trained on every result so far (refitted at every step, continuing from its previous weights), and the next
 * candidate is the one the ensemble rates highest among neighbours of the best networks so far (local
 * acquisition optimisation). By default it fits the ranks of the scores, scores every unseen network within 2
 * changed choices of the incumbent on NAS-Bench-201 spaces (20 random mutations of it elsewhere, where
 * building a candidate costs more), chooses by independent Thompson sampling, and after 20 results without a
 * new best restarts from fresh random candidates. Of the settings tried on NAS-Bench-201 development seeds
 * (bench/README.md, judged on validation accuracy only) this one had the lowest regret on the search signal.
 */
export class Bananas extends ModelBasedStrategy implements SearchStrategy {
  private readonly initialSamples: number
  private readonly perElite: number
  private readonly randomCandidates: number
  private readonly acquisition: 'its' | 'mean'
  private readonly ensembleOptions: EnsembleOptions
  private ensemble: MlpEnsemble | null = null
  private readonly restartAfter: number
  private readonly restartPool: number
  private readonly restartSamples: number
  private readonly encoding: 'onehot' | 'paths' | 'both'
  private readonly radius: number
  private readonly startDraws: number
  private readonly targets: 'score' | 'rank'
  /** archHash by genes, as the NAS-Bench-201 pools meet the same networks again and again. */
  private readonly hashes = new Map<string, string>()
  /**
   * Best score since the last restart (-1 = none yet: scores lie in [0, 1], and -1 survives JSON where -Infinity
   * would not), results since it improved, random candidates still to draw.
   */
  private restart = { best: -1, since: 0, randomLeft: 0 }

  constructor(opts: BananasOptions) {
    super('bananas', opts, opts.eliteSize ?? 1)
    this.initialSamples = opts.initialSamples ?? 10
    this.perElite = opts.perElite ?? 20
    this.randomCandidates = opts.randomCandidates ?? 0
    this.acquisition = opts.acquisition ?? 'its'
    this.ensembleOptions = opts.ensemble ?? {}
    this.restartAfter = opts.restartAfter ?? 20
    this.restartPool = opts.restartPool ?? 0
    this.restartSamples = opts.restartSamples ?? this.initialSamples
    this.encoding = opts.encoding ?? 'onehot'
    this.radius = opts.radius ?? 2
    this.startDraws = opts.startDraws ?? 1
    this.targets = opts.targets ?? 'rank'
  }

  /** The predictor's input: the one-hot, the NAS-Bench-201 path encoding or both (see `encoding`). */
  protected override encode(arch: Architecture): number[] {
    if (this.ctx.space.family !== 'nb201' || arch.genotype?.family !== 'nb201') return super.encode(arch)
    return this.encodeGenes(this.ctx.space, nb201GenesOf(arch))
  }

  /** Random at first, then the candidate the predictor ranks first. */
  propose(): Proposal {
    this.proposed++
    if (this.proposed <= this.initialSamples || this.history.length < 2)
      return this.emit(this.startCandidate())
    if (this.restart.randomLeft > 0) {
      this.restart.randomLeft--
      if (this.restartPool === 0) return this.emit(this.startCandidate())
      return this.emit(this.choose([], this.restartPool))
    }
    return this.emit(this.choose(this.elite, this.randomCandidates))
  }

  /**
   * The candidate the predictor, refitted on every result so far, rates highest among the neighbours of each
   * of `elite` (see `radius` and `perElite`) and `random` uniform draws (a random one when that pool is empty).
   */
  private choose(elite: readonly Elite[], random: number): Architecture {
    const pool =
      this.radius > 0 && this.ctx.space.family === 'nb201'
        ? this.nb201Pool(this.ctx.space, elite, random)
        : candidatePool(elite, {
            perElite: this.perElite,
            random,
            seen: this.seen,
            mutate: (a) => this.mutate(a),
            sample: () => this.sample(),
            encode: (a) => this.encode(a),
            coin: () => this.rng.next(),
          }).map((c) => ({ enc: c.enc, build: () => c.architecture }))
    if (pool.length === 0) return this.randomUnseen()
    const model = (this.ensemble ??= new MlpEnsemble(pool[0]!.enc.length, this.ensembleOptions, this.rng))
    const scores = this.history.map((h) => h.score)
    model.fit(
      this.history.map((h) => h.enc),
      this.targets === 'rank' ? ranks(scores) : scores,
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
    return pool[bestIdx]!.build()
  }

  /**
   * Every unseen network within `radius` choices of each elite member and `random` uniform draws, encoded
   * from their genes: only the chosen one is built, which keeps a pool of hundreds cheap.
   */
  private nb201Pool(space: Nb201Space, elite: readonly Elite[], random: number): PoolEntry[] {
    const pool = new Map<string, PoolEntry>()
    const add = (g: Nb201Genes): void => {
      const key = `${g.cell.join(',')}|${g.channels}|${g.cellsPerStage}`
      let hash = this.hashes.get(key)
      if (hash === undefined) this.hashes.set(key, (hash = nb201Hash(g.cell, g.channels, g.cellsPerStage)))
      if (this.seen.has(hash) || pool.has(hash)) return
      pool.set(hash, {
        enc: this.encodeGenes(space, g),
        build: () =>
          buildNb201(g.cell, g.channels, g.cellsPerStage, this.ctx.inputShape, this.ctx.numClasses),
      })
    }
    for (const e of elite) nb201Neighbours(space, nb201GenesOf(e.architecture), this.radius).forEach(add)
    for (let i = 0; i < random; i++) add(randomNb201Genes(space, this.rng))
    return [...pool.values()]
  }

  /** encode() of a NAS-Bench-201 network from its genes. */
  private encodeGenes(space: Nb201Space, g: Nb201Genes): number[] {
    if (this.encoding === 'onehot') return encodeNb201(space, g.cell, g.channels, g.cellsPerStage)
    const paths = nb201CellPaths(space, g.cell)
    if (this.encoding === 'paths') return paths
    return [...encodeNb201(space, g.cell, g.channels, g.cellsPerStage), ...paths]
  }

  /** A random unseen network: the one with the most weights among `startDraws` draws. */
  private startCandidate(): Architecture {
    const { inputShape, numClasses } = this.ctx
    let best = this.randomUnseen()
    let most = this.startDraws > 1 ? countParams(best, inputShape, numClasses) : 0
    for (let i = 1; i < this.startDraws; i++) {
      const a = this.randomUnseen()
      const n = countParams(a, inputShape, numClasses)
      if (n > most) {
        best = a
        most = n
      }
    }
    return best
  }

  /** Records the result; after `restartAfter` results without a new best, starts again from random ones. */
  override observe(result: TrialObservation): void {
    super.observe(result)
    if (this.restartAfter <= 0) return
    const score = scoreOf(result)
    if (score > this.restart.best) {
      this.restart.best = score
      this.restart.since = 0
    } else if (++this.restart.since >= this.restartAfter) {
      // the mutations are drawn around the best results since the restart only
      this.elite = []
      this.restart = { best: -1, since: 0, randomLeft: this.restartSamples }
      return
    }
  }

  override saveState(): BananasState {
    return { ...super.saveState(), ensemble: this.ensemble?.state() ?? null, restart: { ...this.restart } }
  }

  override restoreState(state: unknown): void {
    super.restoreState(state)
    const e = (state as BananasState).ensemble
    this.ensemble = e ? new MlpEnsemble(e.inputSize, this.ensembleOptions, e) : null
    this.restart = { ...(state as BananasState).restart }
  }

  /** A standard normal draw (Box-Muller) from the strategy's RNG. */
  private gaussian(): number {
    const u = 1 - this.rng.next()
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.rng.next())
  }
}

/** Ranks of `xs` scaled to [0, 1] (ties share their mean rank). */
export function ranks(xs: readonly number[]): number[] {
  const order = xs.map((x, i) => [x, i] as const).sort((a, b) => a[0] - b[0])
  const out = new Array<number>(xs.length)
  const top = Math.max(1, xs.length - 1)
  for (let i = 0; i < order.length;) {
    let j = i
    while (j + 1 < order.length && order[j + 1]![0] === order[i]![0]) j++
    for (let k = i; k <= j; k++) out[order[k]![1]] = (i + j) / 2 / top
    i = j + 1
  }
  return out
}
