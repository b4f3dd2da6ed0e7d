import { beforeAll, describe, expect, it } from 'vitest'
import os from 'node:os'
import {
  bridgedKernels,
  chooseBackend,
  cpuDevice,
  fastKernels,
  initCompute,
  tf,
} from '../../../src/engine/compute/backend'
import type { GpuAdapter } from '../../../src/engine/compute/webgpu'
import { randomValues as values } from '../../helpers/random-values'

/** Gradients of a conv -> maxpool -> dense -> softmax cross-entropy loss with respect to input and weights. */
interface ConvCase {
  stride: 1 | 2
  pad: 'valid' | 'same'
  channels: number
}

async function gradsOn(backend: string, x: Float32Array, c: ConvCase): Promise<Float32Array[]> {
  await tf.setBackend(backend)
  const convOut = c.pad === 'same' ? Math.ceil(8 / c.stride) : Math.floor((8 - 3) / c.stride) + 1
  const pooledSize = Math.floor(convOut / 2) ** 2 * 4
  const result = tf.tidy(() => {
    const input = tf.tensor4d(x.slice(0, 2 * 8 * 8 * c.channels), [2, 8, 8, c.channels])
    const kernel = tf.tensor4d(values(3 * 3 * c.channels * 4, 11), [3, 3, c.channels, 4])
    const dense = tf.tensor2d(values(pooledSize * 5, 12), [pooledSize, 5])
    const labels = tf.oneHot(tf.tensor1d([1, 3], 'int32'), 5)
    const loss = (inp: tf.Tensor, k: tf.Tensor, w: tf.Tensor): tf.Scalar => {
      const conv = tf.conv2d(inp as tf.Tensor4D, k as tf.Tensor4D, c.stride, c.pad)
      const pooled = tf.maxPool(conv, 2, 2, 'valid')
      const logits = tf.matMul(tf.reshape(pooled, [2, pooledSize]), w as tf.Tensor2D)
      return tf.losses.softmaxCrossEntropy(labels, logits)
    }
    return tf.grads(loss)([input, kernel, dense])
  })
  const arrays = result.map((t) => t.dataSync() as Float32Array)
  tf.dispose(result)
  return arrays
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length)
  let m = 0
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!))
  return m
}

