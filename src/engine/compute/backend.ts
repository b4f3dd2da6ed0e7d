import { execFileSync } from 'node:child_process'
import { createRequire } from 'node:module'
import os from 'node:os'
import path from 'node:path'
import * as tf from '@tensorflow/tfjs'
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm'
import { NasError } from '../../shared'
import type { Logger } from '../ports'
import { silentLogger } from '../ports'
import { registerCrossEntropyKernels } from './cross-entropy'
import { registerFusedBatchNorm } from './fused-batch-norm'
import { registerFusedConv } from './fused-conv'
import { registerFusedDense } from './fused-dense'
import { registerGradientOverrides } from './gradient-overrides'
import { registerTrainingKernels } from './training-kernels'
import { simdKernels } from './simd'
import type { WasmBackend } from './wasm-ops'
import type { GpuAdapter } from './webgpu'
import { adapterName, startWebGpu } from './webgpu'
import { gpuMemoryBudget, trialsPerGpu } from './gpu-trials'

/**
 * The ONLY module of the app that imports TensorFlow.js. Everything else in the engine uses the `tf` exported
 * here, so backend choice and extra kernels are decided in one place.
 */
export { tf }

/** The compute backend in use, for people and for the worker pool. */
export interface BackendInfo {
  /** tfjs's backend name: 'tensorflow' (native, GPU or CPU), 'webgpu', 'wasm' or 'cpu'. */
  name: string
  /** Which backend and why the faster ones were skipped, e.g. "WebAssembly (...): @tensorflow/tfjs-node-gpu not installed; ...". */
  detail: string
  /** What it computes on: the GPU's name, or the CPU model with its thread count. */
  device: string
  /** Trials to train at once with this backend: per GPU (one unless memory allows more), or one per CPU thread. */
  workers: number
  /** The WebGPU adapter (vendor, architecture, description) when the backend is webgpu. */
  adapter?: GpuAdapter
  /** webgpu: the GPU memory trials may share, in bytes (see gpuMemoryBudget); trials start while theirs fit. */
  gpuMemoryBytes?: number
}

/** Values NAS_BACKEND (and the CLI's --backend) accept. */
export const BACKEND_CHOICES = ['tensorflow', 'webgpu', 'wasm', 'cpu'] as const

let initPromise: Promise<BackendInfo> | null = null
let bridged: string[] = []
let fast: string[] = []

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

/** Activates backend `name`; false when no package registered it or it failed to initialise. */
async function start(name: string): Promise<boolean> {
  if (tf.findBackendFactory(name) === null) return false
  try {
    return await tf.setBackend(name)
  } catch {
    return false
  }
}

/** Directory holding the .wasm binaries of @tensorflow/tfjs-backend-wasm, with a trailing slash. */
function wasmDir(): string {
  const require = createRequire(import.meta.url)
  const pkg = require.resolve('@tensorflow/tfjs-backend-wasm/package.json')
  return path.join(path.dirname(pkg), 'dist') + path.sep
}

/** "Intel(R) Xeon(R) ... (2 threads)": the CPU as people name it. */
export function cpuDevice(): string {
  const model = os.cpus()[0]?.model.trim() || 'Unknown CPU'
  return `${model} (${os.availableParallelism()} threads)`
}

/** The CUDA GPUs nvidia-smi lists (names), or [] when it is absent or fails. */
function cudaGpus(): string[] {
  try {
    const out = execFileSync('nvidia-smi', ['--query-gpu=name', '--format=csv,noheader'], {
      encoding: 'utf8',
      timeout: 5000,
      stdio: ['ignore', 'pipe', 'ignore'],
    })
    return out
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l.length > 0)
  } catch {
    return []
  }
}

/** Where chooseBackend looks: the environment (NAS_BACKEND) and how optional packages are imported. */
export interface ChooseOptions {
  env?: NodeJS.ProcessEnv
  importer?: (specifier: string) => Promise<string | null>
  /** Starts webgpu (a software adapter only when allowed): the adapter, or why not. Default: startWebGpu. */
  webgpu?: (allowSoftware: boolean) => Promise<GpuAdapter | string>
  logger?: Logger
}

/**
 * Tries the chain tfjs-node-gpu -> tfjs-node -> webgpu on a hardware adapter -> wasm (+ our training kernels)
 * -> cpu and activates the first backend that starts; `detail` lists why each faster one was skipped.
 * NAS_BACKEND (tensorflow | webgpu | wasm | cpu) starts the chain at that backend; only NAS_BACKEND=webgpu
 * accepts a software GPU adapter (SwiftShader: exact but slow, for tests). Prefer initCompute, which does this
 * once per process.
 */
