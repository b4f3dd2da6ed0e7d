import { describe, expect, it } from 'vitest'
import { TRIAL_GPU_BYTES, trialsPerGpu } from '../../../src/engine/compute/gpu-trials'
import { adapterName, missingVulkanDriver, softwareReason } from '../../../src/engine/compute/webgpu'

const adapter = { maxBufferSize: 2 * TRIAL_GPU_BYTES }

describe('trials per GPU', () => {
  it('is one by default, whatever the memory', () => {
    expect(trialsPerGpu({}, { maxBufferSize: 100 * TRIAL_GPU_BYTES })).toBe(1)
    expect(trialsPerGpu({ NAS_GPU_TRIALS: 'lots' }, adapter)).toBe(1)
    expect(trialsPerGpu({ NAS_GPU_TRIALS: '0' }, adapter)).toBe(1)
  })

  it('grants more only as far as the adapter memory allows', () => {
    expect(trialsPerGpu({ NAS_GPU_TRIALS: '4' }, adapter)).toBe(2)
    expect(trialsPerGpu({ NAS_GPU_TRIALS: '4' }, { maxBufferSize: TRIAL_GPU_BYTES / 2 })).toBe(1)
    // the card's memory as its owner states it replaces the adapter's lower bound
    expect(trialsPerGpu({ NAS_GPU_TRIALS: '4', NAS_GPU_MEMORY_MB: '24576' }, adapter)).toBe(4)
    expect(trialsPerGpu({ NAS_GPU_TRIALS: '8', NAS_GPU_MEMORY_MB: '1536' }, adapter)).toBe(3)
    // a bigger model per trial: fewer fit
    expect(trialsPerGpu({ NAS_GPU_TRIALS: '8', NAS_GPU_MEMORY_MB: '8192' }, adapter, 2 ** 32)).toBe(2)
  })
})

describe('GPU adapters', () => {
  const info = (description: string, architecture = '', vendor = '') => ({
    vendor,
    architecture,
    device: '',
    description,
  })

  it('tells software adapters from GPUs', () => {
    expect(softwareReason(info('SwiftShader driver 5.0.0', 'swiftshader', 'google'), true)).toContain(
      'SwiftShader',
    )
    expect(softwareReason(info('llvmpipe (LLVM 15.0.6, 256 bits)'), false)).toContain('llvmpipe')
    expect(softwareReason(info('Microsoft Basic Render Driver'), false)).toContain('Basic Render')
    expect(softwareReason(info('Some adapter'), true)).toContain('fallback')
    expect(softwareReason(info('NVIDIA GeForce RTX 4070', 'ada', 'nvidia'), false)).toBeNull()
    expect(softwareReason(info('Apple M2', 'metal-3', 'apple'), false)).toBeNull()
  })

  it('names an adapter by description, vendor and architecture', () => {
    const a = {
      vendor: 'amd',
      architecture: 'rdna-3',
      description: 'AMD Radeon RX 7600',
      software: null,
      maxBufferSize: 1,
    }
    expect(adapterName(a)).toBe('AMD Radeon RX 7600 (amd, rdna-3)')
    expect(adapterName({ ...a, vendor: '', architecture: '', description: '' })).toBe('unnamed GPU adapter')
  })

  it.runIf(process.platform === 'linux')(
    'a Vulkan driver named by the environment counts as installed',
    () => {
      expect(missingVulkanDriver({ VK_ICD_FILENAMES: '/x/icd.json' })).toBeNull()
      expect(missingVulkanDriver({ VK_DRIVER_FILES: '/x/icd.json' })).toBeNull()
    },
  )
})
