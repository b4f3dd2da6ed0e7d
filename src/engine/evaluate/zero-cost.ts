import type { Architecture, Dataset, ZeroCostProxy } from '../../shared'
import { NasError, ZERO_COST_PROXIES } from '../../shared'
import { initHostCompute, tf } from '../compute/backend'
import type { DataPart } from '../data/loaded-data'
import { loadDataset } from '../data/load'
import type { Logger } from '../ports'
import { silentLogger } from '../ports'
import { Rng } from '../rng'
import { buildModel } from './build-model'
import { slogdet, symmetricEigenvalues } from './linalg'
import { candidateCost } from './objectives'
import { forwardLogits, proxyWeights } from './proxy-forward'
import { synflow } from './synflow'

/**
 * Zero-cost proxies (Abdelfattah et al. 2021, "Zero-Cost Proxies for Lightweight NAS"; Mellor et al. 2021,
 * "Neural Architecture Search without Training"): scores of an untrained network, computed at initialisation
 * on one minibatch in well under a second for small networks. Higher is better for every proxy. Which weights
 * count: the kernels of conv / dense / depthwise / pointwise layers (not biases nor batch-norm scales), as in the
 * reference code. Dropout is off throughout; batch norm uses batch statistics (as a PyTorch net in train mode)
 * except for synflow, which runs it in inference mode (identity at initialisation: no data statistics).
 */

/** Scores of one architecture; a proxy that cannot be computed (e.g. naswot without ReLUs) is NaN. */
export type ZeroCostScores = Partial<Record<ZeroCostProxy, number>>

/** One minibatch: images [n, ...inputShape] and one-hot labels [n, classes]. The caller disposes both. */
export interface ZeroCostBatch {
  x: tf.Tensor
  y: tf.Tensor
}

/** Samples in the minibatch the proxies see (the reference code uses 64). */
export const ZERO_COST_BATCH = 64

/** Additive constant of jacob_cov's eigenvalue terms (Mellor et al., v1). */
const JACOB_K = 1e-5

/**
 * A minibatch of `size` samples drawn without replacement from `part` with `seed` (all of them if fewer), as
 * tensors. Why a seeded draw rather than the first rows: a part may be ordered by class.
 */
export function zeroCostBatch(
  part: DataPart,
  inputShape: number[],
  numClasses: number,
  size = ZERO_COST_BATCH,
  seed = 0,
): ZeroCostBatch {
  if (part.count === 0) throw new NasError('training_failed', 'No training samples to score candidates on')
  const n = Math.min(size, part.count)
  const rows = new Rng(seed).shuffle([...Array(part.count).keys()]).slice(0, n)
  const dim = inputShape.reduce((a, b) => a * b, 1)
  const x = new Float32Array(n * dim)
  const y = new Int32Array(n)
  rows.forEach((r, k) => {
    x.set(part.x.subarray(r * dim, (r + 1) * dim), k * dim)
    y[k] = part.y[r]!
  })
  return tf.tidy(() => ({
    x: tf.tensor(x, [n, ...inputShape], 'float32'),
    y: tf.oneHot(tf.tensor1d(y, 'int32'), numClasses),
  }))
}

/** grad_norm (sum over weight tensors of the L2 norm of dLoss/dW) and snip (sum of |W * dLoss/dW|). */
function gradProxies(
  model: tf.LayersModel,
  arch: Architecture,
  batch: ZeroCostBatch,
): { gradNorm: number; snip: number } {
  const vars = proxyWeights(model)
  return tf.tidy(() => {
    const { value, grads } = tf.variableGrads(
      () => tf.losses.softmaxCrossEntropy(batch.y, forwardLogits(model, arch, batch.x, { bnTraining: true })),
      vars,
    )
    value.dispose()
    let gradNorm = 0
    let snip = 0
    for (const v of vars) {
      // A weight that does not reach the output (a cell edge fed by a 'none' node) has no gradient: it
      // contributes nothing to either sum.
      const g = grads[v.name]
      if (!g) continue
      gradNorm += Math.sqrt(tf.sum(tf.square(g)).dataSync()[0]!)
      snip += tf.sum(tf.abs(tf.mul(v, g))).dataSync()[0]!
    }
    return { gradNorm, snip }
  })
}

