import { existsSync, readdirSync } from 'node:fs'
import path from 'node:path'
import * as tf from '@tensorflow/tfjs'
import { NasError } from '../../shared'
import { registerWebGpuKernels } from './webgpu-kernels'

/**
 * The WebGPU backend (@tensorflow/tfjs-backend-webgpu over Dawn from the npm `webgpu` package): any GPU through
 * Vulkan, Metal or D3D12. Both packages are optional dependencies, loaded by a runtime-computed name. A software
 * adapter (SwiftShader, lavapipe, llvmpipe, WebGPU's fallback adapter) is exact but slower than WebAssembly, so it
 * is used only when asked for (NAS_BACKEND=webgpu), which is how the tests check this path without a GPU.
 */

/** The slice of WebGPU's API used here (the `webgpu` package's own types would pull in DOM-like globals). */
interface GpuAdapterInfoLike {
  vendor: string
  architecture: string
  device: string
  description: string
  isFallbackAdapter?: boolean
}
interface GpuDeviceLike {
  lost: Promise<{ reason: string; message: string }>
  destroy(): void
}

/** How long a destroyed device may take to report its loss before a thread ends anyway (ms). */
const LOST_SETTLE_MS = 5000

/**
 * Destroys `device` and waits until Dawn has settled its `lost` promise. Why: when a thread (a trial worker, or
 * the process) ends while any Dawn promise is still pending, Dawn aborts the whole process ("Promise not
 * resolved or rejected"), and a destroyed device's `lost` promise settles only once Dawn processes its events.
 */
async function destroyAndSettle(device: GpuDeviceLike): Promise<void> {
  device.destroy()
  let timer: NodeJS.Timeout | undefined
  await Promise.race([
    device.lost.then(
      () => undefined,
      () => undefined,
    ),
    new Promise<void>((resolve) => (timer = setTimeout(resolve, LOST_SETTLE_MS))),
  ])
  clearTimeout(timer)
}
interface GpuAdapterLike {
  info: GpuAdapterInfoLike
  isFallbackAdapter?: boolean
  limits: { maxBufferSize: number; maxStorageBufferBindingSize: number }
  features: { has(name: string): boolean }
  requestDevice(descriptor?: object): Promise<GpuDeviceLike>
}
export interface GpuLike {
  requestAdapter(options?: object): Promise<GpuAdapterLike | null>
}
interface DawnModule {
  create(options: string[]): GpuLike
  globals: object
}
interface BufferManagerLike {
  freeBuffers: Map<string, Array<{ size: number; destroy(): void }>>
  numFreeBuffers: number
  numBytesAllocated: number
}
interface WebGpuBackendLike {
  device: GpuDeviceLike
  bufferManager: BufferManagerLike
  tensorMap: { get(dataId: object): { values?: unknown } | undefined }
  readSync(dataId: object): unknown
}
type WebGpuBackendClass = new (device: GpuDeviceLike, info: GpuAdapterInfoLike) => WebGpuBackendLike

/** The adapter in use, as people and logs name it. */
export interface GpuAdapter {
  vendor: string
  architecture: string
  description: string
  /** Why it is a software adapter (e.g. "SwiftShader, a CPU emulating a GPU"), or null for a hardware one. */
  software: string | null
  /** Largest buffer the adapter allows, in bytes: the only size WebGPU reports (not the card's memory). */
  maxBufferSize: number
}

/** "NVIDIA GeForce RTX 4070 (nvidia, ada)": vendor and architecture after the description. */
export function adapterName(a: GpuAdapter): string {
  const tags = [a.vendor, a.architecture].filter((s) => s.length > 0).join(', ')
  const name = a.description || 'unnamed GPU adapter'
  return tags.length > 0 ? `${name} (${tags})` : name
}

/** Why `info` is a software adapter, or null when it is a real GPU. */
export function softwareReason(info: GpuAdapterInfoLike, fallback: boolean): string | null {
  const text = `${info.vendor} ${info.architecture} ${info.device} ${info.description}`.toLowerCase()
  if (text.includes('swiftshader')) return 'SwiftShader, a CPU emulating a GPU'
  if (/lavapipe|llvmpipe|softpipe/.test(text)) return 'Mesa llvmpipe, a CPU emulating a GPU'
  if (text.includes('microsoft basic render')) return 'Microsoft Basic Render Driver, a CPU emulating a GPU'
  if (fallback) return "WebGPU's fallback adapter (software)"
  return null
}

function describe(adapter: GpuAdapterLike): GpuAdapter {
  const info = adapter.info
  const fallback = adapter.isFallbackAdapter === true || info.isFallbackAdapter === true
  return {
    vendor: info.vendor ?? '',
    architecture: info.architecture ?? '',
    description: info.description || info.device || '',
    software: softwareReason(info, fallback),
    maxBufferSize: adapter.limits.maxBufferSize,
  }
}

