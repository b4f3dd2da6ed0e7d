import * as tf from '@tensorflow/tfjs'
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs'

/**
 * The generic fallback for kernels wasm lacks: copy the inputs out of wasm memory, run the cpu backend's kernel,
 * copy the outputs back. Correct but slow; training-kernels.ts keeps it only for rare kernels and for cases a
 * fast kernel declines.
 */
export function viaCpu(cpuKernel: KernelConfig): KernelFunc {
  return ({ inputs, backend, attrs }) => {
    const wasm = backend as unknown as {
      readSync(id: object): tf.backend_util.BackendValues
      makeOutput(
        shape: number[],
        dtype: tf.DataType,
        off?: number,
        values?: tf.backend_util.BackendValues,
      ): TensorInfo
    }
    const cpu = tf.engine().findBackend('cpu') as unknown as {
      write(values: tf.backend_util.BackendValues, shape: number[], dtype: tf.DataType): object
      readSync(id: object): tf.backend_util.BackendValues
      disposeData(id: object, force?: boolean): boolean
    }
    const cpuInputs: Record<string, TensorInfo> = {}
    for (const [key, info] of Object.entries(inputs)) {
      if (info == null) continue
      const dataId = cpu.write(wasm.readSync(info.dataId), info.shape, info.dtype)
      cpuInputs[key] = { dataId, shape: info.shape, dtype: info.dtype }
    }
    try {
      const result = cpuKernel.kernelFunc({ inputs: cpuInputs, backend: cpu as never, attrs })
      const outs = Array.isArray(result) ? result : [result]
      const converted = outs.map((o) => {
        const values = cpu.readSync(o.dataId)
        return wasm.makeOutput(o.shape, o.dtype, undefined, values)
      })
      for (const o of outs) cpu.disposeData(o.dataId)
      return Array.isArray(result) ? converted : converted[0]!
    } finally {
      for (const info of Object.values(cpuInputs)) cpu.disposeData(info.dataId)
    }
  }
}

/** Silences the cpu backend's "install tfjs-node" banner: our log already says why wasm is used. */
export function quietCpuBackend(): void {
  const cpu = tf.engine().findBackend('cpu') as unknown as { firstUse?: boolean } | null
  if (cpu !== null && 'firstUse' in cpu) cpu.firstUse = false
}
