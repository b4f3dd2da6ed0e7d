/** Types of scripts/build-simd.mjs, for the test that checks the committed module bytes. */
export function assembleKernels(): Promise<Uint8Array>
export function kernelsModuleSource(bytes: Uint8Array): string
