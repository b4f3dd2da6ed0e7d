import type { AlphaSnapshot, Architecture, CellOp, Nb201Op, SearchSpaceDef } from '../../shared'
import { NasError } from '../../shared'
import { tf } from '../compute/backend'
import type { DataPart, LoadedData } from '../data/loaded-data'
import type { ParallelGroup } from '../evaluate/data-parallel'
import type { Logger } from '../ports'
import { silentLogger } from '../ports'
import { Rng } from '../rng'
import { buildNb201 } from '../space'
import { buildCells } from '../space/cell'
import type { SupernetConfig } from './supernet'
import { Supernet } from './supernet'
import { SupernetRanks } from './supernet-ranks'

/** Sizes of the one-shot search; the defaults keep it to about a minute on two CPU cores. */
export interface OneShotSettings {
  /** Training images used by the supernet (half for weights, half for alphas); default 512. */
  images: number
  epochs: number
  batchSize: number
  /** Supernet channels in the first stage; default 4. */
  channels: number
  /** Supernet cells per stage; default 1. */
  cellsPerStage: number
  /** Learning rate of the network weights (Adam); default 0.003. */
  weightLr: number
  /** Learning rate of alpha (and beta) (Adam); default 0.003. */
  archLr: number
  /** PC-DARTS: channel share 1/K through the mixed op; default 2 for pc-darts (tiny channels), 1 for darts. */
  partialChannels?: number
  /**
   * L2 weight decay on alpha (and beta), as DARTS's 1e-3: pulls the architecture weights back towards uniform
   * unless the data keeps pushing; default 0.
   */
  archWeightDecay?: number
  /**
   * Epochs that train only the network weights before alpha starts to move (PC-DARTS warms up 15 of 50):
   * untrained ops all look alike, so early alpha steps mostly follow noise; default 0.
   */
  warmupEpochs?: number
  /**
   * Wall-clock ms the supernet may train: no epoch starts after it has passed (`epochs` is then a cap); the
   * architecture is read off the weights as they are. Default none.
   */
  timeLimitMs?: number
}

export const DEFAULT_ONE_SHOT: OneShotSettings = {
  images: 512,
  epochs: 2,
  batchSize: 32,
  channels: 4,
  cellsPerStage: 1,
  weightLr: 0.003,
  archLr: 0.003,
}

/** Options of searchOneShot. */
export interface OneShotOptions {
  method: 'darts' | 'pc-darts'
  space: SearchSpaceDef
  data: LoadedData
  seed: number
  settings?: Partial<OneShotSettings>
  signal?: AbortSignal
  /** The clock settings.timeLimitMs is measured with (ms; default performance.now), injectable for benchmarks. */
  now?: () => number
  /** Called with softmax(alpha) after epoch 0 (the start) and after every epoch (without runId). */
  onSnapshot?: (snapshot: Omit<AlphaSnapshot, 'runId'>) => void
  logger?: Logger
  /**
   * A data-parallel group (worker threads): this rank learns from its share of every batch and the ranks
   * average their gradients at every step, so all hold the same supernet. Alone without one.
   */
  parallel?: ParallelGroup
}

/** What a one-shot search found: the discrete architecture (full size, from the space) and its cells. */
export interface OneShotResult {
  architecture: Architecture
  /** NB201 canonical cell string, or the DARTS genotype as text. */
  cell: string
  snapshots: Array<Omit<AlphaSnapshot, 'runId'>>
  /** Validation accuracy of the supernet at the end (on the alpha half), for logs. */
  supernetAccuracy: number
}

function batchOf(
  part: DataPart,
  idx: readonly number[],
  shape: number[],
  numClasses: number,
): { x: tf.Tensor4D; y: tf.Tensor2D } {
  const size = shape.reduce((a, b) => a * b, 1)
  const x = new Float32Array(idx.length * size)
  const y = new Int32Array(idx.length)
  idx.forEach((j, i) => {
    x.set(part.x.subarray(j * size, (j + 1) * size), i * size)
    y[i] = part.y[j]!
  })
  return {
    x: tf.tensor4d(x, [idx.length, shape[0]!, shape[1]!, shape[2]!]),
    y: tf.tidy(() => tf.oneHot(tf.tensor1d(y, 'int32'), numClasses) as tf.Tensor2D),
  }
}

/**
 * The discrete cell from the architecture weights, DARTS's rule: each edge keeps its strongest op other than
 * 'none'; in DARTS cells each node keeps its two strongest incoming edges (strength = that op's weight, times
 * the edge's beta for PC-DARTS).
 */
