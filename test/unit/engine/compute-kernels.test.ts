import { beforeAll, describe, expect, it } from 'vitest'
import { fastKernels, initCompute, tf } from '../../../src/engine/compute/backend'
import { FILTER_GRAD_TUNING } from '../../../src/engine/compute/conv-grad-kernels'
import { expectSame, on, relError, size, values } from './compute-kernel-helpers'

/**
 * Every kernel NAS Studio registers or overrides on wasm, checked against the cpu backend on random shapes:
 * relative error (max |wasm - cpu| / max |cpu|) below 1e-4.
 */

type Pad = 'same' | 'valid' | [[0, 0], [number, number], [number, number], [0, 0]]

interface ConvCase {
  batch: number
  size: [number, number]
  inC: number
  outC: number
  k: [number, number]
  stride: number
  pad: Pad
  dilation: number
}

const convCases: ConvCase[] = [
  { batch: 2, size: [8, 8], inC: 3, outC: 4, k: [3, 3], stride: 1, pad: 'same', dilation: 1 },
  { batch: 1, size: [9, 7], inC: 2, outC: 3, k: [3, 3], stride: 2, pad: 'same', dilation: 1 },
  { batch: 3, size: [8, 8], inC: 1, outC: 5, k: [3, 3], stride: 2, pad: 'valid', dilation: 1 },
  // one input channel at stride 1: the im2col filter gradient's row-copy path ('same' and 'valid', k 5x3)
  { batch: 3, size: [9, 10], inC: 1, outC: 6, k: [3, 3], stride: 1, pad: 'same', dilation: 1 },
  { batch: 2, size: [7, 9], inC: 1, outC: 3, k: [5, 3], stride: 1, pad: 'valid', dilation: 1 },
  { batch: 2, size: [9, 8], inC: 1, outC: 4, k: [3, 3], stride: 1, pad: 'same', dilation: 2 },
  { batch: 2, size: [10, 9], inC: 4, outC: 2, k: [5, 5], stride: 3, pad: 'same', dilation: 1 },
  { batch: 2, size: [7, 7], inC: 3, outC: 3, k: [1, 1], stride: 2, pad: 'same', dilation: 1 },
  { batch: 2, size: [7, 8], inC: 2, outC: 2, k: [1, 1], stride: 2, pad: 'valid', dilation: 1 },
  {
    batch: 1,
    size: [8, 8],
    inC: 3,
    outC: 2,
    k: [3, 5],
    stride: 1,
    pad: [
      [0, 0],
      [1, 2],
      [2, 1],
      [0, 0],
    ],
    dilation: 1,
  },
  {
    batch: 2,
    size: [9, 9],
    inC: 2,
    outC: 4,
    k: [3, 3],
    stride: 2,
    pad: [
      [0, 0],
      [0, 1],
      [1, 0],
      [0, 0],
    ],
    dilation: 1,
  },
  { batch: 2, size: [9, 9], inC: 3, outC: 2, k: [3, 3], stride: 1, pad: 'same', dilation: 2 },
  { batch: 1, size: [12, 11], inC: 2, outC: 3, k: [5, 5], stride: 1, pad: 'same', dilation: 2 },
  { batch: 2, size: [10, 10], inC: 2, outC: 2, k: [3, 3], stride: 1, pad: 'valid', dilation: 3 },
]

const label = (c: object): string => JSON.stringify(c)

