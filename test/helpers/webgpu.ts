import { existsSync, mkdtempSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'

/** The software Vulkan driver Debian's chromium package ships: exact, slow, enough to test the WebGPU path. */
export const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json'

const VULKAN_LOADERS = [
  '/usr/lib/x86_64-linux-gnu/libvulkan.so.1',
  '/usr/lib/aarch64-linux-gnu/libvulkan.so.1',
  '/usr/lib64/libvulkan.so.1',
  '/usr/lib/libvulkan.so.1',
]

/**
 * Points the Vulkan loader at SwiftShader for the WebGPU tests and returns null, or returns why WebGPU cannot be
 * tested here (no Vulkan driver at all), for a skip message. NAS_WEBGPU_TEST_DRIVER=system keeps the machine's
 * own drivers (bench/gpu-check.sh runs the tests on a real GPU that way). macOS and Windows use Metal / D3D12.
 */
export function useTestGpuDriver(): string | null {
  if (process.platform !== 'linux' || process.env.NAS_WEBGPU_TEST_DRIVER === 'system') return null
  if (!VULKAN_LOADERS.some((p) => existsSync(p)))
    return 'no Vulkan loader (apt-get install libvulkan1) — the WebGPU tests did not run'
  if (!existsSync(SWIFTSHADER_ICD))
    return `no Vulkan driver (SwiftShader comes with the chromium package: ${SWIFTSHADER_ICD}) — the WebGPU tests did not run`
  process.env.VK_ICD_FILENAMES = SWIFTSHADER_ICD
  process.env.XDG_RUNTIME_DIR ??= mkdtempSync(path.join(os.tmpdir(), 'nas-xdg-'))
  return null
}
