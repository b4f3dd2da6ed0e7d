import type { Activation, ArchNode, Architecture } from '../../shared'
import { NasError } from '../../shared'
import { inferShapes, inputsByNode, networkInputShape, topoOrder } from '../space/shapes'
import { ATTR, ONNX_FLOAT, ONNX_INT64, encodeModel } from './onnx-proto'

/** One weight array of a layer, row-major in TF.js layout. */
export interface WeightArray {
  shape: number[]
  data: Float32Array
}

/** Trained weights by node id (= TF.js layer name), then by weight name (kernel, bias, gamma, ...). */
export type LayerWeights = Map<string, Record<string, WeightArray>>

/** The ONNX opset we write: 13 has every op we need with stable semantics and is read by every runtime. */
export const ONNX_OPSET = 13
const IR_VERSION = 8

/** Options of archToOnnx: metadata written into the model (metadata_props), e.g. class names. */
export interface OnnxOptions {
  producerVersion: string
  metadata?: Record<string, string>
  docString?: string
}

type Attr = Record<string, unknown>

/**
 * Writes an architecture with its trained weights as an ONNX model (opset 13), straight from our IR. The model
 * keeps the app's input layout: `input` is [N, ...inputShape] (NHWC for images, like the TF.js export) and is
 * transposed to NCHW once for the spatial ops; `flatten` transposes back to NHWC first, so dense weights keep
 * their order. `output` is [N, classes] probabilities. Padding is explicit, computed like TF's 'same'.
 */
