import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ArchNode, Architecture, CellOp } from '../../../src/shared'
import { fastKernels, initCompute, initHostCompute, tf } from '../../../src/engine/compute/backend'
import type { BackendInfo } from '../../../src/engine/compute/backend'
import { FAST_KERNELS } from '../../../src/engine/compute/training-kernels'
import { releaseWebGpu } from '../../../src/engine/compute/webgpu'
import { buildModel } from '../../../src/engine/evaluate/build-model'
import { Rng } from '../../../src/engine/rng'
import { Supernet } from '../../../src/engine/strategy/supernet'
import { useTestGpuDriver } from '../../helpers/webgpu'
import { randomValues as values } from '../../helpers/random-values'

/**
 * Every op a search space builds, run forward and backward on the webgpu backend and on tfjs's cpu backend (the
 * reference): outputs and gradients must agree within 1e-4 relative. Runs on SwiftShader (a software Vulkan
 * driver) where there is no GPU; skipped, with the reason, only where no Vulkan driver exists at all.
 */

const noDriver = useTestGpuDriver()
if (noDriver !== null) console.warn(`WebGPU correctness test skipped: ${noDriver}`)

const TOLERANCE = 1e-4

/** max |a - b| / max |b| (b: the cpu reference); 0 when both are all zeros. */
function relativeError(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length)
  let diff = 0
  let scale = 0
  for (let i = 0; i < a.length; i++) {
    diff = Math.max(diff, Math.abs(a[i]! - b[i]!))
    scale = Math.max(scale, Math.abs(b[i]!))
  }
  if (!Number.isFinite(diff)) return Infinity
  return scale === 0 ? diff : diff / scale
}

/** Output and gradients (input first, then every variable) of `loss`, read back asynchronously. */
async function forwardAndGradients(
  backend: string,
  loss: (x: tf.Tensor) => { out: tf.Tensor; loss: tf.Scalar },
  x0: tf.Tensor,
  variables: () => tf.Variable[],
): Promise<Float32Array[]> {
  expect(await tf.setBackend(backend)).toBe(true)
  const x = tf.variable(x0.clone(), true)
  let out: tf.Tensor | null = null
  const { value, grads } = tf.variableGrads(() => {
    const r = loss(x)
    out = tf.keep(r.out)
    return r.loss
  }, [x, ...variables()])
  const names = [x.name, ...variables().map((v) => v.name)]
  const tensors = [out!, ...names.map((n) => grads[n]!)]
  const arrays = await Promise.all(tensors.map(async (t) => (await t.data()) as Float32Array))
  tf.dispose([value, x, ...tensors])
  return arrays
}

/** The largest relative error of webgpu against cpu over the output and every gradient of `loss`. */
async function worstError(
  loss: (x: tf.Tensor) => { out: tf.Tensor; loss: tf.Scalar },
  inputShape: number[],
  variables: () => tf.Variable[],
): Promise<{ worst: number; where: string }> {
  const x0 = tf.tensor(
    values(
      inputShape.reduce((a, b) => a * b, 1),
      5,
    ),
    inputShape,
  )
  // cpu first: its tensors move to webgpu when read there (a move back would need a synchronous GPU read)
  const onCpu = await forwardAndGradients('cpu', loss, x0, variables)
  const onGpu = await forwardAndGradients('webgpu', loss, x0, variables)
  x0.dispose()
  const labels = ['output', 'd/dinput', ...variables().map((v) => `d/d${v.name}`)]
  let worst = 0
  let where = ''
  onCpu.forEach((ref, i) => {
    const e = relativeError(onGpu[i]!, ref)
    if (!(e <= worst)) {
      worst = e
      where = labels[i]!
    }
  })
  return { worst, where }
}

/** The layers model of `nodes` (input first, each fed by the previous unless `edges` say otherwise). */
function chain(nodes: ArchNode[], edges?: Array<[string, string]>): Architecture {
  return {
    version: 1,
    nodes,
    edges: edges ?? nodes.slice(1).map((n, i) => [nodes[i]!.id, n.id]),
    output: nodes.at(-1)!.id,
  }
}

