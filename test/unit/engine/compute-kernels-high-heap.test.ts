import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { TensorInfo } from '@tensorflow/tfjs'
import { adam } from '../../../src/engine/compute/adam'
import { initCompute, tf } from '../../../src/engine/compute/backend'
import { FILTER_GRAD_TUNING } from '../../../src/engine/compute/conv-grad-kernels'
import { expectSame, relError, size, values } from './compute-kernel-helpers'

/**
 * A past crash: the DARTS-space search grows the wasm heap past 2 GiB, and the first-layer filter gradient
 * computed `byteOffset >> 2` (a SIGNED 32-bit shift) for its row copies: above 2 GiB the offset turned
 * negative, copyWithin counted from the end of the heap, the gradient came out wrong and other tensors were
 * overwritten until free() trapped with "memory access out of bounds". Here every kernel that addresses wasm
 * memory itself runs with its tensors placed above 2 GiB (a never-touched 2 GiB ballast allocation sits below
 * them; untouched pages cost no RAM) and must still match the cpu backend.
 */

interface WasmInternals {
  makeOutput(shape: number[], dtype: 'float32'): TensorInfo
  disposeData(dataId: object, force?: boolean): boolean
  getMemoryOffset(dataId: object): number
}

const TWO_GIB = 2 ** 31
let ballast: TensorInfo | null = null

function conv(
  x: tf.Tensor,
  w: tf.Tensor,
  stride: number,
  pad: 'same' | 'valid',
  dilation = 1,
  depthwise = false,
): tf.Tensor {
  return depthwise
    ? tf.depthwiseConv2d(x as tf.Tensor4D, w as tf.Tensor4D, stride, pad, 'NHWC', dilation)
    : tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, stride, pad, 'NHWC', dilation)
}

