import { createRequire } from 'node:module'
import path from 'node:path'
import * as tf from '@tensorflow/tfjs'
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm'
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs'
import { NasError } from '../../shared'
import type { Logger } from '../ports'
import { silentLogger } from '../ports'
import { conv2dBackpropFilterFast } from './fast-kernels'

/**
 * The ONLY module of the app that imports TensorFlow.js. Everything else in the engine uses the `tf` exported
 * here, so backend choice and extra kernels are decided in one place.
 */
export { tf }

/** The compute backend in use: `name` is tfjs's backend name, `detail` says which one and why, for people. */
export interface BackendInfo {
  name: string
  detail: string
}

/**
 * Kernels that the cpu backend has and wasm lacks but that are not bridged: complex/string dtypes cannot live
 * in wasm memory, and Draw needs a canvas.
 */
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

/** Kernels that wasm has but computes wrongly; bridged to cpu anyway. Why: MaxPoolGrad routes the gradient to
 * the wrong cell when every value in the pooling window is negative (wasm 4.22). */
const WASM_WRONG = ['MaxPoolGrad']

let initPromise: Promise<BackendInfo> | null = null
let bridged: string[] = []

/** Optional native backends are loaded by a runtime-computed name, so neither tsc nor the bundler needs them. */
async function tryImport(specifier: string): Promise<string | null> {
  try {
    await import(/* @vite-ignore */ specifier)
    return null
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err)
    return /Cannot find (module|package)/.test(message)
      ? 'not installed'
      : `failed to load (${message.split('\n')[0]})`
  }
}

/** Directory holding the .wasm binaries of @tensorflow/tfjs-backend-wasm, with a trailing slash. */
function wasmDir(): string {
  const require = createRequire(import.meta.url)
  const pkg = require.resolve('@tensorflow/tfjs-backend-wasm/package.json')
  return path.join(path.dirname(pkg), 'dist') + path.sep
}

/**
 * Registers, on wasm, one kernel per kernel that only cpu has (plus the wrong ones): it copies the inputs out of
 * wasm memory, runs the cpu kernel and copies the outputs back. Correct but slow, so kernels listed in FAST try a
 * wasm-native path first (fast-kernels.ts). Returns the names registered.
 */
export function registerCpuBridgeKernels(): string[] {
  const wasmKernels = new Set(tf.getKernelsForBackend('wasm').map((k) => k.kernelName))
  const names = tf
    .getKernelsForBackend('cpu')
    .map((k) => k.kernelName)
    .filter((n) => !UNBRIDGEABLE.has(n) && !wasmKernels.has(n))
  for (const name of WASM_WRONG) if (wasmKernels.has(name)) names.push(name)
  // why: the cpu backend prints a "install tfjs-node" banner on first use; our log already says why wasm is used
  const cpu = tf.engine().findBackend('cpu') as unknown as { firstUse?: boolean } | null
  if (cpu !== null && 'firstUse' in cpu) cpu.firstUse = false
  for (const name of names) {
    if (wasmKernels.has(name)) tf.unregisterKernel(name, 'wasm')
    tf.registerKernel(bridgeKernel(tf.getKernel(name, 'cpu')))
  }
  return names
}

/** Kernels with a fast wasm-native path; the bridge is used when the fast path returns null. */
const FAST: Record<string, (args: Parameters<KernelFunc>[0]) => TensorInfo | null> = {
  Conv2DBackpropFilter: conv2dBackpropFilterFast,
}

