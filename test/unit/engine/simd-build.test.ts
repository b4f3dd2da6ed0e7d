import { describe, expect, it } from 'vitest'
import { assembleKernels, kernelsModuleSource } from '../../../scripts/build-simd.mjs'
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { KERNELS_WASM_BASE64 } from '../../../src/engine/compute/simd/kernels-wasm'

/** The committed module bytes are exactly what kernels.wat assembles to (edit the .wat, then `npm run build:simd`). */
describe('SIMD kernel module build', () => {
  it('kernels-wasm.ts is up to date with kernels.wat', async () => {
    const bytes = await assembleKernels()
    expect(Buffer.from(KERNELS_WASM_BASE64, 'base64').equals(Buffer.from(bytes))).toBe(true)
    const file = readFileSync(
      path.resolve(__dirname, '../../../src/engine/compute/simd/kernels-wasm.ts'),
      'utf8',
    )
    expect(file).toBe(kernelsModuleSource(bytes))
  })
})
