import { beforeAll, describe, expect, it } from 'vitest'
import type { TensorInfo } from '@tensorflow/tfjs'
import { initCompute, tf } from '../../../src/engine/compute/backend'
import { FILTER_GRAD_TUNING } from '../../../src/engine/compute/conv-grad-kernels'
import { simdKernels } from '../../../src/engine/compute/simd'
import type { WasmBackend } from '../../../src/engine/compute/wasm-ops'
import { expectSame, on, relError, size, values } from './compute-kernel-helpers'

/**
 * The WebAssembly SIMD kernels (src/engine/compute/simd) against the cpu backend: through the ops that training
 * uses (so the dispatch is covered too) and, where an op could take another path, by calling the kernel itself.
 * Shapes are chosen to hit every branch: channel counts that are and are not multiples of 4 / 8, tails of
 * element counts, row counts that are not a multiple of the 16-row block, strides, dilations and paddings.
 */

type Pad = 'same' | 'valid' | [[0, 0], [number, number], [number, number], [0, 0]]

const wasmBackend = (): WasmBackend => tf.findBackend('wasm') as unknown as WasmBackend

/** Runs `body` on wasm tensors made from `inputs` and returns the output's values. */
function direct(
  inputs: Array<{ v: Float32Array; shape: number[] }>,
  outShape: number[],
  body: (ins: TensorInfo[], out: TensorInfo) => void,
): Float32Array {
  const backend = wasmBackend()
  const ts = inputs.map(({ v, shape }) => tf.tensor(v, shape))
  const out = backend.makeOutput(outShape, 'float32')
  try {
    body(
      ts.map((t) => ({ dataId: t.dataId, shape: t.shape, dtype: t.dtype })),
      out,
    )
    return Float32Array.from(backend.typedArrayFromHeap(out) as Float32Array)
  } finally {
    backend.disposeData(out.dataId)
    tf.dispose(ts)
  }
}

