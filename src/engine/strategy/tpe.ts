import { candidatePool } from './candidates'
import { ModelBasedStrategy } from './model-based'
import type { Proposal, SearchStrategy, StrategyContext } from './types'

/** Options of the tree-structured Parzen estimator. */
export interface TpeOptions extends StrategyContext {
  /** Random candidates evaluated before the densities are used; default 10. */
  initialSamples?: number
  /** Share of results that count as "good" (the l(x) density); default 0.25. */
  gamma?: number
  /** Candidates scored per proposal; default 48 (half mutations of good ones, half random). */
  candidates?: number
}

/** Per-dimension categorical densities over the encoding's values, with add-one smoothing. */
function densities(rows: readonly number[][]): Array<Map<string, number>> {
  const dims = rows[0]?.length ?? 0
  const out: Array<Map<string, number>> = []
  for (let d = 0; d < dims; d++) {
    const m = new Map<string, number>()
    for (const r of rows) {
      const key = r[d]!.toFixed(4)
      m.set(key, (m.get(key) ?? 0) + 1)
    }
    out.push(m)
  }
  return out
}

function logDensity(dens: Array<Map<string, number>>, n: number, x: readonly number[]): number {
  let s = 0
  x.forEach((v, d) => {
    const m = dens[d]!
    // add-one smoothing over the values seen in this dimension plus one unseen value
    s += Math.log(((m.get(v.toFixed(4)) ?? 0) + 1) / (n + m.size + 1))
  })
  return s
}

/**
 * TPE (Bergstra et al. 2011) over the space's numeric encoding: the results are split at the `gamma`
 * quantile into good and bad; each encoding dimension gets a smoothed categorical density for both; the next
 * proposal maximises l(x) / g(x) among candidates drawn from the prior (random) and around the good ones.
 */
export class Tpe extends ModelBasedStrategy implements SearchStrategy {
  private readonly initialSamples: number
  private readonly gamma: number
  private readonly candidates: number

  constructor(opts: TpeOptions) {
    super('tpe', opts, 10)
    this.initialSamples = opts.initialSamples ?? 10
    this.gamma = opts.gamma ?? 0.25
    this.candidates = opts.candidates ?? 48
  }

  /** Random at first, then the candidate of highest l(x) / g(x). */
  propose(): Proposal {
    this.proposed++
    if (this.proposed <= this.initialSamples || this.history.length < 4) return this.emit(this.randomUnseen())
    const sorted = [...this.history].sort((a, b) => b.score - a.score)
    const nGood = Math.max(1, Math.ceil(this.gamma * sorted.length))
    const good = sorted.slice(0, nGood).map((h) => h.enc)
    const bad = sorted.slice(nGood).map((h) => h.enc)
    const lDens = densities(good)
    const gDens = densities(bad)
    const half = Math.ceil(this.candidates / 2)
    const pool = candidatePool(this.elite.slice(0, nGood), {
      perElite: Math.max(1, Math.ceil(half / Math.min(nGood, this.elite.length || 1))),
      random: half,
      seen: this.seen,
      mutate: (a) => this.mutate(a),
      sample: () => this.sample(),
      encode: (a) => this.encode(a),
      coin: () => this.rng.next(),
    })
    if (pool.length === 0) return this.emit(this.randomUnseen())
    let best = pool[0]!
    let bestScore = -Infinity
    for (const c of pool) {
      const s = logDensity(lDens, good.length, c.enc) - logDensity(gDens, bad.length, c.enc)
      if (s > bestScore) {
        bestScore = s
        best = c
      }
    }
    return this.emit(best.architecture)
  }
}
