import path from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import type { Architecture, Nb201Op } from '../../../src/shared'
import { ZERO_COST_PROXIES } from '../../../src/shared'
import { initCompute, tf } from '../../../src/engine/compute/backend'
import { describeBundledDataset } from '../../../src/engine/data/bundled-sample'
import { buildModel } from '../../../src/engine/evaluate/build-model'
import { candidateCost } from '../../../src/engine/evaluate/objectives'
import { buildNb201 } from '../../../src/engine/space/nb201'
import type { ZeroCostBatch } from '../../../src/engine/evaluate/zero-cost'
import { createZeroCostScorer, zeroCostBatch, zeroCostScores } from '../../../src/engine/evaluate/zero-cost'

const RESOURCES = path.resolve(__dirname, '../../../resources')
const SEED = 11

/** input [3] -> dense 4 (activation) [-> batch norm] -> dense 2 softmax. */
function mlp(activation: 'relu' | 'linear', batchNorm = false): Architecture {
  const nodes: Architecture['nodes'] = [
    { id: 'in', op: 'input' },
    { id: 'd1', op: 'dense', units: 4, activation },
    ...(batchNorm ? [{ id: 'bn', op: 'batchNorm' as const }] : []),
    { id: 'd2', op: 'dense', units: 2, activation: 'softmax' },
  ]
  const ids = nodes.map((n) => n.id)
  return {
    version: 1,
    nodes,
    edges: ids.slice(1).map((id, i) => [ids[i]!, id] as [string, string]),
    output: 'd2',
  }
}

/** The initial weights buildModel gives `arch` with SEED, as plain arrays (a separate model, disposed). */
function initialWeights(arch: Architecture): { W1: number[][]; b1: number[]; W2: number[][]; b2: number[] } {
  const model = buildModel(arch, [3], SEED)
  const [W1, b1] = model
    .getLayer('d1')
    .getWeights()
    .map((w) => w.arraySync())
  const [W2, b2] = model
    .getLayer('d2')
    .getWeights()
    .map((w) => w.arraySync())
  model.dispose()
  return { W1, b1, W2, b2 } as { W1: number[][]; b1: number[]; W2: number[][]; b2: number[] }
}

const X = [
  [0.5, -1, 2],
  [-0.5, 1, -2],
  [1.5, 0.25, -0.75],
  [-2, 0.5, 1],
  [0.3, 0.3, 0.3],
]
const LABELS = [0, 1, 1, 0, 1]

function batchOf(rows: number[][], labels: number[]): ZeroCostBatch {
  return {
    x: tf.tensor2d(rows),
    y: tf.oneHot(tf.tensor1d(labels, 'int32'), 2),
  }
}

const matVec = (v: number[], W: number[][]): number[] =>
  W[0]!.map((_, j) => v.reduce((s, vi, i) => s + vi * W[i]![j]!, 0))