describe('WebAssembly SIMD training kernels', () => {
  beforeAll(async () => {
    delete process.env.NAS_BACKEND
    expect((await initCompute()).name).toBe('wasm')
    await tf.setBackend('wasm')
  })

  it('load on this machine (else every test below would only test the fallbacks)', () => {
    expect(simdKernels(wasmBackend())).not.toBeNull()
  })

  // the unit lane sets NAS_RELAXED_SIMD=off; the relaxed-simd lane starts node with relaxed SIMD on
  const lane =
    process.env.NAS_RELAXED_SIMD === 'off'
      ? 'plain'
      : process.execArgv.includes('--experimental-wasm-relaxed-simd')
        ? 'relaxed'
        : null
  it.runIf(lane !== null)(`run the build this lane checks (${lane})`, () => {
    expect(simdKernels(wasmBackend())!.variant).toBe(lane)
  })

  const filterCases: Array<{
    x: [number, number, number, number]
    k: [number, number]
    co: number
    stride: number
    pad: Pad
    dilation: number
  }> = [
    // ci a multiple of 4: the direct tap kernel
    { x: [3, 7, 6, 4], k: [3, 3], co: 8, stride: 1, pad: 'same', dilation: 1 },
    { x: [2, 9, 8, 8], k: [3, 3], co: 16, stride: 2, pad: 'same', dilation: 1 },
    { x: [2, 9, 9, 12], k: [3, 5], co: 8, stride: 2, pad: 'valid', dilation: 1 },
    { x: [2, 10, 9, 4], k: [3, 3], co: 24, stride: 1, pad: 'same', dilation: 2 },
    { x: [1, 8, 8, 4], k: [1, 1], co: 8, stride: 2, pad: 'valid', dilation: 1 },
    {
      x: [2, 8, 9, 8],
      k: [3, 3],
      co: 8,
      stride: 1,
      pad: [
        [0, 0],
        [0, 2],
        [1, 0],
        [0, 0],
      ],
      dilation: 1,
    },
    // few input channels: columns become channels (ci * kw <= 16)
    { x: [3, 9, 10, 1], k: [3, 3], co: 8, stride: 1, pad: 'same', dilation: 1 },
    { x: [2, 9, 9, 1], k: [5, 5], co: 16, stride: 2, pad: 'same', dilation: 1 },
    { x: [2, 8, 7, 2], k: [3, 3], co: 8, stride: 1, pad: 'valid', dilation: 2 },
    { x: [2, 9, 8, 3], k: [3, 3], co: 8, stride: 3, pad: 'same', dilation: 1 },
    { x: [2, 6, 7, 5], k: [3, 3], co: 8, stride: 1, pad: 'same', dilation: 1 },
  ]

  it.each(filterCases)('conv2d gradients through the op %j', async (c) => {
    const w = [...c.k, c.x[3], c.co]
    const xv = values(size(c.x), 61)
    const wv = values(size(w), 62)
    await expectSame(() =>
      tf.grads((a: tf.Tensor, b: tf.Tensor) => {
        const y = tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, c.stride, c.pad, 'NHWC', c.dilation)
        return tf.sum(tf.mul(y, tf.sin(tf.range(0, y.size).reshape(y.shape))))
      })([tf.tensor(xv, c.x), tf.tensor(wv, w)]),
    )
  })

  it.each(filterCases.filter((c) => c.x[3] % 4 === 0))(
    'the tap kernel itself equals the cpu filter gradient %j',
    async (c) => {
      const info = tf.backend_util.computeConv2DInfo(
        c.x,
        [...c.k, c.x[3], c.co] as [number, number, number, number],
        c.stride,
        c.dilation,
        c.pad as 'same',
      )
      const xv = values(size(c.x), 63)
      const dyShape = [c.x[0], info.outHeight, info.outWidth, c.co]
      const dyv = values(size(dyShape), 64)
      const filterShape = [...c.k, c.x[3], c.co]
      const got = direct(
        [
          { v: xv, shape: c.x },
          { v: dyv, shape: dyShape },
        ],
        filterShape,
        ([x, dy], out) => simdKernels(wasmBackend())!.filterGrad(x!, dy!, out, info),
      )
      // reference: the filter gradient of sum(conv(x, w) * dy) on cpu (its backprop kernel ignores dilations;
      // the dilation-aware gradient override does not)
      const [want] = await on('cpu', () =>
        tf.grad((f: tf.Tensor) =>
          tf.sum(
            tf.mul(
              tf.conv2d(tf.tensor4d(xv, c.x), f as tf.Tensor4D, c.stride, c.pad, 'NHWC', c.dilation),
              tf.tensor(dyv, dyShape),
            ),
          ),
        )(tf.zeros(filterShape)),
      )
      await tf.setBackend('wasm')
      expect(relError(got, want!)).toBeLessThan(1e-4)
    },
  )

  it('leaves the other filter-gradient forms reachable (method gemm / conv skip the SIMD kernel)', async () => {
    const c = filterCases[1]!
    const w = [...c.k, c.x[3], c.co]
    const xv = values(size(c.x), 65)
    const wv = values(size(w), 66)
    for (const method of ['gemm', 'conv', 'simd'] as const) {
      const saved = { ...FILTER_GRAD_TUNING }
      FILTER_GRAD_TUNING.method = method
      try {
        await expectSame(() =>
          tf.grads((a: tf.Tensor, b: tf.Tensor) =>
            tf.sum(tf.square(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, c.stride, c.pad))),
          )([tf.tensor(xv, c.x), tf.tensor(wv, w)]),
        )
      } finally {
        Object.assign(FILTER_GRAD_TUNING, saved)
      }
    }
  })

  it.each([
    { shape: [2, 6, 8, 4], offset: 0 },
    { shape: [3, 4, 4, 8], offset: -3 }, // every window all negative
    { shape: [1, 10, 6, 12], offset: 0.5 },
  ])('max-pool gradient (2x2, stride 2) %j, ties go to the first maximum', async ({ shape, offset }) => {
    // values rounded to one decimal: many windows hold equal maxima
    const xv = values(size(shape), 67, offset).map((v) => Math.round(v * 10) / 10)
    const gv = values(size(shape) / 4, 68)
    await expectSame(() =>
      tf.grad((a: tf.Tensor) =>
        tf.sum(
          tf.mul(
            tf.maxPool(a as tf.Tensor4D, 2, 2, 'valid'),
            tf.tensor(gv, [shape[0]!, shape[1]! / 2, shape[2]! / 2, shape[3]!]),
          ),
        ),
      )(tf.tensor(xv, shape)),
    )
  })

  it('max-pool gradient of windows holding -Infinity and NaN matches the cpu routing', async () => {
    const shape = [1, 2, 4, 4]
    const xv = Float32Array.from(values(size(shape), 69))
    // window 0 all -Infinity (no winner), window 1 NaN first then numbers (a number wins)
    for (const i of [0, 1, 2, 3, 16, 17, 18, 19]) xv[i] = -Infinity
    xv[4] = NaN
    const dy = tf.tensor(values(4 * 2, 70), [1, 1, 2, 4])
    const run = (backend: string): Promise<Float32Array[]> =>
      on(backend, () =>
        tf.grad((a: tf.Tensor) => tf.sum(tf.mul(tf.maxPool(a as tf.Tensor4D, 2, 2, 'valid'), dy)))(
          tf.tensor(xv, shape),
        ),
      )
    const [got] = await run('wasm')
    const [want] = await run('cpu')
    await tf.setBackend('wasm')
    expect(Array.from(got!)).toEqual(Array.from(want!))
  })

  it.each([[[3, 5, 7]], [[4, 4, 4]], [[1, 1, 3]]])(
    'ReLU and Square gradients on %j (tails of 1-3 elements)',
    async (shape) => {
      // a third of the values exactly 0 (ReLU's gradient there is 0, as on cpu)
      const xv = values(size(shape), 71).map((v, i) => (i % 3 === 0 ? 0 : v))
      const gv = values(size(shape), 72)
      await expectSame(() => {
        const g = tf.tensor(gv, shape)
        return tf.grads((a: tf.Tensor, b: tf.Tensor) =>
          tf.add(tf.sum(tf.mul(tf.relu(a), g)), tf.sum(tf.mul(tf.square(b), g))),
        )([tf.tensor(xv, shape), tf.tensor(xv, shape)])
      })
    },
  )

  it.each([
    [[37, 8]], // blocked one-pass form: 2 full 16-row blocks and a 5-row tail
    [[3, 5, 7, 12]],
    [[16, 4]],
    [[9, 13]], // columns not a multiple of 4: the JavaScript pass
    [[5, 3]],
    [[2, 3, 19]],
  ])('Sum and Mean over leading axes of %j', async (shape) => {
    const xv = values(size(shape), 73, 0.25)
    const axes = shape.slice(0, -1).map((_, i) => i)
    await expectSame(() => {
      const x = tf.tensor(xv, shape)
      return [tf.sum(x, axes), tf.mean(x, axes), tf.sum(x, axes.slice(0, 1), true)]
    })
  })

  it.each([
    // rows a multiple of 4 and columns of 8: the SIMD product, every transpose, one and several batches
    [[8, 12], [12, 16], false, false],
    [[12, 8], [12, 16], true, false],
    [[8, 12], [16, 12], false, true],
    [[12, 8], [16, 12], true, true],
    [[3, 4, 5], [3, 5, 8], false, false],
    [[2, 7, 4], [2, 7, 24], true, false],
    [[2, 2, 4, 1], [2, 2, 8, 1], false, true], // k = 1
    [[64, 100], [100, 32], false, false],
    [[100, 64], [100, 32], true, false], // several row tiles and column strips, A read transposed
    // other shapes: XNNPACK or wasm's own kernel
    [[6, 5], [5, 8], false, false],
    [[5, 4], [5, 10], true, false],
    [[2, 4, 3], [1, 3, 8], false, false], // broadcast batch
  ] as const)('matMul %j x %j (transposeA %s, transposeB %s)', async (aShape, bShape, ta, tb) => {
    const av = values(size([...aShape]), 83)
    const bv = values(size([...bShape]), 84)
    await expectSame(() => tf.matMul(tf.tensor(av, [...aShape]), tf.tensor(bv, [...bShape]), ta, tb))
  })

  it.each([
    { a: [8, 12], b: [12, 16], ta: false, tb: false, bias: true, activation: 'relu' },
    { a: [12, 8], b: [16, 12], ta: true, tb: true, bias: true, activation: 'linear' },
    { a: [8, 12], b: [12, 16], ta: false, tb: false, bias: false, activation: 'relu' },
    { a: [8, 12], b: [12, 16], ta: false, tb: false, bias: true, activation: 'elu' }, // wasm's own
    { a: [6, 12], b: [12, 10], ta: false, tb: false, bias: true, activation: 'relu' }, // wasm's own
  ] as const)('fused matMul (a dense layer) and its gradients %j', async (c) => {
    const av = values(size([...c.a]), 88)
    const bv = values(size([...c.b]), 89)
    const n = c.b[c.tb ? 0 : 1]
    const biasv = values(n, 90)
    const gv = values(c.a[c.ta ? 1 : 0] * n, 91)
    await expectSame(() =>
      tf.grads((a: tf.Tensor, b: tf.Tensor, bias: tf.Tensor) => {
        const y = tf.fused.matMul({
          a: a as tf.Tensor2D,
          b: b as tf.Tensor2D,
          transposeA: c.ta,
          transposeB: c.tb,
          bias: c.bias ? bias : undefined,
          activation: c.activation,
        })
        return tf.add(tf.sum(tf.mul(y, tf.tensor(gv, y.shape))), tf.mul(tf.sum(bias), 0))
      })([tf.tensor(av, [...c.a]), tf.tensor(bv, [...c.b]), tf.tensor(biasv, [n])]),
    )
  })

  it('dense layer gradients (x^T dy and dy w^T) through the SIMD product', async () => {
    const xv = values(16 * 20, 85)
    const wv = values(20 * 24, 86)
    const gv = values(16 * 24, 87)
    await expectSame(() =>
      tf.grads((x: tf.Tensor, w: tf.Tensor) =>
        tf.sum(tf.mul(tf.relu(tf.matMul(x as tf.Tensor2D, w as tf.Tensor2D)), tf.tensor(gv, [16, 24]))),
      )([tf.tensor(xv, [16, 20]), tf.tensor(wv, [20, 24])]),
    )
  })

  it.each([4, 8, 3])(
    'batch norm forward with %i channels (one SIMD pass when a multiple of 4)',
    async (c) => {
      const shape = [2, 3, 5, c]
      const xv = values(size(shape), 74)
      const p = (seed: number, offset = 0): tf.Tensor1D => tf.tensor1d(values(c, seed, offset))
      await expectSame(() => tf.batchNorm(tf.tensor(xv, shape), p(75), p(76, 2), p(77), p(78, 1), 1e-3))
    },
  )
})

