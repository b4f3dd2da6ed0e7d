import * as tf from '@tensorflow/tfjs'
import type { KernelFunc, Tensor, TensorInfo } from '@tensorflow/tfjs'
import { batchMatMul, fusedMatMul } from './array-kernels'
import { layerPrototype, reluMask, singleWasmInput, splitActivation } from './fused-layers'
import type { KernelArgs, WasmBackend } from './wasm-ops'
import { callWasm, view } from './wasm-ops'

/**
 * tfjs-layers' Dense layer in training as ONE kernel forward (product, bias, ReLU) and, backward, one kernel
 * per gradient (input, weight, bias) on wasm. tfjs fuses a dense layer only outside training: while gradients
 * are recorded it runs a product, an Add and a Relu, with Reshapes around the product, and their gradients take
 * about eight kernels more and save five tensors; on a small net (the MLP of bench:peers) each kernel call costs
 * more in the engine's bookkeeping than in arithmetic. The layer's weights, configuration and results are
 * unchanged: this replaces how Dense.call computes on wasm, not what. Other backends, inputs of another rank or
 * dtype, layers without a bias, and wasm without our SIMD kernels run tfjs-layers' own call; activations other
 * than ReLU are applied after the fused product, as tfjs-layers applies them.
 */

const DENSE = 'NasDense'
const GRAD_INPUT = 'NasDenseGradInput'
const GRAD_WEIGHT = 'NasDenseGradWeight'

interface DenseLike {
  kernel: { read(): Tensor } | null
  bias: { read(): Tensor } | null
  activation: { getClassName(): string; apply(x: Tensor): Tensor } | null
  invokeCallHook(inputs: Tensor | Tensor[], kwargs: object): void
  call(inputs: Tensor | Tensor[], kwargs: object): Tensor | Tensor[]
}

/** A [m, k] x [k, n] product (or with a transposed operand) through the BatchMatMul kernels, as [m, n]. */
function product(
  backend: KernelArgs['backend'],
  a: TensorInfo,
  b: TensorInfo,
  transposeA: boolean,
  transposeB: boolean,
): TensorInfo {
  const attrs = { transposeA, transposeB }
  // wasm's own kernels want a batch dimension; views add it without a copy
  const inputs = { a: view(a, [1, ...a.shape]), b: view(b, [1, ...b.shape]) }
  const out =
    batchMatMul({ inputs, backend, attrs }) ??
    callWasm('BatchMatMul', backend as unknown as WasmBackend, inputs, attrs)
  return view(out, out.shape.slice(1))
}

/** x [m, k] times w [k, n] plus bias [n], then ReLU when attrs.relu: our fused product, else wasm's. */
const denseKernel: KernelFunc = ({ inputs, backend, attrs }) => {
  const { x, w, bias } = inputs as { x: TensorInfo; w: TensorInfo; bias: TensorInfo }
  const fusedAttrs = {
    transposeA: false,
    transposeB: false,
    activation: (attrs as { relu: boolean }).relu ? 'relu' : 'linear',
  }
  const args = { a: view(x, [1, ...x.shape]), b: view(w, [1, ...w.shape]), bias }
  const out =
    fusedMatMul({ inputs: args, backend, attrs: fusedAttrs }) ??
    callWasm('_FusedMatMul', backend as unknown as WasmBackend, args, fusedAttrs)
  return view(out, out.shape.slice(1))
}

/** The input's gradient dy w^T. */
const gradInputKernel: KernelFunc = ({ inputs, backend }) => {
  const { dy, w } = inputs as { dy: TensorInfo; w: TensorInfo }
  return product(backend, dy, w, false, true)
}

/** The weight's gradient x^T dy. */
const gradWeightKernel: KernelFunc = ({ inputs, backend }) => {
  const { x, dy } = inputs as { x: TensorInfo; dy: TensorInfo }
  return product(backend, x, dy, true, false)
}

/** The input tensor when this call takes the fused path, else null. */
function fusableInput(layer: DenseLike, inputs: Tensor | Tensor[]): Tensor | null {
  const x = singleWasmInput(layer, inputs)
  return x !== null && x.rank === 2 && x.dtype === 'float32' ? x : null
}

let registered = false

/** Registers the kernels and the gradient, and routes Dense layers through them on wasm (once per process). */
export function registerFusedDense(): void {
  if (registered) return
  registered = true
  tf.registerKernel({ kernelName: DENSE, backendName: 'wasm', kernelFunc: denseKernel })
  tf.registerKernel({ kernelName: GRAD_INPUT, backendName: 'wasm', kernelFunc: gradInputKernel })
  tf.registerKernel({ kernelName: GRAD_WEIGHT, backendName: 'wasm', kernelFunc: gradWeightKernel })
  tf.registerGradient({
    kernelName: DENSE,
    inputsToSave: ['x', 'w'],
    outputsToSave: [true],
    gradFunc: (dy, saved, attrs) => {
      const [x, w, y] = saved as [Tensor, Tensor, Tensor]
      // shared by the three gradients, so computed here: tfjs runs each closure in its own tidy
      const g = (attrs as { relu: boolean }).relu ? reluMask(dy as Tensor, y) : (dy as Tensor)
      const run = (name: string, inputs: Record<string, Tensor>): Tensor =>
        tf.engine().runKernel(name, inputs) as Tensor
      return {
        x: () => run(GRAD_INPUT, { dy: g, w }),
        w: () => run(GRAD_WEIGHT, { x, dy: g }),
        bias: () => tf.sum(g, 0),
      }
    },
  })
  const proto = layerPrototype<DenseLike>('Dense')
  const original = proto.call
  proto.call = function (this: DenseLike, inputs, kwargs) {
    const x = fusableInput(this, inputs)
    if (x === null) return original.call(this, inputs, kwargs)
    return tf.tidy(() => {
      this.invokeCallHook(inputs, kwargs)
      const { relu, after } = splitActivation(this.activation)
      return after(
        tf
          .engine()
          .runKernel(DENSE, { x, w: this.kernel!.read(), bias: this.bias!.read() }, { relu }) as Tensor,
      )
    })
  }
}
