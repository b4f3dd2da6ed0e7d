import type { BackboneInfo } from '../../shared'
import { tf } from '../compute/backend'
import { checkBackboneInput } from '../space/backbones'
import type { DataPart, LoadedData } from './loaded-data'

/**
 * Images as a pretrained backbone takes them: the data (pixels / 255, [h, w, c]) resized to the backbone's
 * height × width (bilinear, half-pixel centres, as Pillow and OpenCV resize), grey repeated into R, G and B or
 * colour turned grey (ITU-R BT.601 luma: 0.299 R + 0.587 G + 0.114 B), then scaled by the backbone's
 * normalisation. The same steps, in words and numbers, go into an export's preprocessing.json.
 */

/** Luma weights of R, G, B (ITU-R BT.601), for a colour image fed to a greyscale backbone. */
export const LUMA = [0.299, 0.587, 0.114] as const

/** Per-channel a, b of the backbone's normalisation as input = pixel(0-255) * a + b. */
export function backboneScaling(info: BackboneInfo): { scale: number[]; offset: number[] } {
  const { scale, offset, mean, std } = info.normalisation
  const channels = info.inputShape[2]
  const scaleOut: number[] = []
  const offsetOut: number[] = []
  for (let c = 0; c < channels; c++) {
    const m = mean?.[c] ?? mean?.[0] ?? 0
    const s = std?.[c] ?? std?.[0] ?? 1
    scaleOut.push(scale / s)
    offsetOut.push((offset - m) / s)
  }
  return { scale: scaleOut, offset: offsetOut }
}

const CHUNK = 256

/** `count` images of `shape` (row-major, pixels / 255) as the backbone's input. */
export function imagesToBackboneInput(
  x: Float32Array,
  count: number,
  shape: readonly number[],
  info: BackboneInfo,
): Float32Array {
  checkBackboneInput(shape, info)
  const [h, w, c] = shape as [number, number, number]
  const [H, W, C] = info.inputShape
  const { scale, offset } = backboneScaling(info)
  const out = new Float32Array(count * H * W * C)
  const resize = h !== H || w !== W
  for (let start = 0; start < count; start += CHUNK) {
    const n = Math.min(CHUNK, count - start)
    let chunk: Float32Array
    if (resize || c !== C) {
      chunk = tf.tidy(() => {
        let t: tf.Tensor4D = tf.tensor4d(x.subarray(start * h * w * c, (start + n) * h * w * c), [n, h, w, c])
        if (c === 3 && C === 1) t = tf.sum(tf.mul(t, tf.tensor1d([...LUMA])), -1, true)
        if (resize) t = tf.image.resizeBilinear(t, [H, W], false, true)
        if (c === 1 && C === 3) t = tf.tile(t, [1, 1, 1, 3])
        return t.dataSync() as Float32Array
      })
    } else chunk = x.subarray(start * h * w * c, (start + n) * h * w * c)
    const base = start * H * W * C
    for (let i = 0; i < chunk.length; i++) {
      const ch = i % C
      out[base + i] = chunk[i]! * 255 * scale[ch]! + offset[ch]!
    }
  }
  return out
}

/** `data` as the backbone's input (see the module comment); test and validation splits alike. */
export function toBackboneInput(data: LoadedData, info: BackboneInfo): LoadedData {
  const map = (part: DataPart): DataPart => ({
    x: imagesToBackboneInput(part.x, part.count, data.inputShape, info),
    y: part.y,
    count: part.count,
  })
  return {
    ...data,
    inputShape: [...info.inputShape],
    train: map(data.train),
    validation: map(data.validation),
    test: map(data.test),
  }
}
