import * as tf from '@tensorflow/tfjs'
import type { Tensor, Variable } from '@tensorflow/tfjs'
import type { WasmBackend } from './wasm-ops'

/**
 * Adam with tfjs's exact update rule and state (same moments, same serialisation), applied on wasm in one pass
 * over each variable's wasm memory instead of tfjs's ~12 small kernels per variable per step. Other backends
 * use tfjs's own update.
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
    if (tf.getBackend() !== 'wasm') {
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
      const outM = wasm.makeOutput(value.shape, 'float32')
      const outV = wasm.makeOutput(value.shape, 'float32')
      const outW = wasm.makeOutput(value.shape, 'float32')
      // views after every makeOutput: allocating may grow (and so move) wasm memory
      const g = wasm.typedArrayFromHeap(gradient) as Float32Array
      const m0 = wasm.typedArrayFromHeap(m.variable) as Float32Array
      const v0 = wasm.typedArrayFromHeap(v.variable) as Float32Array
      const w0 = wasm.typedArrayFromHeap(value) as Float32Array
      const m1 = wasm.typedArrayFromHeap(outM) as Float32Array
      const v1 = wasm.typedArrayFromHeap(outV) as Float32Array
      const w1 = wasm.typedArrayFromHeap(outW) as Float32Array
      const a1 = 1 - beta1
      const a2 = 1 - beta2
      for (let j = 0; j < g.length; j++) {
        const gj = g[j]!
        const mj = m0[j]! * beta1 + gj * a1
        const vj = v0[j]! * beta2 + gj * gj * a2
        m1[j] = mj
        v1[j] = vj
        w1[j] = w0[j]! - ((mj / c1) * learningRate) / (Math.sqrt(vj / c2) + epsilon)
      }
      for (const [variable, info] of [
        [m.variable, outM],
        [v.variable, outV],
        [value, outW],
      ] as const) {
        const t = tf.engine().makeTensorFromTensorInfo(info)
        variable.assign(t)
        t.dispose()
      }
    })
    tf.tidy(() => {
      st.accBeta1.assign(tf.mul(st.accBeta1, beta1))
      st.accBeta2.assign(tf.mul(st.accBeta2, beta2))
    })
    this.incrementIterations()
  }
}

/** Like tf.train.adam (same defaults: beta1 0.9, beta2 0.999, the backend's epsilon). */
export function adam(learningRate = 0.001, beta1 = 0.9, beta2 = 0.999, epsilon?: number): FastAdamOptimizer {
  return new FastAdamOptimizer(learningRate, beta1, beta2, epsilon)
}
