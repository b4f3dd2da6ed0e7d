import { candidatePool } from './candidates'
import { ModelBasedStrategy } from './model-based'
import type { Proposal, SearchStrategy, StrategyContext } from './types'

/** Options of predictor-guided Bayesian optimisation. */
export interface BayesOptOptions extends StrategyContext {
  /** Random candidates evaluated before the predictor is used; default 10. */
  initialSamples?: number
  /** Best candidates whose mutations are scored each step; default 10. */
  eliteSize?: number
  /** Mutations scored per elite member each step; default 4. */
  perElite?: number
  /** Random candidates scored each step; default 20. */
  randomCandidates?: number
}

/** Most results the GP is fitted on (half best, half most recent). */
const MAX_GP_POINTS = 160

/** Lower Cholesky factor of a symmetric positive-definite n x n matrix (row-major); throws when not SPD. */
function cholesky(a: Float64Array, n: number): Float64Array {
  const l = new Float64Array(n * n)
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let s = a[i * n + j]!
      for (let k = 0; k < j; k++) s -= l[i * n + k]! * l[j * n + k]!
      if (i === j) {
        if (s <= 0) throw new RangeError('not positive definite')
        l[i * n + i] = Math.sqrt(s)
      } else l[i * n + j] = s / l[j * n + j]!
    }
  }
  return l
}

/** Solves L x = b (forward) for lower-triangular L. */
function forward(l: Float64Array, n: number, b: Float64Array): Float64Array {
  const x = new Float64Array(n)
  for (let i = 0; i < n; i++) {
    let s = b[i]!
    for (let k = 0; k < i; k++) s -= l[i * n + k]! * x[k]!
    x[i] = s / l[i * n + i]!
  }
  return x
}

/** Solves L^T x = b (backward) for lower-triangular L. */
function backward(l: Float64Array, n: number, b: Float64Array): Float64Array {
  const x = new Float64Array(n)
  for (let i = n - 1; i >= 0; i--) {
    let s = b[i]!
    for (let k = i + 1; k < n; k++) s -= l[k * n + i]! * x[k]!
    x[i] = s / l[i * n + i]!
  }
  return x
}

const sqDist = (a: readonly number[], b: readonly number[]): number => {
  let s = 0
  for (let i = 0; i < a.length; i++) s += (a[i]! - b[i]!) ** 2
  return s
}

/** Standard normal pdf and cdf (Abramowitz-Stegun 7.1.26 erf, error < 1.5e-7). */
const pdf = (z: number): number => Math.exp(-0.5 * z * z) / Math.sqrt(2 * Math.PI)
function cdf(z: number): number {
  const x = Math.abs(z) / Math.SQRT2
  const t = 1 / (1 + 0.3275911 * x)
  const y =
    1 -
    ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) *
      t *
      Math.exp(-x * x)
  return z >= 0 ? 0.5 * (1 + y) : 0.5 * (1 - y)
}

/** A fitted Gaussian process: predicts mean and standard deviation (in the scale of the targets). */
export interface GpModel {
  predict(x: readonly number[]): { mean: number; std: number }
}

/**
 * Fits a GP with a squared-exponential kernel on the encodings. Targets are standardised; the length scale
 * and the noise are chosen from a small grid by the log marginal likelihood.
 */
export function fitGp(xs: readonly number[][], ys: readonly number[]): GpModel {
  const n = xs.length
  const mu = ys.reduce((a, b) => a + b, 0) / n
  const sd = Math.sqrt(ys.reduce((a, b) => a + (b - mu) ** 2, 0) / n) || 1
  const y = Float64Array.from(ys, (v) => (v - mu) / sd)
  const d2 = new Float64Array(n * n)
  for (let i = 0; i < n; i++)
    for (let j = 0; j < i; j++) d2[i * n + j] = d2[j * n + i] = sqDist(xs[i]!, xs[j]!)
  let best: { ll: number; ls2: number; l: Float64Array; alpha: Float64Array } | null = null
  for (const ls2 of [1, 2, 4, 8]) {
    for (const noise of [0.01, 0.1]) {
      const k = new Float64Array(n * n)
      for (let i = 0; i < n * n; i++) k[i] = Math.exp(-d2[i]! / (2 * ls2))
      for (let i = 0; i < n; i++) k[i * n + i] = 1 + noise
      let l: Float64Array
      try {
        l = cholesky(k, n)
      } catch {
        continue
      }
      const alpha = backward(l, n, forward(l, n, y))
      let ll = 0
      for (let i = 0; i < n; i++) ll -= 0.5 * y[i]! * alpha[i]! + Math.log(l[i * n + i]!)
      if (best === null || ll > best.ll) best = { ll, ls2, l, alpha }
    }
  }
  const fit = best!
  return {
    predict: (x) => {
      const kx = Float64Array.from(xs, (xi) => Math.exp(-sqDist(xi, x) / (2 * fit.ls2)))
      let m = 0
      for (let i = 0; i < n; i++) m += kx[i]! * fit.alpha[i]!
      const v = forward(fit.l, n, kx)
      let var_ = 1
      for (let i = 0; i < n; i++) var_ -= v[i]! * v[i]!
      return { mean: mu + sd * m, std: sd * Math.sqrt(Math.max(var_, 1e-12)) }
    },
  }
}

/** Expected improvement over `best` of a normal prediction. */
export function expectedImprovement(mean: number, std: number, best: number): number {
  const z = (mean - best) / std
  return (mean - best) * cdf(z) + std * pdf(z)
}

/**
 * Predictor-guided Bayesian optimisation over the space's numeric encoding: a Gaussian process (squared-
 * exponential kernel on encodeArchitecture's vectors, hyperparameters by marginal likelihood) is refitted
 * after every result; each proposal is the candidate with the highest expected improvement among mutations of
 * the best candidates so far and random draws (as BANANAS-style local acquisition optimisation does).
 */
export class BayesOpt extends ModelBasedStrategy implements SearchStrategy {
  private readonly initialSamples: number
  private readonly perElite: number
  private readonly randomCandidates: number

  constructor(opts: BayesOptOptions) {
    super('bo', opts, opts.eliteSize ?? 10)
    this.initialSamples = opts.initialSamples ?? 10
    this.perElite = opts.perElite ?? 4
    this.randomCandidates = opts.randomCandidates ?? 20
  }

  /** Random at first, then the candidate of highest expected improvement under the GP. */
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
    // the GP is cubic in its data: fit it on the best and the most recent results only
    const recent = this.history.slice(-MAX_GP_POINTS / 2)
    const topK = [...this.history].sort((a, b) => b.score - a.score).slice(0, MAX_GP_POINTS / 2)
    const data = [...new Map([...topK, ...recent].map((h) => [h.hash, h])).values()]
    const gp = fitGp(
      data.map((h) => h.enc),
      data.map((h) => h.score),
    )
    const incumbent = Math.max(...this.history.map((h) => h.score))
    let bestIdx = 0
    let bestEi = -Infinity
    pool.forEach((c, i) => {
      const { mean, std } = gp.predict(c.enc)
      const ei = expectedImprovement(mean, std, incumbent)
      if (ei > bestEi) {
        bestEi = ei
        bestIdx = i
      }
    })
    return this.emit(pool[bestIdx]!.architecture)
  }
}
