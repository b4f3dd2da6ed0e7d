import * as tf from '@tensorflow/tfjs'
import type { KernelFunc, Tensor, TensorInfo } from '@tensorflow/tfjs'
import { layerPrototype, reluMask, singleWasmInput, splitActivation } from './fused-layers'
import type { WasmBackend } from './wasm-ops'
import { callWasm } from './wasm-ops'

/**
 * tfjs-layers' Conv2D layer in training as ONE kernel forward (wasm's fused convolution: bias and ReLU in its
 * output pass) and, backward, one kernel per gradient, each computed only when needed. tfjs fuses a
 * convolution with ReLU only outside training (in training: a convolution, then an Add and a Relu, each a
 * pass over the whole activation, and their gradients); a linear one it fuses with a gradient that computes
 * the input's gradient even where nothing needs it, as for a network's first layer (about 4% of the
 * batch-norm reference net's step). The layer's weights, configuration and results are unchanged. Other
 * backends, dilated or channels-first convolutions, layers without a bias and wasm without our kernels run
 * tfjs-layers' own call; activations other than ReLU are applied after the convolution, as tfjs-layers does.
 */

const CONV = 'NasConv2D'

interface ConvAttrs {
  strides: [number, number]
  pad: 'same' | 'valid'
  relu: boolean
}

interface Conv2DLike {
  rank: number
  kernel: { read(): Tensor } | null
  bias: { read(): Tensor } | null
  strides: number[]
  padding: string
  dataFormat: string
  dilationRate: number | number[]
  activation: { getClassName(): string; apply(x: Tensor): Tensor } | null
  call(inputs: Tensor | Tensor[], kwargs: object): Tensor | Tensor[]
}

const convKernel: KernelFunc = ({ inputs, backend, attrs }) => {
  const { x, filter, bias } = inputs as { x: TensorInfo; filter: TensorInfo; bias: TensorInfo }
  const { strides, pad, relu } = attrs as unknown as ConvAttrs
  return callWasm(
    'FusedConv2D',
    backend as unknown as WasmBackend,
    { x, filter, bias },
    {
      strides,
      pad,
      dilations: [1, 1],
      dataFormat: 'NHWC',
      activation: relu ? 'relu' : 'linear',
    },
  )
}

/** The input tensor when this call takes the fused path, else null. */
function fusableInput(layer: Conv2DLike, inputs: Tensor | Tensor[]): Tensor | null {
  const x = singleWasmInput(layer, inputs)
  if (x === null) return null
  const dilations = typeof layer.dilationRate === 'number' ? [layer.dilationRate] : layer.dilationRate
  const plain =
    layer.rank === 2 &&
    layer.dataFormat === 'channelsLast' &&
    (layer.padding === 'same' || layer.padding === 'valid') &&
    dilations.every((d) => d === 1)
  return plain && x.rank === 4 && x.dtype === 'float32' ? x : null
}

let registered = false

/** Registers the kernel and its gradient, and routes Conv2D layers through them on wasm (once per process). */
export function registerFusedConv(): void {
  if (registered) return
  registered = true
  tf.registerKernel({ kernelName: CONV, backendName: 'wasm', kernelFunc: convKernel })
  tf.registerGradient({
    kernelName: CONV,
    inputsToSave: ['x', 'filter'],
    outputsToSave: [true],
    gradFunc: (dy, saved, attrs) => {
      const [x, filter, y] = saved as [Tensor, Tensor, Tensor]
      const { strides, pad, relu } = attrs as unknown as ConvAttrs
      // shared by the three gradients, so computed here: tfjs runs each closure in its own tidy
      const g = relu ? reluMask(dy as Tensor, y) : (dy as Tensor)
      const conv = { strides, pad, dataFormat: 'NHWC', dilations: [1, 1] }
      return {
        x: () =>
          tf
            .engine()
            .runKernel('Conv2DBackpropInput', { dy: g, filter }, { ...conv, inputShape: x.shape }) as Tensor,
        filter: () =>
          tf
            .engine()
            .runKernel(
              'Conv2DBackpropFilter',
              { x, dy: g },
              { ...conv, filterShape: filter.shape },
            ) as Tensor,
        bias: () => tf.sum(g, [0, 1, 2]),
      }
    },
  })
  const proto = layerPrototype<Conv2DLike>('Conv2D')
  const original = proto.call
  proto.call = function (this: Conv2DLike, inputs, kwargs) {
    const x = fusableInput(this, inputs)
    if (x === null) return original.call(this, inputs, kwargs)
    return tf.tidy(() => {
      const { relu, after } = splitActivation(this.activation)
      const attrs = { strides: [this.strides[0]!, this.strides[1]!], pad: this.padding, relu }
      return after(
        tf
          .engine()
          .runKernel(
            CONV,
            { x, filter: this.kernel!.read(), bias: this.bias!.read() },
            attrs as unknown as tf.NamedAttrMap,
          ) as Tensor,
      )
    })
  }
}
