import * as tf from '@tensorflow/tfjs'
import type { KernelFunc, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs'

/**
 * Training kernels for the wasm backend built from wasm's own fast kernels (XNNPACK), used instead of the slow
 * cpu bridge where they apply. Part of engine/compute (the only place that touches TensorFlow.js internals).
 */

interface WasmBackendLike {
  disposeData(dataId: object, force?: boolean): boolean
}

function run(
  name: string,
  backend: WasmBackendLike,
  inputs: Record<string, TensorInfo>,
  attrs: NamedAttrMap,
): TensorInfo {
  const kernel = tf.getKernel(name, 'wasm')
  return kernel.kernelFunc({ inputs, backend: backend as never, attrs }) as TensorInfo
}

/**
 * Conv2DBackpropFilter for stride 1 and NHWC as one wasm convolution: dW[kh,kw,ci,co] =
 * sum_{b,h,w} xPad[b, h+kh, w+kw, ci] * dy[b, h, w, co], i.e. conv2d(transpose(x) [ci,H,W,b] padded like the
 * forward pass, filter transpose(dy) [oh,ow,b,co], 'valid') -> [ci,kh,kw,co], transposed to [kh,kw,ci,co].
 * Returns null when it does not apply (strides other than 1, NCHW), so the caller falls back.
 */
export function conv2dBackpropFilterFast(args: Parameters<KernelFunc>[0]): TensorInfo | null {
  const { inputs, backend, attrs } = args
  const x = inputs.x as TensorInfo
  const dy = inputs.dy as TensorInfo
  const a = attrs as unknown as {
    strides: number | [number, number]
    pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding
    dataFormat: 'NHWC' | 'NCHW'
    dimRoundingMode?: 'floor' | 'round' | 'ceil'
    filterShape: [number, number, number, number]
  }
  const strides = typeof a.strides === 'number' ? [a.strides, a.strides] : a.strides
  if (a.dataFormat !== 'NHWC' || strides[0] !== 1 || strides[1] !== 1 || x.dtype !== 'float32') return null
  const info = tf.backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    a.filterShape,
    1,
    1,
    a.pad,
    a.dimRoundingMode,
    false,
    'channelsLast',
  )
  const { top, bottom, left, right } = info.padInfo
  const wasm = backend as unknown as WasmBackendLike
  const xT = run('Transpose', wasm, { x }, { perm: [3, 1, 2, 0] })
  const dyT = run('Transpose', wasm, { x: dy }, { perm: [1, 2, 0, 3] })
  try {
    const conv = run('Conv2D', wasm, { x: xT, filter: dyT }, {
      strides: 1,
      dilations: 1,
      pad: [
        [0, 0],
        [top, bottom],
        [left, right],
        [0, 0],
      ],
      dataFormat: 'NHWC',
    } as unknown as NamedAttrMap)
    try {
      return run('Transpose', wasm, { x: conv }, { perm: [1, 2, 0, 3] })
    } finally {
      wasm.disposeData(conv.dataId)
    }
  } finally {
    wasm.disposeData(xT.dataId)
    wasm.disposeData(dyT.dataId)
  }
}