export function deriveCell(
  net: Supernet,
  kind: 'normal' | 'reduce',
  snapshot: { weights: number[][]; beta?: number[][] } = net.snapshot(kind),
): { ops: string[]; nodes: Array<{ inputs: [number, number]; ops: [CellOp, CellOp] }> } {
  const { weights, beta } = snapshot
  const ops = net.cfg.ops
  const best = weights.map((row) => {
    let bi = -1
    row.forEach((w, i) => {
      if (ops[i] !== 'none' && (bi < 0 || w > row[bi]!)) bi = i
    })
    return { op: ops[bi]!, w: row[bi]! }
  })
  if (net.cfg.kind === 'nb201') return { ops: best.map((b) => b.op), nodes: [] }
  const nodes: Array<{ inputs: [number, number]; ops: [CellOp, CellOp] }> = []
  const betaFlat = beta?.flat()
  for (let m = 0; m < net.cfg.nodes; m++) {
    const incoming = net.edges
      .map((e, i) => ({ e, i, s: best[i]!.w * (betaFlat?.[i] ?? 1) }))
      .filter(({ e }) => e.to === m + 2)
      .sort((a, b) => b.s - a.s)
      .slice(0, 2)
    nodes.push({
      inputs: [incoming[0]!.e.from, incoming[1]!.e.from],
      ops: [best[incoming[0]!.i]!.op as CellOp, best[incoming[1]!.i]!.op as CellOp],
    })
  }
  return { ops: [], nodes }
}

/**
 * DARTS (Liu et al. 2019, first-order) and PC-DARTS (Xu et al. 2020) on a cell space ('nb201' or 'cell').
 * A small supernet (settings: channels, cells, images, epochs) mixes every op on every edge with
 * softmax(alpha) weights; training alternates one Adam step on alpha (and beta) with a batch of the
 * alpha half of the data and one Adam step on the weights with a batch of the weight half (the bilevel
 * problem, first-order). PC-DARTS sends 1/K of the channels through the mixed op and weighs each node's
 * incoming edges by softmax(beta). After the last epoch the discrete cell is derived (deriveCell) and
 * built at the space's own size (its first channel and cell-count choices) to be trained from scratch.
 * Deterministic given the seed; yields to the event loop between steps; NasError('cancelled') on abort.
 */
