import type { Rng } from '../rng'

/** Settings of an MLP ensemble predictor. */
export interface EnsembleOptions {
  /** Networks in the ensemble (each its own initialisation); default 3. */
  members?: number
  /** Width of the two hidden layers; default 16. */
  hidden?: number
  /** Full-batch Adam steps per network on the first fit; default 100. */
  epochs?: number
  /** Full-batch Adam steps per network on each later fit (continuing from the weights so far); default 15. */
  refitEpochs?: number
  /** Adam learning rate; default 0.01. */
  learningRate?: number
}

/** JSON-safe state of one member: its parameters and Adam's moments and step count. */
interface MemberState {
  p: number[]
  m: number[]
  v: number[]
  t: number
}

/** JSON-safe state of an ensemble. */
export interface EnsembleState {
  inputSize: number
  members: MemberState[]
}

/** Indices of the non-zero entries of x (architecture encodings are mostly one-hot). */
function nonZeros(x: Float64Array): Int32Array {
  const idx: number[] = []
  x.forEach((v, i) => {
    if (v !== 0) idx.push(i)
  })
  return Int32Array.from(idx)
}

/**
 * One MLP (d -> h -> h -> 1, ReLU) with all parameters in one vector: W0 (h x d), b0, W1 (h x h), b1, W2 (h),
 * b2; trained by full-batch Adam on the mean squared error.
 */
class Member {
  readonly p: Float64Array
  private readonly m: Float64Array
  private readonly v: Float64Array
  private t = 0
  private readonly o: { b0: number; w1: number; b1: number; w2: number; b2: number }
  private readonly h1: Float64Array
  private readonly h2: Float64Array

  constructor(
    private readonly d: number,
    private readonly h: number,
    init: Rng | MemberState,
  ) {
    this.o = {
      b0: h * d,
      w1: h * d + h,
      b1: h * d + h + h * h,
      w2: h * d + 2 * h + h * h,
      b2: h * d + 3 * h + h * h,
    }
    const size = this.o.b2 + 1
    this.h1 = new Float64Array(h)
    this.h2 = new Float64Array(h)
    if ('p' in init) {
      this.p = Float64Array.from(init.p)
      this.m = Float64Array.from(init.m)
      this.v = Float64Array.from(init.v)
      this.t = init.t
      return
    }
    // He-uniform weights for the ReLU layers, zero biases
    this.p = new Float64Array(size)
    const fill = (from: number, count: number, fanIn: number): void => {
      const bound = Math.sqrt(6 / fanIn)
      for (let i = 0; i < count; i++) this.p[from + i] = (init.next() * 2 - 1) * bound
    }
    fill(0, h * d, d)
    fill(this.o.w1, h * h, h)
    fill(this.o.w2, h, h)
    this.m = new Float64Array(size)
    this.v = new Float64Array(size)
  }

  /** Forward pass into h1 / h2; returns the output. */
  private forward(x: Float64Array, nz: Int32Array): number {
    const { p, d, h, h1, h2, o } = this
    for (let j = 0; j < h; j++) {
      let s = p[o.b0 + j]!
      for (const i of nz) s += p[j * d + i]! * x[i]!
      h1[j] = s > 0 ? s : 0
    }
    for (let j = 0; j < h; j++) {
      let s = p[o.b1 + j]!
      const row = o.w1 + j * h
      for (let i = 0; i < h; i++) s += p[row + i]! * h1[i]!
      h2[j] = s > 0 ? s : 0
    }
    let y = p[o.b2]!
    for (let i = 0; i < h; i++) y += p[o.w2 + i]! * h2[i]!
    return y
  }

  predict(x: Float64Array): number {
    return this.forward(x, nonZeros(x))
  }

