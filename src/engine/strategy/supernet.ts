import type { CellOp, Nb201Op } from '../../shared'
import { tf } from '../compute/backend'
import type { Rng } from '../rng'

/**
 * Weight-sharing supernets for the differentiable strategies (darts.ts), in plain TF.js ops so every weight is
 * a tf.Variable the two optimisers can split: `weights` (convolutions, classifier) and `arch` (alpha per cell
 * kind, beta for PC-DARTS's edge normalisation). Batch norm has no affine parameters and uses batch
 * statistics (as DARTS's search networks do). Ops are the single-stack versions of DARTS's (one ReLU-conv-BN
 * where DARTS stacks two for separable convs) to keep the network small on the CPU.
 */

/** An op of either cell space as the supernet runs it. */
export type SupernetOp = CellOp | Nb201Op

/** The shape of a supernet: which cell space, its ops and its (small) sizes. */
export interface SupernetConfig {
  kind: 'nb201' | 'darts'
  ops: readonly SupernetOp[]
  /** Channels of the first stage (doubled at each reduction). */
  channels: number
  /** Cells per stage (3 stages). */
  cellsPerStage: number
  /** Intermediate nodes per DARTS cell (NB201 cells always have 4 nodes). */
  nodes: number
  inputShape: number[]
  numClasses: number
  /** PC-DARTS: only 1/partialChannels of the channels go through the mixed op, and edges are normalised. */
  partialChannels: number
  edgeNormalisation: boolean
}

/** One edge of a cell: from state `from` to node `to`, with its index into the cell's alpha rows. */
export interface SupernetEdge {
  to: number
  from: number
  name: string
}

/** The edges of a cell: NB201's 6 (j <- i), or DARTS's (node m <- inputs 0, 1 and earlier nodes). */
export function cellEdges(cfg: Pick<SupernetConfig, 'kind' | 'nodes'>): SupernetEdge[] {
  const out: SupernetEdge[] = []
  if (cfg.kind === 'nb201') {
    for (const [to, from] of [
      [1, 0],
      [2, 0],
      [2, 1],
      [3, 0],
      [3, 1],
      [3, 2],
    ] as const)
      out.push({ to, from, name: `${to}<-${from}` })
    return out
  }
  for (let m = 0; m < cfg.nodes; m++) {
    for (let from = 0; from < m + 2; from++) {
      const src = from < 2 ? `input ${from}` : `node ${from - 2}`
      out.push({ to: m + 2, from, name: `node ${m} <- ${src}` })
    }
  }
  return out
}

const bn = (x: tf.Tensor4D): tf.Tensor4D => {
  const { mean, variance } = tf.moments(x, [0, 1, 2], true)
  return x.sub(mean).div(variance.add(1e-5).sqrt()) as tf.Tensor4D
}

/** Spreads a k x k depthwise kernel to (2k-1) x (2k-1) with zero rows/columns: a dilation-2 conv that trains. */
function dilate(w: tf.Tensor4D): tf.Tensor4D {
  const [k, , c, m] = w.shape
  const zRow = tf.zeros([1, k, c, m])
  const rows: tf.Tensor[] = []
  for (let i = 0; i < k; i++) {
    if (i > 0) rows.push(zRow)
    rows.push(w.slice([i, 0, 0, 0], [1, k, c, m]))
  }
  const tall = tf.concat(rows, 0)
  const zCol = tf.zeros([2 * k - 1, 1, c, m])
  const cols: tf.Tensor[] = []
  for (let j = 0; j < k; j++) {
    if (j > 0) cols.push(zCol)
    cols.push(tall.slice([0, j, 0, 0], [2 * k - 1, 1, c, m]))
  }
  return tf.concat(cols, 1) as tf.Tensor4D
}