/**
 * d(sum of logits)/d(input). A network whose output does not depend on its input at all (every path from
 * the input crosses a 'none' edge) has a Jacobian of zeros, but tf.grad refuses to differentiate a function
 * its argument does not reach; adding 0 * sum(input) connects it without changing the result.
 */
function inputJacobian(model: tf.LayersModel, arch: Architecture, x: tf.Tensor): tf.Tensor {
  return tf.grad((input: tf.Tensor) =>
    tf.add(tf.sum(forwardLogits(model, arch, input, { bnTraining: true })), tf.mul(tf.sum(input), 0)),
  )(x)
}

/**
 * jacob_cov (Mellor et al. v1): the Jacobian of the summed logits with respect to each input image, the
 * correlation matrix C of those per-image Jacobians, and -sum(log(l + k) + 1 / (l + k)) over C's eigenvalues l
 * (k = 1e-5): high when the network reacts to different images differently. Eigenvalues in float64.
 */
function jacobCov(model: tf.LayersModel, arch: Architecture, batch: ZeroCostBatch): number {
  const n = batch.x.shape[0]!
  const corr = tf.tidy(() => {
    const jac = inputJacobian(model, arch, batch.x).reshape([n, -1])
    const centred = tf.sub(jac, tf.mean(jac, 1, true))
    // why the epsilon: a constant row (a dead network) would divide by zero; it then counts as uncorrelated
    const unit = tf.div(centred, tf.add(tf.sqrt(tf.sum(tf.square(centred), 1, true)), 1e-12))
    return tf.matMul(unit, unit, false, true)
  })
  const c = corr.dataSync()
  corr.dispose()
  let score = 0
  for (const l of symmetricEigenvalues(c, n)) {
    const v = Math.max(l, 0) + JACOB_K
    score -= Math.log(v) + 1 / v
  }
  return score
}

/**
 * naswot (Mellor et al. v2): each image's binary code of which ReLUs are on; K[i][j] = number of units on which
 * images i and j agree; the score is log|det K|. NaN when the network has no ReLU.
 */
function naswot(model: tf.LayersModel, arch: Architecture, batch: ZeroCostBatch): number {
  const n = batch.x.shape[0]!
  let noRelu = false
  const k = tf.tidy(() => {
    const relus: tf.Tensor[] = []
    forwardLogits(model, arch, batch.x, { bnTraining: true, relus })
    noRelu = relus.length === 0
    if (noRelu) return tf.zeros([n, n])
    const codes = tf.concat(
      relus.map((r) => tf.cast(tf.greater(r, 0), 'float32').reshape([n, -1])),
      1,
    )
    const off = tf.sub(1, codes)
    return tf.add(tf.matMul(codes, codes, false, true), tf.matMul(off, off, false, true))
  })
  const values = k.dataSync()
  k.dispose()
  return noRelu ? NaN : slogdet(values, n).logAbsDet
}

/** Options of zeroCostScores: the data's input shape, the weight-init seed and which proxies (default all). */
export interface ZeroCostOptions {
  inputShape: number[]
  seed: number
  proxies?: readonly ZeroCostProxy[]
}

/**
 * Every requested zero-cost proxy of `arch` at initialisation (weights from buildModel with `seed`) on `batch`.
 * params and flops are counted from the graph. Builds one model and disposes it and every tensor it made.
 */
