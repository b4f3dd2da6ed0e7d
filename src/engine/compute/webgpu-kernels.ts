import * as tf from '@tensorflow/tfjs'
import type { KernelFunc, TensorInfo } from '@tensorflow/tfjs'

/**
 * Fixes to tfjs-backend-webgpu's kernels, registered for the webgpu backend only (the wasm training kernels and
 * wasm gradient paths never apply there). AddN: tfjs's shader binds every input as a storage buffer, and a
 * device allows only a few per shader (8 by default), so a gradient that sums many branches (a DARTS mixed op,
 * a cell with many consumers of one node) failed validation. Here the sum is taken in groups that fit.
 */

interface WebGpuDeviceLimits {
  device: { limits: { maxStorageBuffersPerShaderStage: number } }
  disposeData(dataId: object): boolean
}

let registered = false

/** Registers the webgpu kernel fixes above (once per process; the webgpu backend must be registered). */
export function registerWebGpuKernels(): void {
  if (registered) return
  const original = tf.getKernel('AddN', 'webgpu')
  if (original === undefined) return
  registered = true
  const addN = original.kernelFunc
  const grouped: KernelFunc = (args) => {
    const backend = args.backend as unknown as WebGpuDeviceLimits
    // one storage buffer is the output
    const most = Math.max(2, backend.device.limits.maxStorageBuffersPerShaderStage - 1)
    let items = args.inputs as unknown as TensorInfo[]
    const made: TensorInfo[] = []
    while (items.length > most) {
      const next: TensorInfo[] = []
      for (let i = 0; i < items.length; i += most) {
        const group = items.slice(i, i + most)
        if (group.length === 1) {
          next.push(group[0]!)
          continue
        }
        const sum = addN({ ...args, inputs: group as never }) as TensorInfo
        made.push(sum)
        next.push(sum)
      }
      items = next
    }
    const out = addN({ ...args, inputs: items as never }) as TensorInfo
    for (const t of made) backend.disposeData(t.dataId)
    return out
  }
  tf.unregisterKernel('AddN', 'webgpu')
  tf.registerKernel({ ...original, kernelFunc: grouped })
}