/** Loads an optional package by a computed name (neither tsc nor the bundler needs it). */
async function importOptional<T>(specifier: string): Promise<T | string> {
  try {
    return (await import(/* @vite-ignore */ specifier)) as T
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err)
    return /Cannot find (module|package)/.test(message)
      ? `${specifier} not installed`
      : `${specifier} failed to load (${message.split('\n')[0]})`
  }
}

/**
 * On Linux, why Dawn cannot find a Vulkan driver (no driver manifest where the Vulkan loader looks), or null.
 * Checked first so a machine without a GPU driver skips WebGPU quietly, without loading Dawn (which prints
 * loader warnings). Other systems reach the GPU through Metal or D3D12: null.
 */
export function missingVulkanDriver(env: NodeJS.ProcessEnv = process.env): string | null {
  if (process.platform !== 'linux') return null
  if (env.VK_ICD_FILENAMES || env.VK_DRIVER_FILES || env.VK_ADD_DRIVER_FILES) return null
  const roots = [
    ...(env.XDG_CONFIG_DIRS || '/etc/xdg').split(':'),
    '/etc',
    ...(env.XDG_DATA_DIRS || '/usr/local/share:/usr/share').split(':'),
    '/usr/local/share',
    '/usr/share',
  ]
  for (const root of roots) {
    const dir = path.join(root, 'vulkan', 'icd.d')
    try {
      if (existsSync(dir) && readdirSync(dir).some((f) => f.endsWith('.json'))) return null
    } catch {
      // an unreadable folder counts as none
    }
  }
  return 'no Vulkan GPU driver is installed'
}

let gpu: GpuLike | null = null

/** Unregisters tfjs's webgpu backend (the package's own factory, or ours), if registered. */
function forget(): void {
  if (tf.findBackendFactory('webgpu') !== null) tf.removeBackend('webgpu')
}

/** navigator.gpu from Dawn (created once per thread), or why there is none. */
export async function loadGpu(): Promise<GpuLike | string> {
  if (gpu !== null) return gpu
  const noDriver = missingVulkanDriver()
  if (noDriver !== null) return `WebGPU not tried: ${noDriver}`
  const dawn = await importOptional<DawnModule>('webgpu')
  if (typeof dawn === 'string') return dawn
  try {
    Object.assign(globalThis, dawn.globals)
    gpu = dawn.create([])
    return gpu
  } catch (err) {
    return `webgpu failed to start Dawn (${err instanceof Error ? err.message : String(err)})`
  }
}

/** Every distinct adapter Dawn offers (high-performance, low-power, fallback), for people and bench/gpu-check.sh. */
export async function listAdapters(): Promise<GpuAdapter[]> {
  const g = await loadGpu()
  if (typeof g === 'string') return []
  const seen = new Map<string, GpuAdapter>()
  for (const options of [
    { powerPreference: 'high-performance' },
    { powerPreference: 'low-power' },
    { forceFallbackAdapter: true },
  ]) {
    const adapter = await g.requestAdapter(options).catch(() => null)
    if (adapter === null) continue
    const a = describe(adapter)
    seen.set(`${a.vendor}|${a.architecture}|${a.description}`, a)
  }
  return [...seen.values()]
}

interface Active {
  adapter: GpuAdapter
  backend: WebGpuBackendLike
  lost: string | null
}
let active: Active | null = null

/** The adapter of the running webgpu backend, or null when webgpu is not in use. */
export function activeAdapter(): GpuAdapter | null {
  return active?.adapter ?? null
}

/**
 * Starts tfjs's webgpu backend on the high-performance adapter. A software adapter is refused unless
 * `allowSoftware`. Returns the adapter, or why webgpu was skipped (for BackendInfo.detail).
 */