/** A model of `arch` trained in one step's worth: output and gradients in training mode (batch statistics, dropout). */
async function modelError(
  arch: Architecture,
  inputShape: number[],
): Promise<{ worst: number; where: string }> {
  await tf.setBackend('cpu')
  const model = buildModel(arch, inputShape, 3)
  const outSize = model.outputs[0]!.shape.slice(1).reduce((a: number, b) => a * (b ?? 1), 1)
  const probe = tf.tensor(values(2 * outSize, 9), [2, ...(model.outputs[0]!.shape.slice(1) as number[])])
  try {
    return await worstError(
      (x) => {
        const out = model.apply(x, { training: true }) as tf.Tensor
        return { out, loss: tf.sum(tf.mul(out, probe)) }
      },
      [2, ...inputShape],
      () => model.trainableWeights.map((w) => w.read() as tf.Variable),
    )
  } finally {
    model.dispose()
    probe.dispose()
  }
}

const input: ArchNode = { id: 'in', op: 'input' }
const head: ArchNode[] = [
  { id: 'gap', op: 'globalAvgPool' },
  { id: 'fc', op: 'dense', units: 3, activation: 'softmax' },
]

const cases: Array<[string, ArchNode[]]> = [
  ['conv 3x3, stride 1, relu', [{ id: 'c', op: 'conv2d', filters: 4, kernelSize: 3, activation: 'relu' }]],
  [
    'conv 3x3, stride 2',
    [{ id: 'c', op: 'conv2d', filters: 4, kernelSize: 3, strides: 2, activation: 'linear' }],
  ],
  ['conv 1x1', [{ id: 'c', op: 'conv2d', filters: 5, kernelSize: 1, activation: 'elu' }]],
  [
    'separable conv 5x5, stride 2',
    [{ id: 's', op: 'sepConv2d', filters: 4, kernelSize: 5, strides: 2, activation: 'relu' }],
  ],
  ['depthwise conv 3x3', [{ id: 'd', op: 'depthwiseConv2d', kernelSize: 3, activation: 'swish' }]],
  [
    'depthwise conv 3x3, dilation 2',
    [{ id: 'd', op: 'depthwiseConv2d', kernelSize: 3, dilation: 2, activation: 'linear' }],
  ],
  [
    'max and average pooling',
    [
      { id: 'm', op: 'maxPool2d', poolSize: 2 },
      { id: 'a', op: 'avgPool2d', poolSize: 3, strides: 1, padding: 'same' },
    ],
  ],
  [
    'batch norm (training mode) and activations',
    [
      { id: 'c', op: 'conv2d', filters: 4, kernelSize: 3, activation: 'linear', useBias: false },
      { id: 'bn', op: 'batchNorm' },
      { id: 't', op: 'activation', activation: 'tanh' },
    ],
  ],
]