export async function chooseBackend(opts: ChooseOptions = {}): Promise<BackendInfo> {
  const env = opts.env ?? process.env
  const importer = opts.importer ?? tryImport
  const webgpu = opts.webgpu ?? startWebGpu
  const logger = opts.logger ?? silentLogger
  const reasons: string[] = []
  const cpu = cpuDevice()
  const threads = os.availableParallelism()
  let forced = env.NAS_BACKEND?.trim().toLowerCase() || undefined
  if (forced !== undefined && !(BACKEND_CHOICES as readonly string[]).includes(forced)) {
    reasons.push(`NAS_BACKEND=${forced} is not one of ${BACKEND_CHOICES.join(', ')}, so it was ignored`)
    forced = undefined
  }
  if (forced === undefined || forced === 'tensorflow') {
    const gpu = await importer('@tensorflow/tfjs-node-gpu')
    if (gpu === null && (await start('tensorflow'))) {
      const gpus = cudaGpus()
      return {
        name: 'tensorflow',
        detail: 'TensorFlow native with CUDA GPU (@tensorflow/tfjs-node-gpu)',
        device: gpus.length > 0 ? `${gpus[0]}${gpus.length > 1 ? ` (x${gpus.length})` : ''}` : 'CUDA GPU',
        workers: Math.max(1, gpus.length),
      }
    }
    reasons.push(`@tensorflow/tfjs-node-gpu ${gpu ?? 'loaded but its backend did not start'}`)
    const cpuNative = await importer('@tensorflow/tfjs-node')
    if (cpuNative === null && (await start('tensorflow'))) {
      return {
        name: 'tensorflow',
        detail: `TensorFlow native on CPU (@tensorflow/tfjs-node): ${reasons.join('; ')}`,
        device: cpu,
        workers: threads,
      }
    }
    reasons.push(`@tensorflow/tfjs-node ${cpuNative ?? 'loaded but its backend did not start'}`)
  } else {
    reasons.push(`NAS_BACKEND=${forced}: tfjs-node-gpu and tfjs-node not tried`)
  }
  if (forced === undefined || forced === 'tensorflow' || forced === 'webgpu') {
    const adapter = await webgpu(forced === 'webgpu')
    if (typeof adapter !== 'string') {
      const workers = trialsPerGpu(env, adapter)
      const software =
        adapter.software === null ? '' : ` (${adapter.software}: for tests, not a speed figure)`
      return {
        name: 'webgpu',
        detail: `WebGPU${software}, ${workers} trial${workers === 1 ? '' : 's'} at a time on the GPU: ${reasons.join('; ')}`,
        device: adapterName(adapter),
        workers,
        adapter,
        gpuMemoryBytes: gpuMemoryBudget(env, adapter),
      }
    }
    reasons.push(adapter)
  } else {
    reasons.push('webgpu not tried')
  }
  if (forced !== 'cpu') {
    try {
      setWasmPaths(wasmDir())
      if (await tf.setBackend('wasm')) {
        const kernels = registerTrainingKernels()
        registerCrossEntropyKernels()
        registerFusedDense()
        registerFusedConv()
        registerFusedBatchNorm()
        fast = kernels.fast
        bridged = kernels.bridged
        const simd = tf.env().getBool('WASM_HAS_SIMD_SUPPORT') ? 'XNNPACK SIMD' : 'XNNPACK, no SIMD'
        const variant = simdKernels(tf.backend() as unknown as WasmBackend)?.variant
        const ours =
          variant === undefined
            ? "NAS Studio's training kernels without SIMD (slower)"
            : `NAS Studio's training kernels with ${variant === 'relaxed' ? 'relaxed SIMD (fused multiply-add)' : 'SIMD'}`
        return {
          name: 'wasm',
          detail: `WebAssembly (${simd}, 1 thread per worker, ${ours}): ${reasons.join('; ')}`,
          device: cpu,
          workers: threads,
        }
      }
      reasons.push('WebAssembly backend did not start')
    } catch (err) {
      reasons.push(`WebAssembly backend failed (${err instanceof Error ? err.message : String(err)})`)
    }
  } else {
    reasons.push('wasm not tried')
  }
  if (await start('cpu')) {
    return {
      name: 'cpu',
      detail: `Plain JavaScript CPU (slowest): ${reasons.join('; ')}`,
      device: cpu,
      workers: threads,
    }
  }
  logger.error('No TensorFlow.js backend could start', { reasons })
  throw new NasError('backend_unavailable', `No compute backend could start: ${reasons.join('; ')}`)
}

/**
 * Picks and initialises the fastest working backend, once per process (later calls return the same answer):
 * tfjs-node-gpu, then tfjs-node, then webgpu on a hardware adapter, then wasm (with our training kernels),
 * then cpu. The environment variable NAS_BACKEND (tensorflow | webgpu | wasm | cpu) starts the chain later,
 * e.g. for tests or a machine where one misbehaves.
 */
export function initCompute(logger: Logger = silentLogger): Promise<BackendInfo> {
  if (initPromise === null) {
    registerGradientOverrides()
    initPromise = chooseBackend({ logger }).then((info) => {
      logger.info(`Compute backend: ${info.detail}`, {
        backend: info.name,
        device: info.device,
        ...(info.adapter ? { adapter: info.adapter } : {}),
        fastKernels: fast,
        bridgedKernels: bridged,
      })
      return info
    })
    initPromise.catch(() => {
      initPromise = null
    })
  }
  return initPromise
}

let hostSwitch: Promise<BackendInfo> | null = null

/**
 * initCompute for small work in the app's own process that reads results synchronously (exports and their
 * check, zero-cost scores, the reinforcement-learning controller): the same backend, except that webgpu, which
 * can only read asynchronously, hands this process's work to wasm (or cpu). Trials keep the GPU: they train in
 * worker threads. Returns the chosen backend (what trials use), as initCompute does.
 */
export async function initHostCompute(logger: Logger = silentLogger): Promise<BackendInfo> {
  const info = await initCompute(logger)
  if (info.name !== 'webgpu') return info
  hostSwitch ??= chooseBackend({ env: { NAS_BACKEND: 'wasm' }, logger })
  const host = await hostSwitch
  if (tf.getBackend() !== host.name) await tf.setBackend(host.name)
  return info
}

/** Same as initCompute: what the app shows as "Compute" (name, why, device). Idempotent. */
export function detectBackend(logger: Logger = silentLogger): Promise<BackendInfo> {
  return initCompute(logger)
}

/** Names of the kernels bridged from cpu to wasm (rare kernels only; empty unless wasm was chosen). */
export function bridgedKernels(): readonly string[] {
  return bridged
}

/** Names of NAS Studio's own wasm training kernels (empty unless wasm was chosen). */
export function fastKernels(): readonly string[] {
  return fast
}
