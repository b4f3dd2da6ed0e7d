/**
 * Lists the WebGPU adapters Dawn offers on this machine (high-performance, low-power, fallback) as JSON, each
 * with vendor, architecture, description and whether it is a software adapter. Used by bench/gpu-check.sh.
 */
import { adapterName, listAdapters, missingVulkanDriver, releaseWebGpu } from '../src/engine/compute/webgpu'

const adapters = await listAdapters()
const noDriver = missingVulkanDriver()
console.log(
  JSON.stringify({
    adapters: adapters.map((a) => ({ name: adapterName(a), ...a })),
    ...(adapters.length === 0 ? { why: noDriver ?? 'WebGPU found no adapter' } : {}),
  }),
)
await releaseWebGpu()