describe.skipIf(noDriver !== null)('webgpu matches the cpu backend (forward and gradients)', () => {
  let info: BackendInfo
  beforeAll(async () => {
    process.env.NAS_BACKEND = 'webgpu'
    info = await initCompute()
  })
  afterAll(() => releaseWebGpu())

  it('runs on a WebGPU adapter and names it', () => {
    expect(info.name).toBe('webgpu')
    expect(info.adapter).toBeDefined()
    expect(info.device).toContain(info.adapter!.description)
    if (info.adapter!.software !== null) expect(info.detail).toContain('not a speed figure')
  })

  it("leaves the wasm-only training kernels off webgpu's kernels", () => {
    expect(fastKernels()).toEqual([])
    const ours = new Set<unknown>(Object.values(FAST_KERNELS))
    for (const k of tf.getKernelsForBackend('webgpu')) expect(ours.has(k.kernelFunc)).toBe(false)
  })

  it.each(cases)('%s', async (_name, body) => {
    const { worst, where } = await modelError(chain([input, ...body, ...head]), [8, 8, 3])
    expect(worst, where).toBeLessThan(TOLERANCE)
  })

  it('dense, flatten and dropout (same seeded mask on both)', async () => {
    const arch = chain([
      input,
      { id: 'f', op: 'flatten' },
      { id: 'h', op: 'dense', units: 6, activation: 'sigmoid' },
      { id: 'dr', op: 'dropout', rate: 0.3 },
      { id: 'o', op: 'dense', units: 3, activation: 'softmax' },
    ])
    const { worst, where } = await modelError(arch, [4, 4, 2])
    expect(worst, where).toBeLessThan(TOLERANCE)
  })

  it('add, concat, identity and the zero op (a branching cell)', async () => {
    const arch = chain(
      [
        input,
        { id: 'a', op: 'conv2d', filters: 4, kernelSize: 3, activation: 'relu' },
        { id: 'b', op: 'conv2d', filters: 4, kernelSize: 1, activation: 'relu' },
        { id: 'i', op: 'identity' },
        { id: 'z', op: 'zero', strides: 1 },
        { id: 'sum', op: 'add' },
        { id: 'cat', op: 'concat' },
        ...head,
      ],
      [
        ['in', 'a'],
        ['in', 'b'],
        ['a', 'i'],
        ['b', 'z'],
        ['i', 'sum'],
        ['b', 'sum'],
        ['z', 'sum'],
        ['sum', 'cat'],
        ['a', 'cat'],
        ['cat', 'gap'],
        ['gap', 'fc'],
      ],
    )
    const { worst, where } = await modelError(arch, [8, 8, 3])
    expect(worst, where).toBeLessThan(TOLERANCE)
  })

  it('bilinear resize (the lower-resolution proxy), forward and gradient', async () => {
    const probe = tf.tensor(values(2 * 5 * 5 * 3, 4), [2, 5, 5, 3])
    const { worst, where } = await worstError(
      (x) => {
        const out = tf.image.resizeBilinear(x as tf.Tensor4D, [5, 5], true)
        return { out, loss: tf.sum(tf.mul(out, probe)) }
      },
      [2, 8, 8, 3],
      () => [],
    )
    probe.dispose()
    expect(worst, where).toBeLessThan(TOLERANCE)
  })

  it.each<[string, { ops: CellOp[]; partialChannels: number; edgeNormalisation: boolean }]>([
    [
      'DARTS supernet: every mixed op, weights and alphas',
      {
        ops: [
          'none',
          'skip_connect',
          'sep_conv_3x3',
          'sep_conv_5x5',
          'dil_conv_3x3',
          'dil_conv_5x5',
          'max_pool_3x3',
          'avg_pool_3x3',
          'conv_1x1',
          'conv_3x3',
        ],
        partialChannels: 1,
        edgeNormalisation: false,
      },
    ],
    [
      'PC-DARTS supernet: partial channels and edge normalisation',
      {
        ops: ['none', 'skip_connect', 'sep_conv_3x3', 'max_pool_3x3'],
        partialChannels: 2,
        edgeNormalisation: true,
      },
    ],
  ])('%s', async (_name, c) => {
    await tf.setBackend('cpu')
    const net = new Supernet(
      { kind: 'darts', channels: 4, cellsPerStage: 1, nodes: 2, inputShape: [8, 8, 3], numClasses: 3, ...c },
      new Rng(11),
    )
    const labels = tf.oneHot(tf.tensor1d([0, 2], 'int32'), 3)
    try {
      // the first forward pass creates the weights (on cpu), so the variables list is complete afterwards
      tf.tidy(() => void net.forward(tf.zeros([2, 8, 8, 3])))
      const { worst, where } = await worstError(
        (x) => {
          const out = net.forward(x as tf.Tensor4D)
          return { out, loss: tf.losses.softmaxCrossEntropy(labels, out) as tf.Scalar }
        },
        [2, 8, 8, 3],
        () => [...net.weights, ...net.archVariables],
      )
      expect(worst, where).toBeLessThan(TOLERANCE)
    } finally {
      labels.dispose()
      net.dispose()
    }
  })

  it('catches a wrong gradient: a ReLU gradient off by 1% on webgpu only fails the comparison', async () => {
    const original = tf.getGradient('Relu')!
    tf.registerGradient({
      ...original,
      gradFunc: (dy, saved, attrs) => {
        const right = original.gradFunc(dy, saved, attrs)
        if (tf.getBackend() !== 'webgpu') return right
        return { x: () => tf.mul(right.x!(), 1.01) }
      },
    })
    try {
      const [, body] = cases[0]!
      const { worst, where } = await modelError(chain([input, ...body, ...head]), [8, 8, 3])
      expect(worst).toBeGreaterThan(TOLERANCE)
      expect(where).toMatch(/^d\/d/)
    } finally {
      tf.registerGradient(original)
    }
  })

  // last: it moves this process's own work off the GPU
  it("the app's own process computes exports and scores on wasm while trials keep webgpu", async () => {
    const info = await initHostCompute()
    expect(info.name).toBe('webgpu')
    expect(tf.getBackend()).toBe('wasm')
    // a synchronous read (as exports and zero-cost scores do) works there
    const t = tf.add(tf.tensor1d([1, 2]), 1)
    expect(Array.from(t.dataSync())).toEqual([2, 3])
    t.dispose()
  })
})