export function archToOnnx(
  arch: Architecture,
  dataShape: number[],
  weights: LayerWeights,
  opts: OnnxOptions,
): Uint8Array {
  const inputShape = networkInputShape(arch, dataShape)
  const shapes = inferShapes(arch, inputShape)
  const ins = inputsByNode(arch)
  const nodes: Attr[] = []
  const initializers: Attr[] = []
  let counter = 0
  const fresh = (base: string): string => `${base}__${counter++}`

  const attr = (name: string, value: number | number[] | string, float = false): Attr => {
    if (typeof value === 'string') return { name, type: ATTR.STRING, s: Buffer.from(value) }
    if (Array.isArray(value)) return { name, type: ATTR.INTS, ints: value }
    return float ? { name, type: ATTR.FLOAT, f: value } : { name, type: ATTR.INT, i: value }
  }
  const emit = (op: string, inputs: string[], name: string, attrs: Attr[] = []): string => {
    const out = fresh(name)
    nodes.push({ op_type: op, input: inputs, output: [out], name: out, attribute: attrs })
    return out
  }
  const constant = (name: string, dims: number[], data: Float32Array): string => {
    const id = fresh(name)
    initializers.push({
      name: id,
      dims,
      data_type: ONNX_FLOAT,
      raw_data: Buffer.from(data.buffer, data.byteOffset, data.byteLength),
    })
    return id
  }
  const constantInt64 = (name: string, values: number[]): string => {
    const id = fresh(name)
    const data = BigInt64Array.from(values.map((v) => BigInt(v)))
    initializers.push({
      name: id,
      dims: [values.length],
      data_type: ONNX_INT64,
      raw_data: Buffer.from(data.buffer),
    })
    return id
  }
  const weight = (node: ArchNode, key: string): WeightArray => {
    const w = weights.get(node.id)?.[key]
    if (!w) throw new NasError('internal', `No trained weight "${key}" for layer ${node.id} (${node.op})`)
    return w
  }
  const optionalWeight = (node: ArchNode, key: string): WeightArray | undefined => weights.get(node.id)?.[key]

  const activate = (x: string, activation: Activation | 'softmax', name: string): string => {
    switch (activation) {
      case 'linear':
        return x
      case 'relu':
        return emit('Relu', [x], name)
      case 'elu':
        return emit('Elu', [x], name, [attr('alpha', 1, true)])
      case 'selu':
        return emit('Selu', [x], name)
      case 'tanh':
        return emit('Tanh', [x], name)
      case 'sigmoid':
        return emit('Sigmoid', [x], name)
      case 'swish':
        return emit('Mul', [x, emit('Sigmoid', [x], name)], name)
      case 'softmax':
        return emit('Softmax', [x], name, [attr('axis', -1)])
    }
  }

  /** TF 'same' padding for one spatial axis: [before, after]. */
  const samePads = (size: number, stride: number, kernel: number): [number, number] => {
    const out = Math.ceil(size / stride)
    const total = Math.max((out - 1) * stride + kernel - size, 0)
    const before = Math.floor(total / 2)
    return [before, total - before]
  }
  const padsAttr = (h: [number, number], w: [number, number]): Attr => attr('pads', [h[0], w[0], h[1], w[1]])
  /** A convolution's pads: TF 'same' for its stride and (dilated) kernel, or none for 'valid'. */
  const convPads = (padding: 'same' | 'valid' | undefined, inShape: number[], s: number, k: number): Attr =>
    (padding ?? 'same') === 'valid'
      ? attr('pads', [0, 0, 0, 0])
      : padsAttr(samePads(inShape[0]!, s, k), samePads(inShape[1]!, s, k))

  /** [k, k, in, out] (TF) -> [out, in, k, k] (ONNX). */
  const convKernel = (w: WeightArray): { dims: number[]; data: Float32Array } => {
    const [kh, kw, cin, cout] = w.shape as [number, number, number, number]
    const data = new Float32Array(w.data.length)
    for (let i = 0; i < kh; i++)
      for (let j = 0; j < kw; j++)
        for (let c = 0; c < cin; c++)
          for (let o = 0; o < cout; o++)
            data[((o * cin + c) * kh + i) * kw + j] = w.data[((i * kw + j) * cin + c) * cout + o]!
    return { dims: [cout, cin, kh, kw], data }
  }
  /** Depthwise [k, k, c, 1] -> grouped conv weight [c, 1, k, k]. */
  const depthwiseKernel = (w: WeightArray): { dims: number[]; data: Float32Array } => {
    const [kh, kw, c] = w.shape as [number, number, number]
    const data = new Float32Array(w.data.length)
    for (let i = 0; i < kh; i++)
      for (let j = 0; j < kw; j++)
        for (let ch = 0; ch < c; ch++) data[(ch * kh + i) * kw + j] = w.data[(i * kw + j) * c + ch]!
    return { dims: [c, 1, kh, kw], data }
  }

  // value names per node; rank-4 values are NCHW inside the graph
  const values = new Map<string, string>()
  let inputName = 'input'
  const order = topoOrder(arch)
  for (const node of order) {
    const from = (ins.get(node.id) ?? []).map((id) => values.get(id)!)
    const inShapes = (ins.get(node.id) ?? []).map((id) => shapes.get(id)!)
    const inShape = inShapes[0] ?? []
    const outShape = shapes.get(node.id)!
    const x = from[0]!
    const n = node.id
    let out: string
    switch (node.op) {
      case 'input':
        inputName = 'input'
        out =
          inputShape.length === 3
            ? emit('Transpose', ['input'], 'to_nchw', [attr('perm', [0, 3, 1, 2])])
            : 'input'
        break
      case 'flatten':
        out =
          inShape.length === 3
            ? emit('Flatten', [emit('Transpose', [x], n, [attr('perm', [0, 2, 3, 1])])], n, [attr('axis', 1)])
            : emit('Flatten', [x], n, [attr('axis', 1)])
        break
      case 'dense': {
        const k = weight(node, 'kernel')
        const b = optionalWeight(node, 'bias')
        const inputs = [x, constant(`${n}_kernel`, k.shape, k.data)]
        if (b) inputs.push(constant(`${n}_bias`, b.shape, b.data))
        out = activate(emit('Gemm', inputs, n), node.activation, n)
        break
      }
      case 'conv2d': {
        const s = node.strides ?? 1
        const k = convKernel(weight(node, 'kernel'))
        const b = optionalWeight(node, 'bias')
        const inputs = [x, constant(`${n}_kernel`, k.dims, k.data)]
        if (b) inputs.push(constant(`${n}_bias`, b.shape, b.data))
        const conv = emit('Conv', inputs, n, [
          attr('kernel_shape', [node.kernelSize, node.kernelSize]),
          attr('strides', [s, s]),
          convPads(node.padding, inShape, s, node.kernelSize),
        ])
        out = activate(conv, node.activation, n)
        break
      }
      case 'sepConv2d': {
        const s = node.strides ?? 1
        const c = inShape[2]!
        const dw = depthwiseKernel(weight(node, 'depthwise_kernel'))
        const pw = convKernel(weight(node, 'pointwise_kernel'))
        const b = optionalWeight(node, 'bias')
        const depth = emit('Conv', [x, constant(`${n}_depthwise`, dw.dims, dw.data)], n, [
          attr('group', c),
          attr('kernel_shape', [node.kernelSize, node.kernelSize]),
          attr('strides', [s, s]),
          convPads(node.padding, inShape, s, node.kernelSize),
        ])
        const inputs = [depth, constant(`${n}_pointwise`, pw.dims, pw.data)]
        if (b) inputs.push(constant(`${n}_bias`, b.shape, b.data))
        out = activate(emit('Conv', inputs, n, [attr('kernel_shape', [1, 1])]), node.activation, n)
        break
      }
      case 'depthwiseConv2d': {
        const s = node.strides ?? 1
        const d = node.dilation ?? 1
        const c = inShape[2]!
        const ke = (node.kernelSize - 1) * d + 1
        const dw = depthwiseKernel(weight(node, 'depthwise_kernel'))
        const b = optionalWeight(node, 'bias')
        // the dilated layer pads like a stride-1 'same' conv and subsamples (custom-layers.ts); tf.js's own
        // depthwise conv (d = 1) pads like TF 'same' for its stride
        const pads =
          d > 1
            ? padsAttr(samePads(inShape[0]!, 1, ke), samePads(inShape[1]!, 1, ke))
            : convPads(node.padding, inShape, s, ke)
        const inputs = [x, constant(`${n}_depthwise`, dw.dims, dw.data)]
        if (b) inputs.push(constant(`${n}_bias`, b.shape, b.data))
        const conv = emit('Conv', inputs, n, [
          attr('group', c),
          attr('kernel_shape', [node.kernelSize, node.kernelSize]),
          attr('strides', [s, s]),
          attr('dilations', [d, d]),
          pads,
        ])
        out = activate(conv, node.activation, n)
        break
      }
      case 'maxPool2d':
      case 'avgPool2d': {
        const p = node.poolSize
        const s = node.strides ?? p
        const same = (node.padding ?? 'valid') === 'same'
        const pads = same
          ? padsAttr(samePads(inShape[0]!, s, p), samePads(inShape[1]!, s, p))
          : attr('pads', [0, 0, 0, 0])
        const attrs = [attr('kernel_shape', [p, p]), attr('strides', [s, s]), pads]
        // TF's 'same' average pooling divides by the number of real (unpadded) inputs
        if (node.op === 'avgPool2d') attrs.push(attr('count_include_pad', 0))
        out = emit(node.op === 'maxPool2d' ? 'MaxPool' : 'AveragePool', [x], n, attrs)
        break
      }
      case 'globalAvgPool':
        out = emit('Flatten', [emit('GlobalAveragePool', [x], n)], n, [attr('axis', 1)])
        break
      case 'dropout':
      case 'identity':
        out = emit('Identity', [x], n)
        break
      case 'batchNorm': {
        const c = inShape[inShape.length - 1]!
        const ones = new Float32Array(c).fill(1)
        const zeros = new Float32Array(c)
        const gamma = optionalWeight(node, 'gamma')?.data ?? ones
        const beta = optionalWeight(node, 'beta')?.data ?? zeros
        out = emit(
          'BatchNormalization',
          [
            x,
            constant(`${n}_gamma`, [c], gamma),
            constant(`${n}_beta`, [c], beta),
            constant(`${n}_mean`, [c], weight(node, 'moving_mean').data),
            constant(`${n}_variance`, [c], weight(node, 'moving_variance').data),
          ],
          n,
          // tf.layers.batchNormalization's default epsilon
          [attr('epsilon', 1e-3, true)],
        )
        break
      }
      case 'activation':
        out = node.activation === 'linear' ? emit('Identity', [x], n) : activate(x, node.activation, n)
        break
      case 'relu':
        out =
          node.maxValue === undefined
            ? emit('Relu', [x], n)
            : emit(
                'Clip',
                [
                  x,
                  constant(`${n}_min`, [], new Float32Array([0])),
                  constant(`${n}_max`, [], new Float32Array([node.maxValue])),
                ],
                n,
              )
        break
      case 'zeroPad': {
        const [top, bottom, left, right] = node.padding
        // NCHW inside the graph: [n, c, top, left] before, [n, c, bottom, right] after
        out = emit('Pad', [x, constantInt64(`${n}_pads`, [0, 0, top, left, 0, 0, bottom, right])], n)
        break
      }
      case 'zero': {
        const s = node.strides ?? 1
        let src = x
        if (s > 1 && inShape.length === 3) {
          src = emit(
            'Slice',
            [
              x,
              constantInt64(`${n}_starts`, [0, 0]),
              constantInt64(`${n}_ends`, [inShape[0]!, inShape[1]!]),
              constantInt64(`${n}_axes`, [2, 3]),
              constantInt64(`${n}_steps`, [s, s]),
            ],
            n,
          )
        }
        out = emit('Mul', [src, constant(`${n}_zero`, [], new Float32Array([0]))], n)
        break
      }
      case 'add':
        out = emit('Sum', from, n)
        break
      case 'concat':
        out = emit('Concat', from, n, [attr('axis', inShape.length === 3 ? 1 : -1)])
        break
    }
    if (outShape.length === 0) throw new NasError('internal', `Node ${n} has no shape`)
    values.set(node.id, out)
  }
  const finalShape = shapes.get(arch.output)!
  let last = values.get(arch.output)!
  if (finalShape.length === 3) last = emit('Transpose', [last], 'to_nhwc', [attr('perm', [0, 2, 3, 1])])
  nodes.push({ op_type: 'Identity', input: [last], output: ['output'], name: 'output' })

  const valueInfo = (name: string, dims: number[]): Attr => ({
    name,
    type: {
      tensor_type: {
        elem_type: ONNX_FLOAT,
        shape: { dim: [{ dim_param: 'N' }, ...dims.map((d) => ({ dim_value: d }))] },
      },
    },
  })
  return encodeModel({
    ir_version: IR_VERSION,
    producer_name: 'NAS Studio',
    producer_version: opts.producerVersion,
    doc_string: opts.docString ?? '',
    opset_import: [{ domain: '', version: ONNX_OPSET }],
    metadata_props: Object.entries(opts.metadata ?? {}).map(([key, value]) => ({ key, value })),
    graph: {
      name: 'nas_studio_model',
      node: nodes,
      initializer: initializers,
      input: [valueInfo(inputName, inputShape)],
      output: [valueInfo('output', finalShape)],
    },
  })
}
