import * as tf from '@tensorflow/tfjs'
import type { Tensor, Variable } from '@tensorflow/tfjs'
import { simdKernels } from './simd'
import type { WasmBackend } from './wasm-ops'

/**
 * Adam with tfjs's update rule and state (same moments, same serialisation), applied on wasm in one SIMD pass
 * over each variable's wasm memory instead of tfjs's ~12 small kernels per variable per step. The pass writes
 * the moments (and the powers of beta) in place where no other tensor shares their data, which spares their
 * allocations, tensors and assignments every step.
 * Other backends, and wasm where our SIMD kernels do not load, use tfjs's own update.
 */

interface AdamState {
  learningRate: number
  beta1: number
  beta2: number
  epsilon: number
  accBeta1: Variable
  accBeta2: Variable
  accumulatedFirstMoment: Array<{ originalName: string; variable: Variable } | undefined>
  accumulatedSecondMoment: Array<{ originalName: string; variable: Variable } | undefined>
}

/** tf.train.adam's optimizer with a single-pass update on the wasm backend (results equal within float32). */
export class FastAdamOptimizer extends tf.AdamOptimizer {
  override applyGradients(variableGradients: Parameters<tf.AdamOptimizer['applyGradients']>[0]): void {
    const simd = tf.getBackend() === 'wasm' ? simdKernels(tf.backend() as unknown as WasmBackend) : null
    if (simd === null) {
      super.applyGradients(variableGradients)
      return
    }
    const st = this as unknown as AdamState
    const names = Array.isArray(variableGradients)
      ? variableGradients.map((v) => v.name)
      : Object.keys(variableGradients)
    const wasm = tf.backend() as unknown as WasmBackend
    const { beta1, beta2, epsilon, learningRate } = st
    // as tfjs computes them: float32 scalars 1 - accBeta
    const c1 = Math.fround(1 - st.accBeta1.dataSync()[0]!)
    const c2 = Math.fround(1 - st.accBeta2.dataSync()[0]!)
    names.forEach((name, i) => {
      const value = tf.engine().registeredVariables[name]!
      const moment = (prev: AdamState['accumulatedFirstMoment'][number], suffix: string) =>
        prev ?? {
          originalName: `${name}/${suffix}`,
          variable: tf.tidy(() => tf.zerosLike(value).variable(false)),
        }
      const m = (st.accumulatedFirstMoment[i] = moment(st.accumulatedFirstMoment[i], 'm'))
      const v = (st.accumulatedSecondMoment[i] = moment(st.accumulatedSecondMoment[i], 'v'))
      const gradient: Tensor | undefined = Array.isArray(variableGradients)
        ? variableGradients[i]!.tensor
        : variableGradients[name]
      if (gradient == null) return
      if (gradient.dtype !== 'float32' || value.dtype !== 'float32') {
        throw new Error(
          `Adam: variable ${name} is ${value.dtype}, its gradient ${gradient.dtype}; expected float32`,
        )
      }
      // the moments in place where no other tensor shares their data (element i is read before it is
      // written); the weight always into a new tensor: XNNPACK keeps operators packed from a weight, keyed by
      // its data, so a weight must never change under the same data
      const inPlace = (t: Variable): boolean => wasm.refCount(t.dataId) === 1
      const m1 = inPlace(m.variable) ? m.variable : wasm.makeOutput(value.shape, 'float32')
      const v1 = inPlace(v.variable) ? v.variable : wasm.makeOutput(value.shape, 'float32')
      const w1 = wasm.makeOutput(value.shape, 'float32')
      simd.adamStep(
        { g: gradient, m0: m.variable, v0: v.variable, w0: value, m1, v1, w1 },
        { beta1, beta2, c1, c2, learningRate, epsilon },
      )
      for (const [variable, info] of [
        [m.variable, m1],
        [v.variable, v1],
        [value, w1],
      ] as const) {
        if (info === variable) continue
        const t = tf.engine().makeTensorFromTensorInfo(info)
        variable.assign(t)
        t.dispose()
      }
    })
    // the powers of beta, as tfjs's float32 multiply computes them
    for (const [acc, beta] of [
      [st.accBeta1, beta1],
      [st.accBeta2, beta2],
    ] as const) {
      const next = Math.fround(acc.dataSync()[0]! * Math.fround(beta))
      if (wasm.refCount(acc.dataId) === 1) wasm.typedArrayFromHeap(acc)[0] = next
      else tf.tidy(() => acc.assign(tf.scalar(next)))
    }
    this.incrementIterations()
  }
}

/** Like tf.train.adam (same defaults: beta1 0.9, beta2 0.999, the backend's epsilon). */
export function adam(learningRate = 0.001, beta1 = 0.9, beta2 = 0.999, epsilon?: number): FastAdamOptimizer {
  return new FastAdamOptimizer(learningRate, beta1, beta2, epsilon)
}