describe('wasm training kernels with the heap above 2 GiB', () => {
  beforeAll(async () => {
    delete process.env.NAS_BACKEND
    expect((await initCompute()).name).toBe('wasm')
    await tf.setBackend('wasm')
    ballast = (tf.backend() as unknown as WasmInternals).makeOutput([TWO_GIB / 4], 'float32')
  })

  afterAll(() => {
    if (ballast !== null) (tf.backend() as unknown as WasmInternals).disposeData(ballast.dataId, true)
  })

  it('places new tensors above 2 GiB (else these tests would prove nothing)', async () => {
    await tf.setBackend('wasm')
    const t = tf.zeros([64, 28, 28, 1])
    const offset = (tf.backend() as unknown as WasmInternals).getMemoryOffset(t.dataId)
    t.dispose()
    expect(offset).toBeGreaterThan(TWO_GIB)
  })

  it.each([
    // one input channel, stride 1: the row-copy im2col filter gradient that used the signed shift
    { x: [4, 12, 12, 1], w: [3, 3, 1, 6], stride: 1, pad: 'same', dilation: 1 },
    { x: [3, 9, 10, 1], w: [5, 3, 1, 4], stride: 1, pad: 'valid', dilation: 1 },
    { x: [2, 9, 8, 1], w: [3, 3, 1, 4], stride: 1, pad: 'same', dilation: 2 },
    // few channels, stride 2 (element-wise im2col, col2im input gradient)
    { x: [2, 9, 9, 3], w: [3, 3, 3, 4], stride: 2, pad: 'same', dilation: 1 },
    // many channels: swapped-axes convolution and (forced below) the gemm form
    { x: [4, 8, 8, 6], w: [3, 3, 6, 5], stride: 1, pad: 'same', dilation: 1 },
    { x: [3, 8, 8, 7], w: [3, 3, 7, 5], stride: 2, pad: 'valid', dilation: 1 },
    // the SIMD filter-gradient kernel (pointer arithmetic in JavaScript and WebAssembly): 4k input channels,
    // and few input channels with columns turned into channels
    { x: [2, 8, 8, 4], w: [3, 3, 4, 8], stride: 1, pad: 'same', dilation: 1 },
    { x: [2, 9, 9, 8], w: [3, 3, 8, 16], stride: 2, pad: 'valid', dilation: 1 },
    { x: [3, 9, 10, 1], w: [3, 3, 1, 8], stride: 1, pad: 'same', dilation: 1 },
  ] as const)('conv2d gradients %j', async (c) => {
    const xv = values(size([...c.x]), 41)
    const wv = values(size([...c.w]), 42)
    for (const method of ['auto', 'gemm'] as const) {
      const saved = { ...FILTER_GRAD_TUNING }
      FILTER_GRAD_TUNING.method = method
      try {
        await expectSame(() =>
          tf.grads((a: tf.Tensor, b: tf.Tensor) =>
            tf.sum(tf.square(conv(a, b, c.stride, c.pad, c.dilation))),
          )([tf.tensor(xv, [...c.x]), tf.tensor(wv, [...c.w])]),
        )
      } finally {
        Object.assign(FILTER_GRAD_TUNING, saved)
      }
    }
  })

  it.each([
    // DARTS's sep_conv / dil_conv: stride 2 'same' on an even size (asymmetric padding), dilation 2, multiplier 2
    { x: [2, 8, 8, 4], w: [3, 3, 4, 1], stride: 2, pad: 'same', dilation: 1 },
    { x: [2, 10, 10, 3], w: [5, 5, 3, 1], stride: 1, pad: 'same', dilation: 2 },
    { x: [2, 7, 9, 2], w: [3, 3, 2, 2], stride: 1, pad: 'valid', dilation: 1 },
  ] as const)('depthwise conv gradients %j', async (c) => {
    const xv = values(size([...c.x]), 43)
    const wv = values(size([...c.w]), 44)
    await expectSame(() =>
      tf.grads((a: tf.Tensor, b: tf.Tensor) =>
        tf.sum(tf.square(conv(a, b, c.stride, c.pad, c.dilation, true))),
      )([tf.tensor(xv, [...c.x]), tf.tensor(wv, [...c.w])]),
    )
  })

  // 4 conv channels: the SIMD max-pool, ReLU and Square gradients, column sums and batch-norm pass run here too
  it('pooling, batch-norm, tile, reductions and dense gradients', async () => {
    const xv = values(4 * 6 * 6 * 3, 45)
    const gv = values(4, 46, 1)
    const wv = values(3 * 3 * 3 * 4, 47)
    const dv = values(9 * 4 * 5, 48)
    await expectSame(() => {
      const x = tf.tensor4d(xv, [4, 6, 6, 3])
      const labels = tf.oneHot(tf.tensor1d([0, 2, 4, 1], 'int32'), 5)
      const f = (g: tf.Tensor, w: tf.Tensor, d: tf.Tensor): tf.Scalar => {
        const y = tf.conv2d(x, w as tf.Tensor4D, 1, 'same')
        const { mean, variance } = tf.moments(y, [0, 1, 2])
        const bn = tf.relu(
          tf.batchNorm(y, mean, variance, tf.fill([4], 0.1) as tf.Tensor1D, g as tf.Tensor1D, 1e-3),
        )
        const pooled = tf.add(
          tf.maxPool(bn as tf.Tensor4D, 2, 2, 'valid'),
          tf.avgPool(bn as tf.Tensor4D, 3, 2, 'same'),
        )
        const logits = tf.matMul(tf.reshape(pooled, [4, 36]), d as tf.Tensor2D)
        return tf.add(tf.losses.softmaxCrossEntropy(labels, logits), tf.mean(tf.tile(g, [3])))
      }
      return tf.grads(f)([tf.tensor1d(gv), tf.tensor4d(wv, [3, 3, 3, 4]), tf.tensor2d(dv, [36, 5])])
    })
  })

  it('dense products and their gradients (the SIMD product, every transpose)', async () => {
    const xv = values(8 * 12, 51)
    const wv = values(12 * 16, 52)
    const gv = values(8 * 16, 53)
    await expectSame(() =>
      tf.grads((x: tf.Tensor, w: tf.Tensor) =>
        tf.sum(tf.mul(tf.relu(tf.matMul(x as tf.Tensor2D, w as tf.Tensor2D)), tf.tensor(gv, [8, 16]))),
      )([tf.tensor(xv, [8, 12]), tf.tensor(wv, [12, 16])]),
    )
    await expectSame(() => tf.matMul(tf.tensor(wv, [12, 16]), tf.tensor(xv, [8, 12]), true, true))
  })

  it('Adam steps (single pass over wasm memory) equal tf.train.adam on cpu', async () => {
    const wv = values(50, 49)
    const gv = values(50, 50)
    const run = async (backend: string): Promise<Float32Array> => {
      await tf.setBackend(backend)
      const w = tf.variable(tf.tensor1d(wv))
      const opt = backend === 'wasm' ? adam(0.01) : tf.train.adam(0.01)
      for (let i = 0; i < 3; i++) {
        const g = tf.mul(tf.tensor1d(gv), i + 1)
        opt.applyGradients([{ name: w.name, tensor: g }])
        g.dispose()
      }
      const out = Float32Array.from(w.dataSync())
      w.dispose()
      opt.dispose()
      return out
    }
    const got = await run('wasm')
    const want = await run('cpu')
    await tf.setBackend('wasm')
    expect(relError(got, want)).toBeLessThan(1e-4)
  })
})
