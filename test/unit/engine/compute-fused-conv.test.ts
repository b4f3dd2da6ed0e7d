import { beforeAll, describe, expect, it } from 'vitest'
import { initCompute, tf } from '../../../src/engine/compute/backend'
import { on, relError, values } from './compute-kernel-helpers'
import { layerOutputAndGrads } from '../../helpers/layer-grads'

/**
 * Conv2D layers on wasm run as one fused kernel with one gradient node: their outputs and the gradients of
 * input, filter and bias against tfjs-layers' own Conv2D on the cpu backend.
 */

interface ConvCase {
  size: [number, number]
  inC: number
  filters: number
  kernelSize: number
  strides: number
  padding: 'same' | 'valid'
  activation: 'relu' | 'linear' | 'sigmoid'
  useBias?: boolean
  dilationRate?: number
}

const cases: ConvCase[] = [
  { size: [8, 8], inC: 3, filters: 8, kernelSize: 3, strides: 1, padding: 'same', activation: 'relu' },
  { size: [9, 7], inC: 1, filters: 4, kernelSize: 3, strides: 2, padding: 'valid', activation: 'linear' },
  { size: [7, 7], inC: 2, filters: 5, kernelSize: 3, strides: 2, padding: 'same', activation: 'sigmoid' },
  { size: [6, 6], inC: 4, filters: 3, kernelSize: 1, strides: 1, padding: 'valid', activation: 'relu' },
  // not fused: no bias, dilated
  {
    size: [6, 6],
    inC: 2,
    filters: 4,
    kernelSize: 3,
    strides: 1,
    padding: 'same',
    activation: 'relu',
    useBias: false,
  },
  {
    size: [9, 9],
    inC: 2,
    filters: 3,
    kernelSize: 3,
    strides: 1,
    padding: 'same',
    activation: 'relu',
    dilationRate: 2,
  },
]

const BATCH = 2

/** The layer's output and the gradients of sum(output * u) by input, filter and (when there is one) bias. */
function convOutputs(c: ConvCase): tf.Tensor[] {
  const useBias = c.useBias ?? true
  const layer = tf.layers.conv2d({
    filters: c.filters,
    kernelSize: c.kernelSize,
    strides: c.strides,
    padding: c.padding,
    activation: c.activation,
    useBias,
    dilationRate: c.dilationRate ?? 1,
  })
  const xShape = [BATCH, ...c.size, c.inC]
  layer.build(xShape)
  const fShape = [c.kernelSize, c.kernelSize, c.inC, c.filters]
  layer.setWeights([
    tf.tensor4d(
      values(
        fShape.reduce((a, b) => a * b, 1),
        1,
      ),
      fShape as [number, number, number, number],
    ),
    ...(useBias ? [tf.tensor1d(values(c.filters, 2))] : []),
  ])
  const x = tf.tensor(
    values(
      xShape.reduce((a, b) => a * b, 1),
      3,
    ),
    xShape,
  )
  const yShape = layer.computeOutputShape(xShape) as number[]
  const u = tf.tensor(
    values(
      yShape.reduce((a, b) => a * b, 1),
      4,
    ),
    yShape,
  )
  return layerOutputAndGrads(layer, x, u)
}

describe('fused Conv2D on wasm matches tfjs-layers on the cpu backend', () => {
  beforeAll(async () => {
    delete process.env.NAS_BACKEND
    expect((await initCompute()).name).toBe('wasm')
  })

  it('runs one kernel forward, and no input gradient where the input needs none', async () => {
    const c = cases[0]!
    const { kernelNames } = await tf.profile(() => {
      const layer = tf.layers.conv2d({ filters: 8, kernelSize: 3, padding: 'same', activation: 'relu' })
      const x = tf.tensor4d(values(BATCH * 8 * 8 * 3, 5), [BATCH, ...c.size, c.inC])
      layer.build(x.shape)
      const weights = layer.trainableWeights.map((w) => w.read() as tf.Variable)
      const { value, grads } = tf.variableGrads(() => tf.sum(layer.apply(x) as tf.Tensor), weights)
      tf.dispose([value, x, ...Object.values(grads)])
      for (const w of layer.weights) w.dispose()
    })
    expect(kernelNames).toContain('NasConv2D')
    expect(kernelNames).toContain('Conv2DBackpropFilter')
    expect(kernelNames).not.toContain('Conv2DBackpropInput')
    expect(kernelNames).not.toContain('Relu')
    expect(kernelNames).not.toContain('Add')
  })

  for (const c of cases) {
    it(`output and gradients: ${JSON.stringify(c)}`, async () => {
      const wasm = await on('wasm', () => convOutputs(c))
      const cpu = await on('cpu', () => convOutputs(c))
      await tf.setBackend('wasm')
      expect(wasm).toHaveLength((c.useBias ?? true) ? 4 : 3)
      for (let i = 0; i < cpu.length; i++) expect(relError(wasm[i]!, cpu[i]!)).toBeLessThan(1e-4)
    })
  }
})