describe('zero-cost proxies (real tf.js, checked against independent computations)', () => {
  beforeAll(async () => {
    await initCompute()
  })

  it('grad_norm and snip equal the same sums over tf.grads of a hand-written forward pass', () => {
    const arch = mlp('relu')
    const w = initialWeights(arch)
    const batch = batchOf(X, LABELS)
    const got = zeroCostScores(arch, batch, { inputShape: [3], seed: SEED, proxies: ['grad_norm', 'snip'] })
    // independent: mean softmax cross-entropy written out, gradients by tf.grads w.r.t. plain tensors
    const params = [tf.tensor2d(w.W1), tf.tensor1d(w.b1), tf.tensor2d(w.W2), tf.tensor1d(w.b2)]
    const grads = tf.grads((W1: tf.Tensor, b1: tf.Tensor, W2: tf.Tensor, b2: tf.Tensor) => {
      const h = tf.relu(tf.add(tf.matMul(batch.x as tf.Tensor2D, W1 as tf.Tensor2D), b1))
      const logits = tf.add(tf.matMul(h, W2 as tf.Tensor2D), b2)
      return tf.neg(tf.mean(tf.sum(tf.mul(batch.y, tf.logSoftmax(logits)), 1)))
    })(params)
    const norm = (t: tf.Tensor): number => Math.sqrt(tf.sum(tf.square(t)).dataSync()[0]!)
    const snip = (p: tf.Tensor, g: tf.Tensor): number => tf.sum(tf.abs(tf.mul(p, g))).dataSync()[0]!
    // kernels only (W1, W2), as the reference implementation
    expect(got.grad_norm).toBeGreaterThan(0)
    expect(got.grad_norm).toBeCloseTo(norm(grads[0]!) + norm(grads[2]!), 5)
    expect(got.snip).toBeCloseTo(snip(params[0]!, grads[0]!) + snip(params[2]!, grads[2]!), 5)
    tf.dispose([...params, ...grads, batch.x, batch.y])
  })

  it('grad_norm and snip of a softmax regression equal the closed form dLoss/dW = X^T (P - Y) / n', () => {
    const arch: Architecture = {
      version: 1,
      nodes: [
        { id: 'in', op: 'input' },
        { id: 'd2', op: 'dense', units: 2, activation: 'softmax' },
      ],
      edges: [['in', 'd2']],
      output: 'd2',
    }
    const model = buildModel(arch, [3], SEED)
    const [W, b] = model
      .getLayer('d2')
      .getWeights()
      .map((t) => t.arraySync()) as [number[][], number[]]
    model.dispose()
    // by hand: softmax probabilities per row, then the mean cross-entropy's gradient for each kernel entry
    const n = X.length
    const P = X.map((x) => {
      const z = matVec(x, W).map((v, j) => v + b[j]!)
      const m = Math.max(...z)
      const e = z.map((v) => Math.exp(v - m))
      const sum = e.reduce((a, c) => a + c, 0)
      return e.map((v) => v / sum)
    })
    const G = W.map((row, i) =>
      row.map((_, j) =>
        X.reduce((acc, x, r) => acc + (x[i]! * (P[r]![j]! - (LABELS[r] === j ? 1 : 0))) / n, 0),
      ),
    )
    const gradNorm = Math.sqrt(G.flat().reduce((a, g) => a + g * g, 0))
    const snip = G.flat().reduce((a, g, k) => a + Math.abs(g * W.flat()[k]!), 0)
    const batch = batchOf(X, LABELS)
    const got = zeroCostScores(arch, batch, { inputShape: [3], seed: SEED, proxies: ['grad_norm', 'snip'] })
    expect(gradNorm).toBeGreaterThan(0)
    expect(got.grad_norm).toBeCloseTo(gradNorm, 5)
    expect(got.snip).toBeCloseTo(snip, 5)
    tf.dispose([batch.x, batch.y])
  })

  it('synflow of a 2-layer linear net equals the closed form log(2 * 1^T |W1| |W2| 1)', () => {
    const arch = mlp('linear')
    const w = initialWeights(arch)
    const abs = (W: number[][]): number[][] => W.map((r) => r.map(Math.abs))
    // all-ones input, zero biases: R = 1^T |W1| |W2| 1, and each layer's sum of W * dR/dW equals R
    const R = matVec(matVec([1, 1, 1], abs(w.W1)), abs(w.W2)).reduce((a, b) => a + b, 0)
    const batch = batchOf(X, LABELS)
    const got = zeroCostScores(arch, batch, { inputShape: [3], seed: SEED, proxies: ['synflow', 'naswot'] })
    expect(got.synflow).toBeCloseTo(Math.log(2 * R), 5)
    // no ReLU, no activation codes: naswot is undefined for this network
    expect(got.naswot).toBeNaN()
    tf.dispose([batch.x, batch.y])
  })

  it('synflow runs batch norm in inference mode with fresh statistics, even after the batch-statistics proxies', () => {
    const arch = mlp('linear', true)
    const w = initialWeights(arch)
    const abs = (W: number[][]): number[][] => W.map((r) => r.map(Math.abs))
    // at initialisation batch norm in inference mode is x / sqrt(1 + epsilon) (tf.js epsilon 1e-3)
    const R = matVec(matVec([1, 1, 1], abs(w.W1)), abs(w.W2)).reduce((a, b) => a + b, 0) / Math.sqrt(1.001)
    const batch = batchOf(X, LABELS)
    const all = zeroCostScores(arch, batch, { inputShape: [3], seed: SEED })
    expect(all.synflow).toBeCloseTo(Math.log(2 * R), 5)
    tf.dispose([batch.x, batch.y])
  })

  it('naswot and jacob_cov match their definitions on two images', () => {
    const arch = mlp('relu')
    const w = initialWeights(arch)
    const rows = [X[0]!, X[2]!]
    const batch = batchOf(rows, [0, 1])
    const got = zeroCostScores(arch, batch, { inputShape: [3], seed: SEED, proxies: ['naswot', 'jacob_cov'] })
    const z = rows.map((x) => matVec(x, w.W1).map((v, j) => v + w.b1[j]!))
    const codes = z.map((zi) => zi.map((v) => v > 0))
    const agree = codes[0]!.filter((c, j) => c === codes[1]![j]).length
    // K = [[4, a], [a, 4]]: det = 16 - a^2
    expect(agree).toBeLessThan(4)
    expect(got.naswot).toBeCloseTo(Math.log(16 - agree * agree), 5)
    // Jacobian of the summed logits w.r.t. image i: W1 diag(relu'(z_i)) W2 1
    const w2sum = w.W2.map((r) => r[0]! + r[1]!)
    const jac = codes.map((c) =>
      w.W1.map((row) => row.reduce((s, v, j) => s + (c[j] ? v * w2sum[j]! : 0), 0)),
    )
    const mean = (v: number[]): number => v.reduce((a, b) => a + b, 0) / v.length
    const [a, b] = jac.map((v) => v.map((x) => x - mean(v)))
    const dot = (p: number[], q: number[]): number => p.reduce((s, x, i) => s + x * q[i]!, 0)
    const r = dot(a!, b!) / Math.sqrt(dot(a!, a!) * dot(b!, b!))
    const k = 1e-5
    const want = -[1 - r, 1 + r].reduce((s, v) => s + Math.log(v + k) + 1 / (v + k), 0)
    expect(got.jacob_cov).toBeCloseTo(want, 2)
    expect(Math.abs(got.jacob_cov! - want) / Math.abs(want)).toBeLessThan(1e-4)
    tf.dispose([batch.x, batch.y])
  })

  it('scores a CNN with batch norm, dropout and pooling: every proxy finite, deterministic, no leaked tensor', async () => {
    const cnn: Architecture = {
      version: 1,
      nodes: [
        { id: 'in', op: 'input' },
        { id: 'c1', op: 'conv2d', filters: 4, kernelSize: 3, activation: 'relu' },
        { id: 'bn', op: 'batchNorm' },
        { id: 'mp', op: 'maxPool2d', poolSize: 2 },
        { id: 'dr', op: 'dropout', rate: 0.5 },
        { id: 'fl', op: 'flatten' },
        { id: 'd', op: 'dense', units: 10, activation: 'softmax' },
      ],
      edges: [
        ['in', 'c1'],
        ['c1', 'bn'],
        ['bn', 'mp'],
        ['mp', 'dr'],
        ['dr', 'fl'],
        ['fl', 'd'],
      ],
      output: 'd',
    }
    const d = await describeBundledDataset(RESOURCES)
    const part = {
      x: new Float32Array(20 * 784).map((_, i) => (i % 97) / 97),
      y: Int32Array.from({ length: 20 }, (_, i) => i % 10),
      count: 20,
    }
    const batch = zeroCostBatch(part, d.inputShape, 10, 16, 3)
    expect(batch.x.shape).toEqual([16, 28, 28, 1])
    expect(batch.y.shape).toEqual([16, 10])
    const before = tf.memory().numTensors
    const a = zeroCostScores(cnn, batch, { inputShape: [28, 28, 1], seed: 5 })
    const b = zeroCostScores(cnn, batch, { inputShape: [28, 28, 1], seed: 5 })
    expect(tf.memory().numTensors).toBe(before)
    expect(Object.keys(a).sort()).toEqual([...ZERO_COST_PROXIES].sort())
    for (const p of ZERO_COST_PROXIES) expect(Number.isFinite(a[p]), p).toBe(true)
    expect(b).toEqual(a)
    expect(a.params).toBe(candidateCost(cnn, [28, 28, 1]).params)
    expect(a.flops).toBe(candidateCost(cnn, [28, 28, 1]).flops)
    tf.dispose([batch.x, batch.y])
  })

  it('scores NAS-Bench-201 cells whose weights partly (or all) do not reach the output, with every proxy', () => {
    // Table indices 5039, 5753 and 12573: edge 1<-0 is 'none' and node 3 is fed only through node 1 or
    // 'none' edges, so the cell's output is zero and every weight before it gets no gradient.
    const cells: Nb201Op[][] = [
      ['none', 'none', 'nor_conv_3x3', 'none', 'none', 'none'],
      ['none', 'none', 'nor_conv_3x3', 'none', 'nor_conv_3x3', 'nor_conv_1x1'],
      ['none', 'nor_conv_1x1', 'nor_conv_3x3', 'none', 'avg_pool_3x3', 'none'],
    ]
    const batch = {
      x: tf.tensor4d(
        Float32Array.from({ length: 4 * 8 * 8 * 3 }, (_, i) => ((i * 37) % 101) / 101),
        [4, 8, 8, 3],
      ),
      y: tf.oneHot(tf.tensor1d([0, 1, 2, 0], 'int32'), 3),
    }
    const before = tf.memory().numTensors
    for (const cell of cells) {
      const arch = buildNb201(cell, 4, 1, [8, 8, 3], 3)
      const scores = zeroCostScores(arch, batch, { inputShape: [8, 8, 3], seed: 2 })
      for (const p of ZERO_COST_PROXIES) {
        // a score, never NaN: -Infinity (synflow, naswot of a dead network) still ranks
        expect(Number.isNaN(scores[p]), `${cell.join(',')} ${p}`).toBe(false)
        expect(typeof scores[p]).toBe('number')
      }
      expect(scores.grad_norm).toBeGreaterThanOrEqual(0)
    }
    // each of them is a dead cell (no path to the cell's output), so the network before it gets no
    // gradient; a living cell has a positive gradient norm
    const living: Nb201Op[] = ['nor_conv_3x3', 'skip_connect', 'none', 'skip_connect', 'none', 'none']
    expect(
      zeroCostScores(buildNb201(living, 4, 1, [8, 8, 3], 3), batch, {
        inputShape: [8, 8, 3],
        seed: 2,
        proxies: ['grad_norm'],
      }).grad_norm,
    ).toBeGreaterThan(0)
    expect(tf.memory().numTensors).toBe(before)
    tf.dispose([batch.x, batch.y])
  })

  it('createZeroCostScorer scores on the training split of a real dataset and frees its minibatch', async () => {
    const d = { ...(await describeBundledDataset(RESOURCES)), id: 'ds', createdAt: '' }
    const arch: Architecture = {
      version: 1,
      nodes: [
        { id: 'in', op: 'input' },
        { id: 'c1', op: 'conv2d', filters: 4, kernelSize: 3, activation: 'relu' },
        { id: 'fl', op: 'flatten' },
        { id: 'd', op: 'dense', units: 10, activation: 'softmax' },
      ],
      edges: [
        ['in', 'c1'],
        ['c1', 'fl'],
        ['fl', 'd'],
      ],
      output: 'd',
    }
    const before = tf.memory().numTensors
    const scorer = await createZeroCostScorer(d, { proxy: 'synflow', validationFraction: 0.2, seed: 1 })
    const [s, again] = scorer.scoreAll([arch, arch])
    expect(Number.isFinite(s)).toBe(true)
    expect(again).toBe(s)
    expect(tf.memory().numTensors).toBe(before)
    const params = await createZeroCostScorer(d, { proxy: 'params', validationFraction: 0.2, seed: 1 })
    expect(params.scoreAll([arch])).toEqual([candidateCost(arch, d.inputShape).params])
  })
})