describe('compute backend', () => {
  beforeAll(async () => {
    delete process.env.NAS_BACKEND
    await initCompute()
  })

  it('chooses a backend and explains why', async () => {
    const info = await initCompute()
    expect(info.name).toBe(tf.getBackend())
    expect(info.detail.length).toBeGreaterThan(10)
    // idempotent: same object
    expect(await initCompute()).toBe(info)
  })

  it('registers fast training kernels and bridges only rare kernels to cpu', async () => {
    const info = await initCompute()
    expect(info.name).toBe('wasm')
    for (const name of ['Conv2DBackpropFilter', 'Conv2DBackpropInput', 'MaxPoolGrad', 'Tile', 'BatchMatMul'])
      expect(fastKernels()).toContain(name)
    for (const name of fastKernels()) expect(bridgedKernels()).not.toContain(name)
    expect(bridgedKernels().length).toBeLessThan(10)
  })

  it('says which device it computes on', async () => {
    const info = await initCompute()
    expect(info.device).toBe(cpuDevice())
    expect(info.device).toContain(os.cpus()[0]!.model.trim())
    expect(info.device).toMatch(/\(\d+ threads\)$/)
    expect(info.workers).toBe(os.availableParallelism())
  })

  it('defaults to wasm here and says the native backends are not installed', async () => {
    const info = await chooseBackend({ env: {} })
    expect(info.name).toBe('wasm')
    expect(info.detail).toContain('@tensorflow/tfjs-node-gpu not installed')
    expect(info.detail).toContain('@tensorflow/tfjs-node not installed')
    // Node 20 runs WebAssembly SIMD: our kernels load, and the status line says so
    expect(info.detail).toContain("NAS Studio's training kernels with SIMD")
    expect(tf.getBackend()).toBe('wasm')
  })

  it('NAS_BACKEND=cpu selects the cpu backend and says why', async () => {
    try {
      const info = await chooseBackend({ env: { NAS_BACKEND: 'cpu' } })
      expect(info.name).toBe('cpu')
      expect(tf.getBackend()).toBe('cpu')
      expect(info.detail).toContain('NAS_BACKEND=cpu')
      expect(info.detail).toContain('wasm not tried')
    } finally {
      await tf.setBackend('wasm')
    }
  })

  it('NAS_BACKEND=wasm skips the native backends; an unknown value is ignored with a reason', async () => {
    const wasm = await chooseBackend({ env: { NAS_BACKEND: 'wasm' } })
    expect(wasm.name).toBe('wasm')
    expect(wasm.detail).toContain('NAS_BACKEND=wasm: tfjs-node-gpu and tfjs-node not tried')
    const odd = await chooseBackend({ env: { NAS_BACKEND: 'quantum' } })
    expect(odd.name).toBe('wasm')
    expect(odd.detail).toContain('NAS_BACKEND=quantum is not one of tensorflow, webgpu, wasm, cpu')
  })

  it('a native package that loads but cannot start its backend falls through to wasm', async () => {
    // a fake importer stands in for a GPU package whose libtensorflow is missing on this machine
    const info = await chooseBackend({ env: {}, importer: async () => null })
    expect(info.name).toBe('wasm')
    expect(info.detail).toContain('@tensorflow/tfjs-node-gpu loaded but its backend did not start')
  })

  const gpu: GpuAdapter = {
    vendor: 'nvidia',
    architecture: 'ada',
    description: 'NVIDIA GeForce RTX 4070',
    software: null,
    maxBufferSize: 2 ** 32,
  }

  it('picks webgpu on a hardware adapter after the native backends, and names the adapter', async () => {
    const asked: boolean[] = []
    // a fake starter stands in for a machine with a real GPU (this one has none)
    const info = await chooseBackend({
      env: {},
      webgpu: async (allowSoftware) => (asked.push(allowSoftware), gpu),
    })
    expect(asked).toEqual([false])
    expect(info.name).toBe('webgpu')
    expect(info.device).toBe('NVIDIA GeForce RTX 4070 (nvidia, ada)')
    expect(info.adapter).toEqual(gpu)
    expect(info.workers).toBe(1)
    // WebGPU reports no memory size: the budget trials share is the adapter's largest buffer
    expect(info.gpuMemoryBytes).toBe(2 ** 32)
    expect(info.detail).toContain('@tensorflow/tfjs-node-gpu not installed')
    expect(info.detail).toContain('@tensorflow/tfjs-node not installed')
  })

  it('never picks a software adapter by itself; NAS_BACKEND=webgpu allows it', async () => {
    const skipped = await chooseBackend({
      env: {},
      webgpu: async (allowSoftware) =>
        allowSoftware
          ? { ...gpu, software: 'SwiftShader' }
          : 'WebGPU skipped: its only adapter is SwiftShader',
    })
    expect(skipped.name).toBe('wasm')
    expect(skipped.detail).toContain('WebGPU skipped: its only adapter is SwiftShader')
    const forced = await chooseBackend({
      env: { NAS_BACKEND: 'webgpu' },
      webgpu: async (allowSoftware) => (allowSoftware ? { ...gpu, software: 'SwiftShader' } : 'refused'),
    })
    expect(forced.name).toBe('webgpu')
    expect(forced.detail).toContain('NAS_BACKEND=webgpu: tfjs-node-gpu and tfjs-node not tried')
    expect(forced.detail).toContain('not a speed figure')
  })

  it('without a Vulkan driver webgpu is skipped with the reason; NAS_BACKEND=wasm does not try it', async () => {
    const none = await chooseBackend({
      env: {},
      webgpu: async () => 'WebGPU not tried: no Vulkan GPU driver',
    })
    expect(none.name).toBe('wasm')
    expect(none.detail).toContain('WebGPU not tried: no Vulkan GPU driver')
    let tried = false
    const wasm = await chooseBackend({
      env: { NAS_BACKEND: 'wasm' },
      webgpu: async () => ((tried = true), gpu),
    })
    expect(wasm.name).toBe('wasm')
    expect(tried).toBe(false)
    expect(wasm.detail).toContain('webgpu not tried')
  })

  it.each<ConvCase>([
    { stride: 1, pad: 'valid', channels: 1 },
    { stride: 1, pad: 'same', channels: 3 },
    { stride: 2, pad: 'same', channels: 2 },
  ])('conv+maxpool+dense gradients on wasm match cpu within 1e-4 (%o)', async (c) => {
    const x = values(2 * 8 * 8 * 3, 7)
    const onWasm = await gradsOn('wasm', x, c)
    const onCpu = await gradsOn('cpu', x, c)
    expect(onCpu).toHaveLength(3)
    for (let i = 0; i < onCpu.length; i++) expect(maxAbsDiff(onWasm[i]!, onCpu[i]!)).toBeLessThan(1e-4)
    await initCompute().then((info) => tf.setBackend(info.name))
  })

  it('maxPool gradient is right when a whole window is negative', async () => {
    const run = async (backend: string): Promise<Float32Array> => {
      await tf.setBackend(backend)
      const x = tf.tensor4d(
        [-5, -1, -3, -2, -0.5, -4, -6, -7, -8, -1.5, -2.5, -3.5, -9, -0.25, -1, -2],
        [1, 4, 4, 1],
      )
      const g = tf.grad((t: tf.Tensor) =>
        tf.sum(tf.mul(tf.maxPool(t as tf.Tensor4D, 2, 2, 'valid'), tf.tensor4d([1, 2, 3, 4], [1, 2, 2, 1]))),
      )(x)
      const out = g.dataSync() as Float32Array
      tf.dispose([x, g])
      return out
    }
    const onWasm = await run('wasm')
    const onCpu = await run('cpu')
    // window (0,0) holds -5,-1,-0.5,-4: only its max -0.5 (flat index 4) gets the upstream gradient 1;
    // window (0,1) holds -3,-2,-6,-7: only -2 (flat index 3) gets 2
    expect(Array.from(onCpu.slice(0, 8))).toEqual([0, 0, 0, 2, 1, 0, 0, 0])
    expect(maxAbsDiff(onWasm, onCpu)).toBeLessThan(1e-6)
    await initCompute().then((info) => tf.setBackend(info.name))
  })

  it('does not leak tensors through the bridge', async () => {
    await tf.setBackend('wasm')
    const before = tf.memory().numTensors
    await gradsOn('wasm', values(384, 3), { stride: 1, pad: 'same', channels: 3 })
    await gradsOn('wasm', values(384, 3), { stride: 2, pad: 'valid', channels: 2 })
    expect(tf.memory().numTensors).toBe(before)
  })
})