export async function startWebGpu(allowSoftware: boolean): Promise<GpuAdapter | string> {
  const g = await loadGpu()
  if (typeof g === 'string') return g
  const adapter = await g.requestAdapter({ powerPreference: 'high-performance' }).catch(() => null)
  if (adapter === null) return 'WebGPU found no GPU adapter (no Vulkan, Metal or D3D12 driver)'
  const info = describe(adapter)
  if (info.software !== null && !allowSoftware)
    return `WebGPU skipped: its only adapter is ${info.software} (${adapterName(info)}), slower than WebAssembly`
  // the package registers its backend only when navigator.gpu exists at import time, so set it first
  const nav = ((globalThis as { navigator?: object }).navigator ??= {}) as { gpu?: GpuLike }
  if (nav.gpu === undefined)
    Object.defineProperty(nav, 'gpu', { value: g, configurable: true, writable: true })
  const pkg = await importOptional<{ WebGPUBackend: WebGpuBackendClass }>('@tensorflow/tfjs-backend-webgpu')
  if (typeof pkg === 'string') return pkg
  let device: GpuDeviceLike
  try {
    // the limits tfjs's own factory asks for: the adapter's, not WebGPU's small defaults
    const l = adapter.limits as unknown as Record<string, number>
    const names = [
      'maxComputeWorkgroupStorageSize',
      'maxComputeWorkgroupsPerDimension',
      'maxStorageBufferBindingSize',
      'maxBufferSize',
      'maxComputeWorkgroupSizeX',
      'maxComputeInvocationsPerWorkgroup',
      'maxStorageBuffersPerShaderStage',
    ]
    device = await adapter.requestDevice({
      requiredFeatures: adapter.features.has('timestamp-query') ? ['timestamp-query'] : [],
      requiredLimits: Object.fromEntries(names.map((n) => [n, l[n]])),
    })
  } catch (err) {
    return `WebGPU could not open ${adapterName(info)} (${err instanceof Error ? err.message : String(err)})`
  }
  const backend = new pkg.WebGPUBackend(device, adapter.info)
  // why: tfjs reads GPU data synchronously through OffscreenCanvas, which Node lacks; say so instead of a
  // ReferenceError. Data still on the CPU (small tensors, uploads not yet made) reads as before.
  const readAnyway = backend.readSync.bind(backend)
  backend.readSync = (dataId) => {
    if (backend.tensorMap.get(dataId)?.values != null) return readAnyway(dataId)
    throw new NasError(
      'internal',
      'A synchronous read of GPU data is not possible on the webgpu backend; the code must read with await data()',
    )
  }
  const state: Active = { adapter: info, backend, lost: null }
  void device.lost.then((why) => {
    state.lost ??= why.message || why.reason || 'no reason given'
  })
  forget()
  tf.registerBackend('webgpu', () => backend as never)
  registerWebGpuKernels()
  try {
    if (!(await tf.setBackend('webgpu'))) throw new Error('setBackend returned false')
  } catch (err) {
    forget()
    await destroyAndSettle(device)
    return `WebGPU backend did not start on ${adapterName(info)} (${err instanceof Error ? err.message : String(err)})`
  }
  active = state
  return info
}

/** Why the GPU device was lost (driver reset, GPU removed, timeout), or null while it works. */
export function deviceLost(): string | null {
  return active?.lost ?? null
}

/**
 * When the GPU device was lost, `err` becomes a clear NasError (details.deviceLost: the worker must be replaced,
 * since every GPU buffer it held is gone); otherwise `err` is returned unchanged.
 */
export function explainDeviceLoss(err: unknown): unknown {
  const why = deviceLost()
  if (why === null) return err
  return new NasError(
    'backend_unavailable',
    `The GPU stopped working during this trial (device lost: ${why}). The trial failed; the search goes on with a fresh GPU device.`,
    { deviceLost: true },
  )
}

/**
 * Frees the GPU buffers tfjs keeps for reuse (one pool per buffer size, never shrunk). Called between trials:
 * every trial has other shapes, so without this the pool grows with each architecture tried.
 */
export function releaseIdleBuffers(): void {
  const manager = active?.backend.bufferManager
  if (manager === undefined) return
  // the per-size lists are emptied, not removed: tfjs's releaseBuffer ignores every buffer once the map is empty
  for (const list of manager.freeBuffers.values()) {
    for (const buffer of list.splice(0)) {
      manager.numBytesAllocated -= buffer.size
      buffer.destroy()
    }
  }
  manager.numFreeBuffers = 0
}

/** Bytes of GPU buffers allocated through Dawn (live tensors and the reuse pool). */
export function gpuBytesAllocated(): number {
  return active?.backend.bufferManager.numBytesAllocated ?? 0
}

/** Destroys the GPU device, as a driver reset would (tests of device loss only). */
export function loseDeviceForTest(): void {
  if (active === null) return
  active.lost = 'destroyed by a test'
  active.backend.device.destroy()
}

/**
 * Stops webgpu and lets the thread end: the device is destroyed and its loss settled (see destroyAndSettle), and
 * navigator.gpu is dropped (Dawn keeps Node alive while it is referenced). Await it before a thread that used
 * webgpu ends.
 */
export async function releaseWebGpu(): Promise<void> {
  if (active !== null) {
    const device = active.backend.device
    forget()
    active = null
    await destroyAndSettle(device)
  }
  const nav = (globalThis as { navigator?: { gpu?: unknown } }).navigator
  if (nav?.gpu !== undefined) delete nav.gpu
  gpu = null
}