export async function searchOneShot(opts: OneShotOptions): Promise<OneShotResult> {
  const { space, data } = opts
  const logger = opts.logger ?? silentLogger
  if (space.family !== 'nb201' && space.family !== 'cell')
    throw new NasError(
      'invalid_space',
      `DARTS and PC-DARTS search cell spaces (NAS-Bench-201 or DARTS cells); "${space.family}" is not one. Choose another strategy.`,
    )
  if (data.inputShape.length !== 3)
    throw new NasError('invalid_space', 'DARTS needs image data [height, width, channels]')
  const s: OneShotSettings = { ...DEFAULT_ONE_SHOT, ...opts.settings }
  const pc = opts.method === 'pc-darts'
  const cfg: SupernetConfig = {
    kind: space.family === 'nb201' ? 'nb201' : 'darts',
    ops: space.ops,
    channels: s.channels,
    cellsPerStage: s.cellsPerStage,
    nodes: space.family === 'cell' ? space.nodes : 3,
    inputShape: data.inputShape,
    numClasses: data.numClasses,
    partialChannels: pc ? (s.partialChannels ?? 2) : 1,
    edgeNormalisation: pc,
  }
  const rng = new Rng(opts.seed)
  const net = new Supernet(cfg, rng)
  const wOpt = tf.train.adam(s.weightLr)
  const aOpt = tf.train.adam(s.archLr, 0.5, 0.999)
  const ranks = new SupernetRanks(opts.parallel, opts.signal)
  ranks.averageGradients(wOpt, aOpt)
  const n = Math.min(s.images, data.train.count)
  const order = rng.shuffle([...Array(data.train.count).keys()]).slice(0, n)
  const half = Math.max(1, Math.floor(n / 2))
  const wIdx = order.slice(0, half)
  const aIdx = order.slice(half).length > 0 ? order.slice(half) : wIdx
  const kinds: Array<'normal' | 'reduce'> = cfg.kind === 'nb201' ? ['normal'] : ['normal', 'reduce']
  const snapshots: OneShotResult['snapshots'] = []
  const edgesNames = net.edges.map((e) => e.name)
  // every read here is asynchronous: a GPU backend (webgpu) cannot read synchronously
  const record = async (epoch: number): Promise<void> => {
    for (const kind of kinds) {
      const snap = await net.snapshotAsync(kind)
      const full = {
        epoch,
        cell: cfg.kind === 'nb201' ? ('nb201' as const) : kind,
        ops: [...cfg.ops],
        edges: edgesNames,
        ...snap,
      }
      snapshots.push(full)
      opts.onSnapshot?.(full)
    }
  }
  const lossOf = (x: tf.Tensor4D, y: tf.Tensor2D) => (): tf.Scalar =>
    tf.losses.softmaxCrossEntropy(y, net.forward(x)) as tf.Scalar
  const archDecay = s.archWeightDecay ?? 0
  // the decay's gradient is archDecay * alpha, as in DARTS's optimizer
  const archLossOf = (x: tf.Tensor4D, y: tf.Tensor2D) => (): tf.Scalar =>
    archDecay > 0
      ? tf.add(
          lossOf(x, y)(),
          tf.mul(archDecay / 2, tf.addN(net.archVariables.map((v) => tf.sum(tf.square(v))))),
        )
      : lossOf(x, y)()
  let supernetAccuracy = 0
  try {
    await record(0)
    const now = opts.now ?? (() => performance.now())
    const started = now()
    for (let epoch = 1; epoch <= s.epochs; epoch++) {
      if (s.timeLimitMs !== undefined && epoch > 1 && ranks.agree(now() - started >= s.timeLimitMs)) break
      const wOrder = rng.shuffle([...wIdx])
      const aOrder = rng.shuffle([...aIdx])
      const steps = Math.ceil(wOrder.length / s.batchSize)
      let lossSum = 0
      for (let step = 0; step < steps; step++) {
        ranks.throwIfCancelled()
        if (epoch > (s.warmupEpochs ?? 0)) {
          const aBatch = ranks.share(aOrder.slice((step * s.batchSize) % aOrder.length).slice(0, s.batchSize))
          const a = batchOf(data.train, aBatch, data.inputShape, data.numClasses)
          tf.tidy(() => {
            aOpt.minimize(archLossOf(a.x, a.y), false, net.archVariables)
          })
          tf.dispose([a.x, a.y])
        }
        const wb = batchOf(
          data.train,
          ranks.share(wOrder.slice(step * s.batchSize, (step + 1) * s.batchSize)),
          data.inputShape,
          data.numClasses,
        )
        // the weights are made on the first forward pass (during warm-up there was no alpha step to make them)
        if (net.weights.length === 0) tf.tidy(() => void net.forward(wb.x))
        const loss = tf.tidy(() => wOpt.minimize(lossOf(wb.x, wb.y), true, net.weights) ?? tf.scalar(NaN))
        lossSum += (await loss.data())[0]!
        tf.dispose([loss, wb.x, wb.y])
        await new Promise((resolve) => setImmediate(resolve))
      }
      // accuracy of the supernet on the alpha half (held out from the weights)
      const probe = batchOf(data.train, aIdx.slice(0, 128), data.inputShape, data.numClasses)
      const accuracy = tf.tidy(() => net.forward(probe.x).argMax(1).equal(probe.y.argMax(1)).mean())
      supernetAccuracy = (await accuracy.data())[0]!
      accuracy.dispose()
      tf.dispose([probe.x, probe.y])
      logger.info('One-shot epoch', { method: opts.method, epoch, loss: lossSum / steps, supernetAccuracy })
      await record(epoch)
    }
    const inputShape = data.inputShape
    if (space.family === 'nb201') {
      const ops = deriveCell(net, 'normal', await net.snapshotAsync('normal')).ops as Nb201Op[]
      const architecture = buildNb201(
        ops,
        space.channels[0]!,
        space.cellsPerStage[0]!,
        inputShape,
        data.numClasses,
      )
      const g = architecture.genotype
      return { architecture, cell: g?.family === 'nb201' ? g.cell : '', snapshots, supernetAccuracy }
    }
    const normal = deriveCell(net, 'normal', await net.snapshotAsync('normal')).nodes
    const reduce = deriveCell(net, 'reduce', await net.snapshotAsync('reduce')).nodes
    const geno = {
      family: 'cell' as const,
      channels: space.initChannels[0]!,
      cellsPerStage: space.cellsPerStage[0]!,
      normal,
      reduce,
    }
    const architecture = buildCells(space, geno, inputShape, data.numClasses)
    const text = (cell: typeof normal): string =>
      cell.map((nd, m) => `n${m}=${nd.ops[0]}(${nd.inputs[0]})+${nd.ops[1]}(${nd.inputs[1]})`).join(' ')
    return {
      architecture,
      cell: `normal: ${text(normal)}; reduce: ${text(reduce)}`,
      snapshots,
      supernetAccuracy,
    }
  } finally {
    net.dispose()
    wOpt.dispose()
    aOpt.dispose()
  }
}