describe('wasm training kernels match the cpu backend', () => {
  beforeAll(async () => {
    delete process.env.NAS_BACKEND
    const info = await initCompute()
    expect(info.name).toBe('wasm')
  })

  it('registers the fast kernels', () => {
    for (const name of [
      'Conv2DBackpropFilter',
      'Conv2DBackpropInput',
      'DepthwiseConv2dNativeBackpropInput',
      'DepthwiseConv2dNativeBackpropFilter',
      'MaxPoolGrad',
      'AvgPoolGrad',
      'BatchMatMul',
      '_FusedMatMul',
      'Tile',
      'Sum',
      'Mean',
      'Identity',
      'Cast',
      'FusedBatchNorm',
      'Add',
    ])
      expect(fastKernels()).toContain(name)
  })

  it.each(convCases.map((c) => [label(c), c] as const))('conv2d gradients %s', async (_, c) => {
    const xShape = [c.batch, ...c.size, c.inC]
    const wShape = [...c.k, c.inC, c.outC]
    const xv = values(size(xShape), 1)
    const wv = values(size(wShape), 2)
    await expectSame(() => {
      const x = tf.tensor4d(xv, xShape as [number, number, number, number])
      const w = tf.tensor4d(wv, wShape as [number, number, number, number])
      const f = (a: tf.Tensor, b: tf.Tensor): tf.Scalar => {
        const y = tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, c.stride, c.pad, 'NHWC', c.dilation)
        return tf.sum(tf.mul(y, tf.sin(tf.range(0, y.size).reshape(y.shape))))
      }
      return tf.grads(f)([x, w])
    })
  })

  // more than 4 input channels, both forms of the filter gradient (im2col + matMul, swapped-axes convolution)
  // and the automatic choice between them,
  // split into sample chunks: a tiny chunk limit forces 1-sample and 2-sample chunks on these small shapes
  const manyChannelCases = [
    [{ ...convCases[0]!, batch: 4, inC: 6 }, 1],
    [{ ...convCases[1]!, batch: 4, inC: 5 }, 2],
    [{ ...convCases[2]!, batch: 3, inC: 7 }, 1],
    [{ ...convCases[7]!, batch: 4, inC: 6 }, 2],
    [{ ...convCases[8]!, batch: 2, inC: 5 }, 1],
    [{ ...convCases[0]!, batch: 4, size: [6, 7], inC: 5, k: [3, 5] }, 2],
    [{ ...convCases[10]!, batch: 2, inC: 6 }, 1],
  ] as const
  it.each(
    (['auto', 'gemm', 'conv'] as const).flatMap((method) =>
      manyChannelCases.flatMap(([c, chunk]) => [
        [method, c, chunk],
        [method, c, 0],
      ]),
    ) as Array<['auto' | 'gemm' | 'conv', ConvCase, number]>,
  )('conv2d gradients, %s form, %j (chunk %i; 0: whole batch)', async (method, c, chunk) => {
    const xShape = [c.batch, ...c.size, c.inC]
    const wShape = [...c.k, c.inC, c.outC]
    const info = tf.backend_util.computeConv2DInfo(
      xShape as [number, number, number, number],
      wShape as [number, number, number, number],
      c.stride,
      c.dilation,
      c.pad as 'same',
    )
    const saved = { ...FILTER_GRAD_TUNING }
    FILTER_GRAD_TUNING.method = method
    if (chunk > 0) {
      FILTER_GRAD_TUNING.maxChunkFloats = chunk * info.outHeight * info.outWidth * c.outC
      FILTER_GRAD_TUNING.maxColsFloats = chunk * info.outHeight * info.outWidth * c.k[0] * c.k[1] * c.inC
    }
    try {
      const xv = values(size(xShape), 30)
      const wv = values(size(wShape), 31)
      await expectSame(() => {
        const x = tf.tensor4d(xv, xShape as [number, number, number, number])
        const w = tf.tensor4d(wv, wShape as [number, number, number, number])
        const f = (a: tf.Tensor, b: tf.Tensor): tf.Scalar => {
          const y = tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, c.stride, c.pad, 'NHWC', c.dilation)
          return tf.sum(tf.mul(y, tf.sin(tf.range(0, y.size).reshape(y.shape))))
        }
        return tf.grads(f)([x, w])
      })
    } finally {
      Object.assign(FILTER_GRAD_TUNING, saved)
    }
  })

  it.each(
    convCases.flatMap((c, i) => [
      [label({ ...c, mult: 1 }), c, 1],
      ...(i % 3 === 0 ? [[label({ ...c, mult: 2 }), c, 2] as const] : []),
    ]) as Array<[string, ConvCase, number]>,
  )('depthwise conv gradients %s', async (_, c, mult) => {
    const xShape = [c.batch, ...c.size, c.inC]
    const wShape = [...c.k, c.inC, mult]
    const xv = values(size(xShape), 3)
    const wv = values(size(wShape), 4)
    await expectSame(() => {
      const x = tf.tensor4d(xv, xShape as [number, number, number, number])
      const w = tf.tensor4d(wv, wShape as [number, number, number, number])
      const f = (a: tf.Tensor, b: tf.Tensor): tf.Scalar => {
        const y = tf.depthwiseConv2d(a as tf.Tensor4D, b as tf.Tensor4D, c.stride, c.pad, 'NHWC', c.dilation)
        return tf.sum(tf.mul(y, tf.cos(tf.range(0, y.size).reshape(y.shape))))
      }
      return tf.grads(f)([x, w])
    })
  })

  it('separable conv gradients (depthwise dilated + pointwise)', async () => {
    const xv = values(2 * 9 * 9 * 3, 5)
    const dv = values(3 * 3 * 3, 6)
    const pv = values(3 * 4, 7)
    await expectSame(() => {
      const x = tf.tensor4d(xv, [2, 9, 9, 3])
      const d = tf.tensor4d(dv, [3, 3, 3, 1])
      const p = tf.tensor4d(pv, [1, 1, 3, 4])
      const f = (a: tf.Tensor, b: tf.Tensor, q: tf.Tensor): tf.Scalar =>
        tf.sum(
          tf.square(tf.separableConv2d(a as tf.Tensor4D, b as tf.Tensor4D, q as tf.Tensor4D, 1, 'same', 2)),
        )
      return tf.grads(f)([x, d, p])
    })
  })

  const poolCases = [
    { shape: [2, 8, 8, 3], k: 2, stride: 2, pad: 'valid', offset: 0 },
    { shape: [2, 8, 8, 3], k: 2, stride: 2, pad: 'valid', offset: -3 },
    { shape: [1, 9, 7, 2], k: 3, stride: 2, pad: 'same', offset: 0 },
    { shape: [2, 7, 7, 4], k: 3, stride: 1, pad: 'same', offset: -2 },
    { shape: [3, 6, 6, 1], k: 3, stride: 3, pad: 'valid', offset: 0.5 },
    // odd sizes with 'same': the last 2x2 window hangs over the bottom/right edge (7x7 -> 4x4, 5x6 -> 3x3)
    { shape: [2, 7, 7, 3], k: 2, stride: 2, pad: 'same', offset: 0 },
    { shape: [2, 5, 6, 2], k: 2, stride: 2, pad: 'same', offset: -3 },
  ] as const

  it.each(poolCases.map((c) => [label(c), c] as const))('max and avg pool gradients %s', async (_, c) => {
    // quantised values make ties (equal maxima) common: the gradient must go to the first one, like cpu
    const xv = values(size([...c.shape]), 8, c.offset).map((v) => Math.round(v * 4) / 4)
    const dyShape = tf.backend_util.computePool2DInfo(
      [...c.shape] as [number, number, number, number],
      c.k,
      c.stride,
      1,
      c.pad,
    ).outShape
    const dv = values(size(dyShape), 9)
    await expectSame(() => {
      const x = tf.tensor4d(xv, [...c.shape] as [number, number, number, number])
      const dy = tf.tensor4d(dv, dyShape)
      const y = tf.maxPool(x, c.k, c.stride, c.pad)
      const attrs = { filterSize: c.k, strides: c.stride, pad: c.pad }
      const maxGrad = tf.engine().runKernel('MaxPoolGrad', { dy, input: x, output: y }, attrs) as tf.Tensor
      const avgGrad = tf.engine().runKernel('AvgPoolGrad', { dy, input: x }, attrs) as tf.Tensor
      return [maxGrad, avgGrad]
    })
  })

  it.each([
    [[5, 7], [7, 3], false, false],
    [[7, 5], [7, 3], true, false],
    [[5, 7], [3, 7], false, true],
    [[7, 5], [3, 7], true, true],
    [[2, 6, 4], [2, 6, 5], true, false],
    [[3, 4, 6], [3, 5, 6], false, true],
    [[2, 6, 4], [1, 5, 6], true, true],
  ] as const)('BatchMatMul %j x %j (transposeA %s, transposeB %s)', async (aShape, bShape, ta, tb) => {
    const av = values(size([...aShape]), 10)
    const bv = values(size([...bShape]), 11)
    await expectSame(() => tf.matMul(tf.tensor(av, [...aShape]), tf.tensor(bv, [...bShape]), ta, tb))
  })

  it.each([
    [
      [1, 1, 1, 4],
      [2, 3, 5, 1],
    ],
    [
      [2, 3],
      [3, 2],
    ],
    [[3], [4]],
    [
      [2, 1, 3],
      [1, 4, 2],
    ],
    [
      [1, 2, 1, 3],
      [2, 1, 3, 1],
    ],
  ] as const)('Tile %j by %j (float32 and int32)', async (shape, reps) => {
    const xv = values(size([...shape]), 12)
    await expectSame(() => [
      tf.tile(tf.tensor(xv, [...shape]), [...reps]),
      tf.tile(
        tf.tensor(
          xv.map((v) => Math.round(v * 100)),
          [...shape],
          'int32',
        ),
        [...reps],
      ),
    ])
  })

  it.each([
    [[4, 5, 6, 3], [0, 1, 2], false],
    [[4, 5, 6, 3], [0, 1, 2], true],
    [[4, 5, 6, 3], [0], false],
    [[7, 9], [0], true],
    [[4, 5, 6, 3], [1, 2], false],
    [[4, 5, 6, 3], [3], true],
    [[4, 5], [0, 1], false],
  ] as const)('Sum and Mean of %j over %j (keepDims %s)', async (shape, axes, keep) => {
    const xv = values(size([...shape]), 13)
    await expectSame(() => {
      const x = tf.tensor(xv, [...shape])
      return [tf.sum(x, [...axes], keep), tf.mean(x, [...axes], keep)]
    })
  })

  it('batch-norm training gradients (moments, batchNorm, relu, maxPool, dense)', async () => {
    const xv = values(4 * 6 * 6 * 3, 14)
    const gv = values(4, 15, 1)
    const bv = values(4, 16)
    const wv = values(3 * 3 * 3 * 4, 17)
    const dv = values(36 * 5, 18)
    await expectSame(() => {
      const x = tf.tensor4d(xv, [4, 6, 6, 3])
      const labels = tf.oneHot(tf.tensor1d([0, 2, 4, 1], 'int32'), 5)
      const f = (g: tf.Tensor, b: tf.Tensor, w: tf.Tensor, d: tf.Tensor): tf.Scalar => {
        const conv = tf.conv2d(x, w as tf.Tensor4D, 1, 'same')
        const { mean, variance } = tf.moments(conv, [0, 1, 2])
        const bn = tf.batchNorm(conv, mean, variance, b as tf.Tensor1D, g as tf.Tensor1D, 1e-3)
        const pooled = tf.maxPool(tf.relu(bn) as tf.Tensor4D, 2, 2, 'valid')
        const logits = tf.matMul(tf.reshape(pooled, [4, 36]), d as tf.Tensor2D)
        return tf.losses.softmaxCrossEntropy(labels, logits)
      }
      return tf.grads(f)([
        tf.tensor1d(gv),
        tf.tensor1d(bv),
        tf.tensor4d(wv, [3, 3, 3, 4]),
        tf.tensor2d(dv, [36, 5]),
      ])
    })
  })

  it.each(['wasm', 'cpu'])(
    'the batch-norm gradient override equals the gradient of the same formula in plain ops (%s)',
    async (backend) => {
      const xv = values(3 * 5 * 5 * 4, 20)
      const gv = values(4, 21, 1)
      const bv = values(4, 22)
      const loss =
        (fused: boolean) =>
        (x: tf.Tensor, g: tf.Tensor, b: tf.Tensor): tf.Scalar => {
          const { mean, variance } = tf.moments(x, [0, 1, 2])
          const y = fused
            ? tf.batchNorm(x, mean, variance, b as tf.Tensor1D, g as tf.Tensor1D, 1e-3)
            : tf.add(tf.mul(tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, 1e-3))), g), b)
          return tf.sum(tf.mul(y, tf.sin(tf.range(0, y.size).reshape(y.shape))))
        }
      const inputs = (): tf.Tensor[] => [tf.tensor4d(xv, [3, 5, 5, 4]), tf.tensor1d(gv), tf.tensor1d(bv)]
      const fused = await on(backend, () => tf.grads(loss(true))(inputs()))
      const plain = await on(backend, () => tf.grads(loss(false))(inputs()))
      for (let i = 0; i < plain.length; i++) expect(relError(fused[i]!, plain[i]!)).toBeLessThan(1e-4)
      await tf.setBackend('wasm')
    },
  )

  it.each([
    [[2, 5, 5, 3], true, true],
    [[2, 5, 5, 3], false, true],
    [[2, 5, 5, 3], true, false],
    [[6, 4], true, true],
  ] as const)('FusedBatchNorm forward %j (scale %s, offset %s)', async (shape, withScale, withOffset) => {
    const c = shape.at(-1)!
    const xv = values(size([...shape]), 25)
    const mv = values(c, 26)
    const vv = values(c, 27, 1.5)
    const gv = values(c, 28, 1)
    const ov = values(c, 29)
    await expectSame(() =>
      tf.batchNorm(
        tf.tensor(xv, [...shape]),
        tf.tensor1d(mv),
        tf.tensor1d(vv),
        withOffset ? tf.tensor1d(ov) : undefined,
        withScale ? tf.tensor1d(gv) : undefined,
        1e-3,
      ),
    )
  })

  it.each([
    [
      [3, 4, 5, 2],
      [0, 1, 2],
    ],
    [[3, 4, 5, 2], [1]],
    [
      [6, 7],
      [0, 1],
    ],
  ] as const)('the mean gradient is dy / n broadcast (%j over %j)', async (shape, axes) => {
    const xv = values(size([...shape]), 23)
    const kept = shape.map((d, i) => ((axes as readonly number[]).includes(i) ? 1 : d))
    const wv = values(size(kept), 24)
    const n = (axes as readonly number[]).reduce((p, a) => p * shape[a]!, 1)
    for (const backend of ['wasm', 'cpu']) {
      const [g] = await on(backend, () =>
        tf.grad((x: tf.Tensor) => tf.sum(tf.mul(tf.mean(x, [...axes], true), tf.tensor(wv, kept))))(
          tf.tensor(xv, [...shape]),
        ),
      )
      const want = await on('cpu', () => tf.broadcastTo(tf.div(tf.tensor(wv, kept), n), [...shape]))
      expect(relError(g!, want[0]!)).toBeLessThan(1e-6)
    }
    await tf.setBackend('wasm')
  })

  it('Identity and same-type Cast share data that outlives the source; real casts convert', async () => {
    await tf.setBackend('wasm')
    const x = tf.tensor1d([1.5, -2.25, 3])
    const copy = tf.clone(x)
    const same = tf.cast(x, 'float32')
    const ints = tf.cast(x, 'int32')
    x.dispose()
    expect(Array.from(copy.dataSync())).toEqual([1.5, -2.25, 3])
    expect(Array.from(same.dataSync())).toEqual([1.5, -2.25, 3])
    expect(Array.from(ints.dataSync())).toEqual([1, -2, 3])
    tf.dispose([copy, same, ints])
  })

  it('average pooling gradient through the op (DARTS avg_pool_3x3)', async () => {
    const xv = values(2 * 7 * 7 * 3, 19)
    await expectSame(() => {
      const x = tf.tensor4d(xv, [2, 7, 7, 3])
      return tf.grad((t: tf.Tensor) => tf.sum(tf.square(tf.avgPool(t as tf.Tensor4D, 3, 1, 'same'))))(x)
    })
  })
})
