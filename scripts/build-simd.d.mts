/** Types of scripts/build-simd.mjs, for the test that checks the committed module bytes. */
export function assembleKernels(relaxed?: boolean): Promise<Uint8Array>
export function kernelsModuleSource(bytes: Uint8Array, relaxedBytes: Uint8Array): string
export function relaxedSource(source: string): { text: string; count: number }