  /** `epochs` full-batch Adam steps on (xs, ys). */
  train(
    xs: readonly Float64Array[],
    nzs: readonly Int32Array[],
    ys: Float64Array,
    epochs: number,
    lr: number,
  ): void {
    const { p, d, h, h1, h2, o } = this
    const g = new Float64Array(p.length)
    const d2 = new Float64Array(h)
    const d1 = new Float64Array(h)
    const n = xs.length
    for (let e = 0; e < epochs; e++) {
      g.fill(0)
      for (let s = 0; s < n; s++) {
        const x = xs[s]!
        const nz = nzs[s]!
        const dy = (2 * (this.forward(x, nz) - ys[s]!)) / n
        g[o.b2] = g[o.b2]! + dy
        for (let i = 0; i < h; i++) {
          g[o.w2 + i] = g[o.w2 + i]! + dy * h2[i]!
          d2[i] = h2[i]! > 0 ? dy * p[o.w2 + i]! : 0
        }
        d1.fill(0)
        for (let j = 0; j < h; j++) {
          const gj = d2[j]!
          if (gj === 0) continue
          g[o.b1 + j] = g[o.b1 + j]! + gj
          const row = o.w1 + j * h
          for (let i = 0; i < h; i++) {
            g[row + i] = g[row + i]! + gj * h1[i]!
            d1[i] = d1[i]! + gj * p[row + i]!
          }
        }
        for (let j = 0; j < h; j++) {
          const gj = h1[j]! > 0 ? d1[j]! : 0
          if (gj === 0) continue
          g[o.b0 + j] = g[o.b0 + j]! + gj
          for (const i of nz) g[j * d + i] = g[j * d + i]! + gj * x[i]!
        }
      }
      this.adam(g, lr)
    }
  }

  private adam(g: Float64Array, lr: number): void {
    this.t++
    const c1 = 1 - 0.9 ** this.t
    const c2 = 1 - 0.999 ** this.t
    const { p, m, v } = this
    for (let i = 0; i < g.length; i++) {
      m[i] = 0.9 * m[i]! + 0.1 * g[i]!
      v[i] = 0.999 * v[i]! + 0.001 * g[i]! * g[i]!
      p[i] = p[i]! - (lr * (m[i]! / c1)) / (Math.sqrt(v[i]! / c2) + 1e-8)
    }
  }

  state(): MemberState {
    return { p: [...this.p], m: [...this.m], v: [...this.v], t: this.t }
  }
}

/**
 * An ensemble of small MLPs predicting a score from an architecture encoding, as BANANAS's performance
 * predictor (White et al. 2021): the members differ only in their random initialisation, so their disagreement
 * is the predictor's uncertainty. The first fit trains from scratch; later fits continue from the weights so
 * far for fewer steps (the data only grows by a few points between fits), which keeps a search step cheap.
 * Targets are standardised per fit. Deterministic given the RNG; the state round-trips through JSON.
 */
export class MlpEnsemble {
  private readonly members: Member[]
  private mu = 0
  private sd = 1
  private fitted = false

  constructor(
    private readonly inputSize: number,
    private readonly opts: EnsembleOptions,
    init: Rng | EnsembleState,
  ) {
    const h = opts.hidden ?? 16
    if ('members' in init) {
      this.members = init.members.map((s) => new Member(inputSize, h, s))
      this.fitted = true
    } else {
      this.members = Array.from({ length: opts.members ?? 3 }, () => new Member(inputSize, h, init))
    }
  }

  /** Trains every member on (xs, ys): from scratch the first time, continuing afterwards. */
  fit(xs: readonly number[][], ys: readonly number[]): void {
    const n = ys.length
    this.mu = ys.reduce((a, b) => a + b, 0) / n
    this.sd = Math.sqrt(ys.reduce((a, b) => a + (b - this.mu) ** 2, 0) / n) || 1
    const x64 = xs.map((x) => Float64Array.from(x))
    const nzs = x64.map(nonZeros)
    const y64 = Float64Array.from(ys, (v) => (v - this.mu) / this.sd)
    const epochs = this.fitted ? (this.opts.refitEpochs ?? 15) : (this.opts.epochs ?? 100)
    for (const m of this.members) m.train(x64, nzs, y64, epochs, this.opts.learningRate ?? 0.01)
    this.fitted = true
  }

  /** Each member's prediction, in the targets' scale. */
  predictAll(x: readonly number[]): number[] {
    const v = Float64Array.from(x)
    return this.members.map((m) => this.mu + this.sd * m.predict(v))
  }

  /** The members' mean and standard deviation. */
  predict(x: readonly number[]): { mean: number; std: number } {
    const p = this.predictAll(x)
    const mean = p.reduce((a, b) => a + b, 0) / p.length
    return { mean, std: Math.sqrt(p.reduce((a, b) => a + (b - mean) ** 2, 0) / p.length) }
  }

  /** JSON-safe weights and optimiser state (the target scaling is redone by the next fit). */
  state(): EnsembleState {
    return { inputSize: this.inputSize, members: this.members.map((m) => m.state()) }
  }
}

/** A one-off ensemble fitted from scratch on (xs, ys). */
export function fitEnsemble(
  xs: readonly number[][],
  ys: readonly number[],
  rng: Rng,
  opts: EnsembleOptions = {},
): MlpEnsemble {
  const e = new MlpEnsemble(xs[0]!.length, opts, rng)
  e.fit(xs, ys)
  return e
}