describe('WebAssembly SIMD bias add', () => {
  beforeAll(async () => {
    expect((await initCompute()).name).toBe('wasm')
    await tf.setBackend('wasm')
  })

  it.each([
    { a: [4, 8, 8, 16], b: [16] }, // conv bias: the SIMD pass
    { a: [16], b: [2, 16, 16, 16] }, // operands swapped
    { a: [8, 8, 8, 8], b: [1, 1, 1, 8] },
    { a: [4, 8, 8, 6], b: [6] }, // 6 channels: wasm's Add
    { a: [2, 3, 4], b: [4] }, // small: wasm's Add
    { a: [4, 8, 8, 16], b: [4, 8, 8, 16] }, // no broadcast: wasm's Add
    { a: [64, 1, 1, 16], b: [1, 8, 8, 16] }, // broadcast both ways: wasm's Add
  ])('Add %j and its gradient', async ({ a, b }) => {
    const av = values(size(a), 81)
    const bv = values(size(b), 82)
    await expectSame(() =>
      tf.grads((p: tf.Tensor, q: tf.Tensor) => {
        const y = tf.add(p, q)
        return tf.sum(tf.mul(y, tf.sin(tf.range(0, y.size).reshape(y.shape))))
      })([tf.tensor(av, a), tf.tensor(bv, b)]),
    )
    await expectSame(() => tf.add(tf.tensor(av, a), tf.tensor(bv, b)))
  })

  it('int32 adds stay exact (wasm Add)', async () => {
    const a = tf.tensor([1, 2, 3, 4, 5, 6, 7, 8], [2, 4], 'int32')
    const y = tf.add(a, tf.tensor([10, 20, 30, 40], [4], 'int32'))
    expect(y.dtype).toBe('int32')
    expect(Array.from(y.dataSync())).toEqual([11, 22, 33, 44, 15, 26, 37, 48])
    tf.dispose([a, y])
  })
})
