import * as tf from '@tensorflow/tfjs'
import type { TensorInfo } from '@tensorflow/tfjs'
import { transposedConvInput } from './conv-grad-kernels'
import type { ConvAttrs, KernelArgs, WasmBackend } from './wasm-ops'
import { scoped, view } from './wasm-ops'

/**
 * Gradients of DepthwiseConv2dNative (depthwise and separable convolutions) on wasm, for every stride, padding,
 * dilation and channel multiplier. wasm has neither kernel, and tfjs's cpu versions ignore dilations.
 */

function depthwiseInfo(xShape: number[], filterShape: number[], a: ConvAttrs): tf.backend_util.Conv2DInfo {
  return tf.backend_util.computeConv2DInfo(
    xShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    a.strides,
    a.dilations ?? 1,
    a.pad,
    a.dimRoundingMode,
    true,
  )
}

/**
 * DepthwiseConv2dNativeBackpropInput: one XNNPACK depthwise convolution of dy (zeros inserted for the stride,
 * padded) with the spatially flipped filter, dilated like the forward pass; with a channel multiplier m > 1 the
 * m outputs of each input channel are then summed.
 */
export function depthwiseBackpropInput({ inputs, backend, attrs }: KernelArgs): TensorInfo | null {
  const dy = inputs.dy as TensorInfo
  const filter = inputs.filter as TensorInfo
  const a = attrs as unknown as ConvAttrs & { inputShape: number[] }
  if (dy.dtype !== 'float32') return null
  const info = depthwiseInfo(a.inputShape, filter.shape, a)
  const [kh, kw, c, m] = filter.shape as [number, number, number, number]
  return scoped(backend as unknown as WasmBackend, (s) => {
    const prep = transposedConvInput(s, dy, info)
    if (prep === null) return null
    const flipped = s.run('Reverse', { x: filter }, { dims: [0, 1] })
    const conv = s.run(
      'DepthwiseConv2dNative',
      { x: prep.input, filter: view(flipped, [kh, kw, c * m, 1]) },
      {
        strides: 1,
        dilations: [info.dilationHeight, info.dilationWidth],
        pad: prep.pad,
        dataFormat: 'NHWC',
      },
    )
    if (m === 1) return conv
    const [b, h, w] = conv.shape as [number, number, number, number]
    return s.run('Sum', { x: view(conv, [b, h, w, c, m]) }, { axis: [4], keepDims: false })
  })
}

/**
 * DepthwiseConv2dNativeBackpropFilter: dW[kh,kw,c,q] = sum_{b,oh,ow} xPad[b, oh*s+kh*d, ow*s+kw*d, c] *
 * dy[b,oh,ow,c*m+q], a per-channel correlation with no matrix product inside, computed in one pass over wasm
 * memory (channels innermost, float64 accumulators). Why not XNNPACK: as a depthwise convolution it needs an
 * oh x ow kernel over b*c channels, which XNNPACK runs at ~0.4 GFLOP/s, slower than this loop.
 */
export function depthwiseBackpropFilter({ inputs, backend, attrs }: KernelArgs): TensorInfo | null {
  const x = inputs.x as TensorInfo
  const dy = inputs.dy as TensorInfo
  const a = attrs as unknown as ConvAttrs & { filterShape: number[] }
  if (x.dtype !== 'float32') return null
  const info = depthwiseInfo(x.shape, a.filterShape, a)
  const [kh, kw, c, m] = a.filterShape as [number, number, number, number]
  const [b, h, w] = x.shape as [number, number, number, number]
  const { outHeight: oh, outWidth: ow, strideHeight: sh, strideWidth: sw } = info
  const { dilationHeight: dh, dilationWidth: dw } = info
  const { top, left } = info.padInfo
  const cm = c * m
  const wasm = backend as unknown as WasmBackend
  const xv = wasm.typedArrayFromHeap(x) as Float32Array
  const dyv = wasm.typedArrayFromHeap(dy) as Float32Array
  const acc = new Float64Array(kh * kw * cm)
  for (let bi = 0; bi < b; bi++) {
    for (let r = 0; r < oh; r++) {
      for (let i = 0; i < kh; i++) {
        const xr = r * sh + i * dh - top
        if (xr < 0 || xr >= h) continue
        for (let col = 0; col < ow; col++) {
          const dyBase = ((bi * oh + r) * ow + col) * cm
          for (let j = 0; j < kw; j++) {
            const xc = col * sw + j * dw - left
            if (xc < 0 || xc >= w) continue
            const xBase = ((bi * h + xr) * w + xc) * c
            const aBase = (i * kw + j) * cm
            if (m === 1) {
              for (let ch = 0; ch < c; ch++) acc[aBase + ch]! += xv[xBase + ch]! * dyv[dyBase + ch]!
            } else {
              for (let ch = 0; ch < c; ch++) {
                const xval = xv[xBase + ch]!
                for (let q = 0; q < m; q++) acc[aBase + ch * m + q]! += xval * dyv[dyBase + ch * m + q]!
              }
            }
          }
        }
      }
    }
  }
  const out = wasm.makeOutput([kh, kw, c, m], 'float32')
  ;(wasm.typedArrayFromHeap(out) as Float32Array).set(acc)
  return out
}