export function zeroCostScores(
  arch: Architecture,
  batch: ZeroCostBatch,
  opts: ZeroCostOptions,
): ZeroCostScores {
  const want = new Set<ZeroCostProxy>(opts.proxies ?? ZERO_COST_PROXIES)
  const out: ZeroCostScores = {}
  if (want.has('params') || want.has('flops')) {
    const cost = candidateCost(arch, opts.inputShape)
    if (want.has('params')) out.params = cost.params
    if (want.has('flops')) out.flops = cost.flops
  }
  if (![...want].some((p) => p !== 'params' && p !== 'flops')) return out
  const model = buildModel(arch, opts.inputShape, opts.seed)
  try {
    // the batch-statistics passes also move batch norm's moving averages; synflow runs batch norm in inference
    // mode, so it gets the fresh ones back
    const fresh = want.has('synflow') ? snapshotMovingStats(model) : null
    if (want.has('grad_norm') || want.has('snip')) {
      const g = gradProxies(model, arch, batch)
      if (want.has('grad_norm')) out.grad_norm = g.gradNorm
      if (want.has('snip')) out.snip = g.snip
    }
    if (want.has('jacob_cov')) out.jacob_cov = jacobCov(model, arch, batch)
    if (want.has('naswot')) out.naswot = naswot(model, arch, batch)
    if (want.has('synflow')) {
      restoreMovingStats(fresh!)
      out.synflow = synflow(model, arch, opts.inputShape)
    }
  } finally {
    model.dispose()
  }
  return out
}

type Snapshot = Array<{ w: tf.LayerVariable; value: tf.Tensor }>

function snapshotMovingStats(model: tf.LayersModel): Snapshot {
  return model.nonTrainableWeights.map((w) => ({ w, value: tf.clone(w.read()) }))
}

function restoreMovingStats(snap: Snapshot): void {
  for (const { w, value } of snap) {
    w.write(value)
    value.dispose()
  }
}

/** Scores architectures with one proxy on a fixed minibatch of a dataset's training split. */
export interface ZeroCostScorer {
  readonly proxy: ZeroCostProxy
  /**
   * The proxy's score of each architecture (higher = more promising); NaN where it cannot be computed. The
   * minibatch lives as tensors only during the call, so a scorer needs no disposing.
   */
  scoreAll(archs: readonly Architecture[]): number[]
}

/** Options of createZeroCostScorer. */
export interface ZeroCostScorerOptions {
  proxy: ZeroCostProxy
  /** The run's validation fraction: the minibatch comes from the training part of the same split. */
  validationFraction: number
  /** Seeds the minibatch draw and every candidate's initial weights. */
  seed: number
  /** Seed of the train/validation split (the trial workers use 0). */
  splitSeed?: number
  batchSize?: number
  logger?: Logger
}

/**
 * A scorer for the search's main process: initialises compute, loads `dataset` (training split only; the
 * validation split is never looked at) and keeps one minibatch as plain arrays (the rest of the data is let
 * go). params and flops need neither data nor compute.
 */
export async function createZeroCostScorer(
  dataset: Dataset,
  opts: ZeroCostScorerOptions,
): Promise<ZeroCostScorer> {
  const inputShape = dataset.inputShape
  const proxy = opts.proxy
  if (proxy === 'params' || proxy === 'flops') {
    return { proxy, scoreAll: (archs) => archs.map((a) => candidateCost(a, inputShape)[proxy]) }
  }
  await initHostCompute(opts.logger ?? silentLogger)
  const data = await loadDataset(dataset, {
    validationFraction: opts.validationFraction,
    seed: opts.splitSeed ?? 0,
  })
  const { numClasses } = data
  const shape = data.inputShape
  const picked = zeroCostBatch(data.train, shape, numClasses, opts.batchSize, opts.seed)
  const x = picked.x.dataSync().slice()
  const y = picked.y.dataSync().slice()
  const n = picked.x.shape[0]!
  tf.dispose([picked.x, picked.y])
  return {
    proxy,
    scoreAll: (archs) => {
      const batch = { x: tf.tensor(x, [n, ...shape]), y: tf.tensor(y, [n, numClasses]) }
      try {
        return archs.map((arch) => {
          try {
            return zeroCostScores(arch, batch, { inputShape: shape, seed: opts.seed, proxies: [proxy] })[
              proxy
            ]!
          } catch (err) {
            opts.logger?.warn('Zero-cost proxy failed', {
              proxy,
              error: err instanceof Error ? err.message : String(err),
            })
            return NaN
          }
        })
      } finally {
        tf.dispose([batch.x, batch.y])
      }
    },
  }
}
