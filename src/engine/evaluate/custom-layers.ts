import type { Activation } from '../../shared'
import { tf } from '../compute/backend'

/**
 * Layers the IR needs that tf.js does not have (or cannot train): a zero op and a dilated depthwise conv.
 * Both are registered for serialisation so built models can be saved.
 */

type Shape = Array<number | null>

function strided(shape: Shape, s: number): Shape {
  if (shape.length !== 4 || s === 1) return shape
  const [b, h, w, c] = shape
  return [b!, h === null ? null : Math.ceil(h! / s), w === null ? null : Math.ceil(w! / s), c!]
}

/** Outputs zeros shaped like its input, strided like a 'same' conv (a 'none' edge that must keep a shape). */
export class ZeroLayer extends tf.layers.Layer {
  static className = 'NasZero'
  readonly strides: number

  constructor(config: { name: string; strides?: number }) {
    super({ name: config.name })
    this.strides = config.strides ?? 1
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    return strided((Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as Shape, this.strides)
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const x = Array.isArray(inputs) ? inputs[0]! : inputs
    return tf.zeros(strided(x.shape, this.strides) as number[])
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), strides: this.strides }
  }
}

function activate(x: tf.Tensor, activation: Activation): tf.Tensor {
  switch (activation) {
    case 'relu':
      return tf.relu(x)
    case 'elu':
      return tf.elu(x)
    case 'selu':
      return tf.selu(x)
    case 'tanh':
      return tf.tanh(x)
    case 'sigmoid':
      return tf.sigmoid(x)
    case 'swish':
      return tf.mul(x, tf.sigmoid(x))
    case 'linear':
      return x
  }
}

/** Config of DilatedDepthwiseConv2D. */
export interface DilatedDepthwiseConfig {
  name: string
  kernelSize: number
  dilation: number
  strides?: number
  useBias?: boolean
  activation?: Activation
  seed: number
}

/**
 * Depthwise conv with dilation, 'same' padding and optional stride (output ceil(size / stride)), computed as a
 * sum of k x k shifted, per-channel-scaled copies of the padded input. Why: tf.js has no gradient for dilated
 * convolutions; slices, pads and products all have one. Weights: kernel [k, k, channels, 1] (+ bias).
 */
export class DilatedDepthwiseConv2D extends tf.layers.Layer {
  static className = 'NasDilatedDepthwiseConv2D'
  private readonly cfg: DilatedDepthwiseConfig
  private kernel: tf.LayerVariable | null = null
  private bias: tf.LayerVariable | null = null

  constructor(config: DilatedDepthwiseConfig) {
    super({ name: config.name })
    this.cfg = config
  }

  override build(inputShape: Shape | Shape[]): void {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as Shape
    const c = shape[3]!
    const k = this.cfg.kernelSize
    this.kernel = this.addWeight(
      'depthwise_kernel',
      [k, k, c, 1],
      'float32',
      tf.initializers.glorotUniform({ seed: this.cfg.seed }),
    )
    if (this.cfg.useBias !== false)
      this.bias = this.addWeight('bias', [c], 'float32', tf.initializers.zeros())
    this.built = true
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    return strided(
      (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as Shape,
      this.cfg.strides ?? 1,
    )
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const x = (Array.isArray(inputs) ? inputs[0]! : inputs) as tf.Tensor4D
      const [, h, w, c] = x.shape
      const { kernelSize: k, dilation: d } = this.cfg
      const total = (k - 1) * d
      const before = Math.floor(total / 2)
      const padded = tf.pad(x, [
        [0, 0],
        [before, total - before],
        [before, total - before],
        [0, 0],
      ])
      const kernel = this.kernel!.read().reshape([k, k, c])
      let y: tf.Tensor | null = null
      for (let i = 0; i < k; i++) {
        for (let j = 0; j < k; j++) {
          const tap = tf.slice(padded, [0, i * d, j * d, 0], [-1, h, w, c])
          const term = tf.mul(tap, tf.slice(kernel, [i, j, 0], [1, 1, c]).reshape([c]))
          y = y === null ? term : tf.add(y, term)
        }
      }
      let out = y!
      if (this.bias) out = tf.add(out, this.bias.read())
      out = activate(out, this.cfg.activation ?? 'linear')
      const s = this.cfg.strides ?? 1
      if (s > 1) {
        const oh = Math.ceil(h / s)
        const ow = Math.ceil(w / s)
        const full = tf.pad(out, [
          [0, 0],
          [0, oh * s - h],
          [0, ow * s - w],
          [0, 0],
        ])
        out = tf
          .slice(full.reshape([-1, oh, s, ow, s, c]), [0, 0, 0, 0, 0, 0], [-1, oh, 1, ow, 1, c])
          .reshape([-1, oh, ow, c])
      }
      return out
    })
  }

  override getConfig(): tf.serialization.ConfigDict {
    const { name: _name, ...rest } = this.cfg
    return { ...super.getConfig(), ...rest }
  }
}

tf.serialization.registerClass(ZeroLayer)
tf.serialization.registerClass(DilatedDepthwiseConv2D)
