import { tf } from '../src/engine/compute/backend'

/**
 * The three reference networks of bench:train (input 28x28x1, 10 classes) and their arithmetic: FLOPs count a
 * multiply-add as 2; a training step is forward + filter/weight gradient + input gradient (none for the first
 * layer, whose input needs no gradient).
 */

/** A conv or dense layer of a reference net, as the FLOP count and the plain-forward reference need it. */
export interface LayerShape {
  kind: 'conv' | 'dense'
  /** conv: [h, w, inC, outC, k] ('same' padding, stride 1); dense: [in, out]. */
  dims: number[]
}

/** A reference network: how to build it and which conv/dense layers it contains. */
export interface RefNet {
  name: 'cnn-small' | 'cnn-bn' | 'mlp'
  build(): tf.Sequential
  layers: LayerShape[]
}

const conv = (filters: number, activation: 'relu' | 'linear', inputShape?: number[]): tf.layers.Layer =>
  tf.layers.conv2d({
    filters,
    kernelSize: 3,
    padding: 'same',
    activation,
    ...(inputShape ? { inputShape } : {}),
  })

export const NETS: RefNet[] = [
  {
    name: 'cnn-small',
    build: () =>
      tf.sequential({
        layers: [
          conv(16, 'relu', [28, 28, 1]),
          tf.layers.maxPooling2d({ poolSize: 2 }),
          conv(32, 'relu'),
          tf.layers.maxPooling2d({ poolSize: 2 }),
          tf.layers.flatten(),
          tf.layers.dense({ units: 10, activation: 'softmax' }),
        ],
      }),
    layers: [
      { kind: 'conv', dims: [28, 28, 1, 16, 3] },
      { kind: 'conv', dims: [14, 14, 16, 32, 3] },
      { kind: 'dense', dims: [7 * 7 * 32, 10] },
    ],
  },
  {
    name: 'cnn-bn',
    build: () =>
      tf.sequential({
        layers: [
          conv(32, 'linear', [28, 28, 1]),
          tf.layers.batchNormalization(),
          tf.layers.activation({ activation: 'relu' }),
          conv(32, 'linear'),
          tf.layers.batchNormalization(),
          tf.layers.activation({ activation: 'relu' }),
          tf.layers.maxPooling2d({ poolSize: 2 }),
          conv(64, 'linear'),
          tf.layers.batchNormalization(),
          tf.layers.activation({ activation: 'relu' }),
          tf.layers.maxPooling2d({ poolSize: 2 }),
          tf.layers.globalAveragePooling2d({}),
          tf.layers.dense({ units: 10, activation: 'softmax' }),
        ],
      }),
    layers: [
      { kind: 'conv', dims: [28, 28, 1, 32, 3] },
      { kind: 'conv', dims: [28, 28, 32, 32, 3] },
      { kind: 'conv', dims: [14, 14, 32, 64, 3] },
      { kind: 'dense', dims: [64, 10] },
    ],
  },
  {
    name: 'mlp',
    build: () =>
      tf.sequential({
        layers: [
          tf.layers.flatten({ inputShape: [28, 28, 1] }),
          tf.layers.dense({ units: 256, activation: 'relu' }),
          tf.layers.dense({ units: 128, activation: 'relu' }),
          tf.layers.dense({ units: 10, activation: 'softmax' }),
        ],
      }),
    layers: [
      { kind: 'dense', dims: [784, 256] },
      { kind: 'dense', dims: [256, 128] },
      { kind: 'dense', dims: [128, 10] },
    ],
  },
]

/** Multiply-adds of one layer's forward pass for `batch` samples. */
export function layerMacs(l: LayerShape, batch: number): number {
  if (l.kind === 'dense') return batch * l.dims[0]! * l.dims[1]!
  const [h, w, ci, co, k] = l.dims as [number, number, number, number, number]
  return batch * h * w * k * k * ci * co
}

/** FLOPs of one training step: 2 x MACs x (forward + weight gradient + input gradient except layer 1). */
export function trainFlops(net: RefNet, batch: number): number {
  return net.layers.reduce((sum, l, i) => sum + 2 * layerMacs(l, batch) * (i === 0 ? 2 : 3), 0)
}

/** FLOPs of the plain forward of the net's conv layers (or dense layers when it has no conv). */
export function forwardRefLayers(net: RefNet): LayerShape[] {
  const convs = net.layers.filter((l) => l.kind === 'conv')
  return convs.length > 0 ? convs : net.layers
}