/** Kernel size, depthwise-separable and dilation of a conv-like op; null for parameter-free ops. */
function convSpec(op: SupernetOp): { k: number; sep: boolean; dil: boolean } | null {
  switch (op) {
    case 'nor_conv_1x1':
    case 'conv_1x1':
      return { k: 1, sep: false, dil: false }
    case 'nor_conv_3x3':
    case 'conv_3x3':
      return { k: 3, sep: false, dil: false }
    case 'sep_conv_3x3':
      return { k: 3, sep: true, dil: false }
    case 'sep_conv_5x5':
      return { k: 5, sep: true, dil: false }
    case 'sep_conv_7x7':
      return { k: 7, sep: true, dil: false }
    case 'dil_conv_3x3':
      return { k: 3, sep: true, dil: true }
    case 'dil_conv_5x5':
      return { k: 5, sep: true, dil: true }
    default:
      return null
  }
}

/** The supernet: variables plus a forward pass that mixes every op of every edge. */
export class Supernet {
  readonly weights: tf.Variable[] = []
  /** alpha per cell kind: [edges, ops]; 'normal' only for NB201 (one cell kind). */
  readonly alpha: Record<'normal' | 'reduce', tf.Variable>
  /** PC-DARTS edge normalisation, per cell kind: [edges] (softmax taken over each node's incoming edges). */
  readonly beta: Record<'normal' | 'reduce', tf.Variable> | null
  readonly edges: SupernetEdge[]
  private readonly take: (name: string, shape: number[], fanIn: number) => tf.Variable
  private readonly made = new Map<string, tf.Variable>()

