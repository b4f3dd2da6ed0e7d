import * as tf from '@tensorflow/tfjs'
import type { KernelFunc, TensorInfo } from '@tensorflow/tfjs'
import {
  addBias,
  batchMatMul,
  castSameType,
  fusedBatchNorm,
  fusedMatMul,
  identity,
  meanLeading,
  sumLeading,
  tile,
  wasmFallback,
} from './array-kernels'
import { conv2dBackpropFilter, conv2dBackpropInput } from './conv-grad-kernels'
import { viaCpu, quietCpuBackend } from './cpu-bridge'
import { depthwiseBackpropFilter, depthwiseBackpropInput } from './depthwise-grad-kernels'
import { avgPoolGrad, maxPoolGrad } from './pool-grad-kernels'
import type { KernelArgs } from './wasm-ops'
import { captureWasmKernels, pair, wasmHas } from './wasm-ops'

/**
 * The wasm backend's training kernels: our fast kernels (composed from wasm's XNNPACK kernels or single passes
 * over wasm memory) registered over or beside wasm's own, and a cpu bridge for every other kernel that only the
 * cpu backend has.
 */

/** Our kernels; each returns null for a case it does not handle. */
export const FAST_KERNELS: Readonly<Record<string, (args: KernelArgs) => TensorInfo | null>> = {
  Conv2DBackpropFilter: conv2dBackpropFilter,
  Conv2DBackpropInput: conv2dBackpropInput,
  DepthwiseConv2dNativeBackpropInput: depthwiseBackpropInput,
  DepthwiseConv2dNativeBackpropFilter: depthwiseBackpropFilter,
  MaxPoolGrad: maxPoolGrad,
  AvgPoolGrad: avgPoolGrad,
  BatchMatMul: batchMatMul,
  _FusedMatMul: fusedMatMul,
  Tile: tile,
  Sum: sumLeading,
  Mean: meanLeading,
  Identity: identity,
  Cast: castSameType,
  FusedBatchNorm: fusedBatchNorm,
  Add: addBias,
}

/** wasm kernels that are wrong; a declined case goes to the cpu bridge, never to them. Why: wasm 4.22's
 * MaxPoolGrad routes the gradient to the wrong cell when every value of a window is negative. */
const WASM_WRONG = new Set(['MaxPoolGrad'])

/** Kernels that need dtypes wasm memory cannot hold (complex, string) or a canvas: never bridged. */
const UNBRIDGEABLE = new Set([
  'Complex',
  'ComplexAbs',
  'FFT',
  'IFFT',
  'Imag',
  'Real',
  'StaticRegexReplace',
  'Draw',
])

/** What registerTrainingKernels installed: our fast kernels, and kernels that always go through the cpu. */
export interface TrainingKernels {
  fast: string[]
  bridged: string[]
}

let installed: TrainingKernels | null = null

/** True when a dilated-convolution gradient may pass `dilations` to our kernels (they honour it; cpu's do not). */
export function wasmKernelsHonourDilations(): boolean {
  return installed !== null
}

/**
 * Installs the training kernels on the wasm backend (once per process; later calls return the first answer).
 * A fast kernel that declines a case hands it to wasm's own kernel, or to the cpu bridge when wasm has none or
 * gets it wrong. A declined DILATED convolution gradient is an error, since the cpu kernels ignore dilations.
 */
export function registerTrainingKernels(): TrainingKernels {
  if (installed !== null) return installed
  captureWasmKernels()
  quietCpuBackend()
  const cpuKernels = new Map(tf.getKernelsForBackend('cpu').map((k) => [k.kernelName, k]))
  const fast: string[] = []
  for (const [name, kernel] of Object.entries(FAST_KERNELS)) {
    const cpu = cpuKernels.get(name)
    const fallback: KernelFunc =
      wasmHas(name) && !WASM_WRONG.has(name)
        ? wasmFallback(name)
        : cpu !== undefined
          ? viaCpu(cpu)
          : () => {
              throw new Error(`${name}: no kernel for this case on wasm`)
            }
    const kernelFunc: KernelFunc = (args) => {
      const quick = kernel(args)
      if (quick !== null) return quick
      const [dh, dw] = pair((args.attrs as { dilations?: number | number[] } | undefined)?.dilations)
      if (dh > 1 || dw > 1)
        throw new Error(`${name}: this dilated case (dilations ${dh}x${dw}) is not supported on wasm`)
      return fallback(args)
    }
    if (wasmHas(name)) tf.unregisterKernel(name, 'wasm')
    tf.registerKernel({ kernelName: name, backendName: 'wasm', kernelFunc })
    fast.push(name)
  }
  const bridged: string[] = []
  for (const [name, cpu] of cpuKernels) {
    if (UNBRIDGEABLE.has(name) || wasmHas(name) || name in FAST_KERNELS) continue
    tf.registerKernel({ kernelName: name, backendName: 'wasm', kernelFunc: viaCpu(cpu) })
    bridged.push(name)
  }
  installed = { fast, bridged }
  return installed
}
