import { describe, expect, it } from 'vitest'
import { assembleKernels, kernelsModuleSource, relaxedSource } from '../../../scripts/build-simd.mjs'
import { readFileSync } from 'node:fs'
import path from 'node:path'
import {
  KERNELS_RELAXED_WASM_BASE64,
  KERNELS_WASM_BASE64,
} from '../../../src/engine/compute/simd/kernels-wasm'

const WAT = path.resolve(__dirname, '../../../src/engine/compute/simd/kernels.wat')

/** The committed module bytes are exactly what kernels.wat assembles to (edit the .wat, then `npm run build:simd`). */
describe('SIMD kernel module build', () => {
  it('kernels-wasm.ts is up to date with kernels.wat, plain and relaxed', async () => {
    const bytes = await assembleKernels()
    const relaxed = await assembleKernels(true)
    expect(Buffer.from(KERNELS_WASM_BASE64, 'base64').equals(Buffer.from(bytes))).toBe(true)
    expect(Buffer.from(KERNELS_RELAXED_WASM_BASE64, 'base64').equals(Buffer.from(relaxed))).toBe(true)
    const file = readFileSync(
      path.resolve(__dirname, '../../../src/engine/compute/simd/kernels-wasm.ts'),
      'utf8',
    )
    expect(file).toBe(kernelsModuleSource(bytes, relaxed))
  })

  it('fuses every multiply-add of the matrix product and the filter gradient, and nothing else', () => {
    const { text, count } = relaxedSource(readFileSync(WAT, 'utf8'))
    // eight accumulators in each of the two kernels
    expect(count).toBe(16)
    expect(text).not.toMatch(/f32x4\.add \(local\.get \$a\d\d\) \(f32x4\.mul/)
    expect(
      text.match(/f32x4\.relaxed_madd \(local\.get \$s\) \(local\.get \$d[01]\) \(local\.get \$a\d\d\)/g),
    ).toHaveLength(16)
  })
})