  constructor(
    readonly cfg: SupernetConfig,
    rng: Rng,
  ) {
    this.edges = cellEdges(cfg)
    const normal = (n: number, scale: number): Float32Array => {
      const out = new Float32Array(n)
      for (let i = 0; i < n; i++) {
        const u = Math.max(rng.next(), 1e-12)
        out[i] = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng.next()) * scale
      }
      return out
    }
    this.take = (name, shape, fanIn) => {
      let v = this.made.get(name)
      if (v === undefined) {
        const size = shape.reduce((a, b) => a * b, 1)
        const init = normal(size, Math.sqrt(2 / fanIn))
        v = tf.tidy(() => tf.variable(tf.tensor(init, shape), true))
        this.made.set(name, v)
        this.weights.push(v)
      }
      return v
    }
    // tidy disposes the initial tensors; the variables are kept
    const variable = (values: Float32Array, shape: number[]): tf.Variable =>
      tf.tidy(() => tf.variable(tf.tensor(values, shape), true))
    const archVar = (rows: number, cols: number): tf.Variable =>
      variable(normal(rows * cols, 1e-3), [rows, cols])
    this.alpha = {
      normal: archVar(this.edges.length, cfg.ops.length),
      reduce: archVar(this.edges.length, cfg.ops.length),
    }
    this.beta = cfg.edgeNormalisation
      ? {
          normal: variable(normal(this.edges.length, 1e-3), [this.edges.length]),
          reduce: variable(normal(this.edges.length, 1e-3), [this.edges.length]),
        }
      : null
  }

  /** The architecture variables (the second level of the bilevel problem). */
  get archVariables(): tf.Variable[] {
    const out = this.cfg.kind === 'nb201' ? [this.alpha.normal] : [this.alpha.normal, this.alpha.reduce]
    if (this.beta)
      out.push(...(this.cfg.kind === 'nb201' ? [this.beta.normal] : [this.beta.normal, this.beta.reduce]))
    return out
  }

  private reluConvBn(name: string, x: tf.Tensor4D, cOut: number, k: number, stride: number): tf.Tensor4D {
    const cIn = x.shape[3]
    const w = this.take(name, [k, k, cIn, cOut], k * k * cIn)
    return bn(tf.conv2d(tf.relu(x), w as tf.Tensor4D, stride, 'same'))
  }

  /** One op on an edge; null for 'none' (it adds nothing to the sum). */
  private op(name: string, op: SupernetOp, x: tf.Tensor4D, stride: number): tf.Tensor4D | null {
    const c = x.shape[3]
    if (op === 'none') return null
    if (op === 'skip_connect') return stride === 1 ? x : this.reluConvBn(`${name}/fr`, x, c, 1, stride)
    if (op === 'avg_pool_3x3') return tf.avgPool(x, 3, stride, 'same')
    if (op === 'max_pool_3x3') return tf.maxPool(x, 3, stride, 'same')
    const spec = convSpec(op)!
    if (!spec.sep) return this.reluConvBn(`${name}/conv`, x, c, spec.k, stride)
    const dw = this.take(`${name}/dw`, [spec.k, spec.k, c, 1], spec.k * spec.k) as tf.Tensor4D
    const kernel = spec.dil ? dilate(dw) : dw
    const pw = this.take(`${name}/pw`, [1, 1, c, c], c) as tf.Tensor4D
    return bn(tf.conv2d(tf.depthwiseConv2d(tf.relu(x), kernel, stride, 'same'), pw, 1, 'same'))
  }

  /** The mixed op of one edge: sum over ops of softmax(alpha) x op(x), on 1/K of the channels for PC-DARTS. */
  private mixed(name: string, x: tf.Tensor4D, w: tf.Tensor1D, stride: number): tf.Tensor4D {
    const k = this.cfg.partialChannels
    const c = x.shape[3]
    const part = k > 1 ? Math.max(1, Math.floor(c / k)) : c
    const xa = part < c ? x.slice([0, 0, 0, 0], [-1, -1, -1, part]) : x
    const terms: tf.Tensor4D[] = []
    this.cfg.ops.forEach((op, i) => {
      const y = this.op(`${name}/${op}`, op, xa, stride)
      if (y !== null) terms.push(y.mul(w.slice([i], [1])) as tf.Tensor4D)
    })
    let out: tf.Tensor4D = terms.length > 0 ? (tf.addN(terms) as tf.Tensor4D) : tf.zerosLike(xa)
    if (part < c) {
      let rest = x.slice([0, 0, 0, part], [-1, -1, -1, c - part])
      if (stride > 1) rest = tf.maxPool(rest, 2, 2, 'same')
      out = tf.concat([out, rest], 3)
      // channel shuffle so the next edge's partial slice sees other channels
      const [b, h, wd] = out.shape
      out = out
        .reshape([b, h, wd, k, c / k])
        .transpose([0, 1, 2, 4, 3])
        .reshape([b, h, wd, c]) as tf.Tensor4D
    }
    return out
  }

  /** Weights of edges into each node: softmax(beta) over the node's incoming edges (PC-DARTS), else ones. */
  private edgeWeights(kind: 'normal' | 'reduce'): number[] | tf.Tensor1D {
    if (!this.beta) return this.edges.map(() => 1)
    const beta = this.beta[kind]
    const parts: tf.Tensor[] = []
    let start = 0
    while (start < this.edges.length) {
      const to = this.edges[start]!.to
      let end = start
      while (end < this.edges.length && this.edges[end]!.to === to) end++
      parts.push(tf.softmax(beta.slice([start], [end - start]) as tf.Tensor1D))
      start = end
    }
    return tf.concat(parts) as tf.Tensor1D
  }

  private cell(
    prefix: string,
    kind: 'normal' | 'reduce',
    s0: tf.Tensor4D,
    s1: tf.Tensor4D,
    c: number,
  ): tf.Tensor4D {
    const alphaW = tf.softmax(this.alpha[kind]) as tf.Tensor2D
    const edgeW = this.edgeWeights(kind)
    const weightOf = (e: number): tf.Tensor1D => {
      const row = alphaW.slice([e, 0], [1, -1]).reshape([-1]) as tf.Tensor1D
      return Array.isArray(edgeW) ? row : (row.mul(edgeW.slice([e], [1])) as tf.Tensor1D)
    }
    if (this.cfg.kind === 'nb201') {
      const states: tf.Tensor4D[] = [s1]
      for (const to of [1, 2, 3]) {
        const terms = this.edges
          .map((e, i) => ({ e, i }))
          .filter(({ e }) => e.to === to)
          .map(({ e, i }) => this.mixed(`${prefix}/e${i}`, states[e.from]!, weightOf(i), 1))
        states.push(tf.addN(terms) as tf.Tensor4D)
      }
      return states[3]!
    }
    const reduction = kind === 'reduce'
    const larger = s0.shape[1] !== s1.shape[1]
    const states: tf.Tensor4D[] = [
      this.reluConvBn(`${prefix}/pre0`, s0, c, 1, larger ? 2 : 1),
      this.reluConvBn(`${prefix}/pre1`, s1, c, 1, 1),
    ]
    for (let m = 0; m < this.cfg.nodes; m++) {
      const terms = this.edges
        .map((e, i) => ({ e, i }))
        .filter(({ e }) => e.to === m + 2)
        .map(({ e, i }) =>
          this.mixed(`${prefix}/e${i}`, states[e.from]!, weightOf(i), reduction && e.from < 2 ? 2 : 1),
        )
      states.push(tf.addN(terms) as tf.Tensor4D)
    }
    return tf.concat(states.slice(2), 3) as tf.Tensor4D
  }

  /** Class logits of a batch [B, H, W, C]. */
  forward(x: tf.Tensor4D): tf.Tensor2D {
    const cfg = this.cfg
    let c = cfg.channels
    const stemC = cfg.kind === 'darts' ? 3 * c : c
    const stemW = this.take('stem', [3, 3, x.shape[3], stemC], 9 * x.shape[3])
    const stem = bn(tf.conv2d(x, stemW as tf.Tensor4D, 1, 'same'))
    let s0 = stem
    let s1 = stem
    let index = 0
    for (let stage = 0; stage < 3; stage++) {
      if (stage > 0) {
        c *= 2
        if (cfg.kind === 'nb201') {
          s1 = this.reluConvBn(`red${stage}`, s1, c, 3, 2)
        } else {
          const out = this.cell(`cell${index++}`, 'reduce', s0, s1, c)
          s0 = s1
          s1 = out
        }
      }
      for (let k = 0; k < cfg.cellsPerStage; k++) {
        const out = this.cell(`cell${index++}`, 'normal', s0, s1, c)
        s0 = s1
        s1 = out
      }
    }
    const pooled = tf.relu(bn(s1)).mean([1, 2]) as tf.Tensor2D
    const wOut = this.take('classifier', [pooled.shape[1], cfg.numClasses], pooled.shape[1])
    return pooled.matMul(wOut as tf.Tensor2D) as tf.Tensor2D
  }

  /** softmax(alpha) per cell kind as plain arrays, and softmax(beta) per node when normalising edges. */
  snapshot(kind: 'normal' | 'reduce'): { weights: number[][]; beta?: number[][] } {
    return tf.tidy(() => {
      const w = tf.softmax(this.alpha[kind]).arraySync() as number[][]
      if (!this.beta) return { weights: w }
      const ew = this.edgeWeights(kind) as tf.Tensor1D
      const flat = Array.from(ew.dataSync())
      const byNode = new Map<number, number[]>()
      this.edges.forEach((e, i) => byNode.set(e.to, [...(byNode.get(e.to) ?? []), flat[i]!]))
      return { weights: w, beta: [...byNode.values()] }
    })
  }

  /**
   * snapshot(), read asynchronously: the only way on a GPU backend (webgpu), which cannot read synchronously.
   * The search loop uses this one.
   */
  async snapshotAsync(kind: 'normal' | 'reduce'): Promise<{ weights: number[][]; beta?: number[][] }> {
    const probs = tf.softmax(this.alpha[kind])
    const w = (await probs.array()) as number[][]
    probs.dispose()
    if (!this.beta) return { weights: w }
    const ew = tf.tidy(() => this.edgeWeights(kind) as tf.Tensor1D)
    const flat = Array.from(await ew.data())
    ew.dispose()
    const byNode = new Map<number, number[]>()
    this.edges.forEach((e, i) => byNode.set(e.to, [...(byNode.get(e.to) ?? []), flat[i]!]))
    return { weights: w, beta: [...byNode.values()] }
  }

  /** Disposes every variable. */
  dispose(): void {
    tf.dispose([...this.weights, this.alpha.normal, this.alpha.reduce])
    if (this.beta) tf.dispose([this.beta.normal, this.beta.reduce])
  }
}