function bridgeKernel(cpuKernel: KernelConfig): KernelConfig {
  const fast = FAST[cpuKernel.kernelName]
  const kernelFunc: KernelFunc = (args) => {
    const quick = fast?.(args)
    return quick ?? viaCpu(args)
  }
  const viaCpu: KernelFunc = ({ inputs, backend, attrs }) => {
    const wasm = backend as unknown as {
      readSync(id: object): tf.backend_util.BackendValues
      makeOutput(
        shape: number[],
        dtype: tf.DataType,
        off?: number,
        values?: tf.backend_util.BackendValues,
      ): TensorInfo
    }
    const cpu = tf.engine().findBackend('cpu') as unknown as {
      write(values: tf.backend_util.BackendValues, shape: number[], dtype: tf.DataType): object
      readSync(id: object): tf.backend_util.BackendValues
      disposeData(id: object, force?: boolean): boolean
    }
    const cpuInputs: Record<string, TensorInfo> = {}
    for (const [key, info] of Object.entries(inputs)) {
      if (info == null) continue
      const dataId = cpu.write(wasm.readSync(info.dataId), info.shape, info.dtype)
      cpuInputs[key] = { dataId, shape: info.shape, dtype: info.dtype }
    }
    try {
      const result = cpuKernel.kernelFunc({ inputs: cpuInputs, backend: cpu as never, attrs })
      const outs = Array.isArray(result) ? result : [result]
      const converted = outs.map((o) => {
        const values = cpu.readSync(o.dataId)
        return wasm.makeOutput(o.shape, o.dtype, undefined, values)
      })
      for (const o of outs) cpu.disposeData(o.dataId)
      return Array.isArray(result) ? converted : converted[0]!
    } finally {
      for (const info of Object.values(cpuInputs)) cpu.disposeData(info.dataId)
    }
  }
  return { kernelName: cpuKernel.kernelName, backendName: 'wasm', kernelFunc }
}

async function chooseBackend(logger: Logger): Promise<BackendInfo> {
  const reasons: string[] = []
  const forced = process.env.NAS_BACKEND
  if (!forced || forced === 'tensorflow') {
    const gpu = await tryImport('@tensorflow/tfjs-node-gpu')
    if (gpu === null && (await tf.setBackend('tensorflow'))) {
      return { name: 'tensorflow', detail: 'TensorFlow native with CUDA GPU (@tensorflow/tfjs-node-gpu)' }
    }
    reasons.push(`@tensorflow/tfjs-node-gpu ${gpu ?? 'loaded but its backend did not start'}`)
    const cpuNative = await tryImport('@tensorflow/tfjs-node')
    if (cpuNative === null && (await tf.setBackend('tensorflow'))) {
      return {
        name: 'tensorflow',
        detail: `TensorFlow native on CPU (@tensorflow/tfjs-node): ${reasons.join('; ')}`,
      }
    }
    reasons.push(`@tensorflow/tfjs-node ${cpuNative ?? 'loaded but its backend did not start'}`)
  } else {
    reasons.push(`NAS_BACKEND=${forced}`)
  }
  if (!forced || forced === 'wasm' || forced === 'tensorflow') {
    try {
      setWasmPaths(wasmDir())
      if (await tf.setBackend('wasm')) {
        bridged = registerCpuBridgeKernels()
        const simd = tf.env().getBool('WASM_HAS_SIMD_SUPPORT') ? 'XNNPACK SIMD' : 'XNNPACK, no SIMD'
        return { name: 'wasm', detail: `WebAssembly (${simd}, 1 thread): ${reasons.join('; ')}` }
      }
      reasons.push('WebAssembly backend did not start')
    } catch (err) {
      reasons.push(`WebAssembly backend failed (${err instanceof Error ? err.message : String(err)})`)
    }
  }
  if (await tf.setBackend('cpu')) {
    return { name: 'cpu', detail: `Plain JavaScript CPU (slowest): ${reasons.join('; ')}` }
  }
  logger.error('No TensorFlow.js backend could start', { reasons })
  throw new NasError('backend_unavailable', `No compute backend could start: ${reasons.join('; ')}`)
}

/**
 * Picks and initialises the fastest working backend, once per process (later calls return the same answer):
 * tfjs-node-gpu, then tfjs-node, then wasm (with cpu-bridged training kernels), then cpu. The environment variable
 * NAS_BACKEND (tensorflow | wasm | cpu) narrows the chain, e.g. for tests.
 */
export function initCompute(logger: Logger = silentLogger): Promise<BackendInfo> {
  if (initPromise === null) {
    initPromise = chooseBackend(logger).then((info) => {
      logger.info(`Compute backend: ${info.detail}`, { backend: info.name, bridgedKernels: bridged })
      return info
    })
    initPromise.catch(() => {
      initPromise = null
    })
  }
  return initPromise
}

/** Same as initCompute: what the app shows as "Compute" (name + why). Idempotent. */
export function detectBackend(logger: Logger = silentLogger): Promise<BackendInfo> {
  return initCompute(logger)
}

/** Names of the kernels currently bridged from cpu to wasm (empty unless wasm was chosen). */
export function bridgedKernels(): readonly string[] {
  return bridged
}
