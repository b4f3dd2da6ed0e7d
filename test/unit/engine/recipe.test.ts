import { describe, expect, it } from 'vitest'
import {
  concatParts,
  epochInputs,
  learningRateAt,
  scaledShape,
  smoothedTargets,
  subsetPart,
} from '../../../src/engine/evaluate/recipe'
import { Rng } from '../../../src/engine/rng'
import { describeProxy, withoutProxies } from '../../../src/engine/evaluate/proxy'

describe('learning-rate schedule', () => {
  it('is constant by default', () => {
    expect([0, 5, 99].map((s) => learningRateAt(undefined, 0.01, s, 100, 10))).toEqual([0.01, 0.01, 0.01])
    expect(learningRateAt('constant', 0.01, 50, 100, 10)).toBe(0.01)
  })
  it('warms up linearly, then follows half a cosine down to zero', () => {
    const lr = (s: number) => learningRateAt('cosine', 0.1, s, 110, 10)
    expect(lr(0)).toBeCloseTo(0.01, 12)
    expect(lr(4)).toBeCloseTo(0.05, 12)
    expect(lr(9)).toBeCloseTo(0.1, 12)
    expect(lr(10)).toBeCloseTo(0.1, 12)
    expect(lr(60)).toBeCloseTo(0.05, 12) // half-way through the decay
    expect(lr(110)).toBeCloseTo(0, 12)
    const decay = Array.from({ length: 100 }, (_, i) => lr(10 + i))
    decay.slice(1).forEach((v, i) => expect(v).toBeLessThan(decay[i]!))
    // no warm-up: starts at the base rate
    expect(learningRateAt('cosine', 0.1, 0, 100, 0)).toBeCloseTo(0.1, 12)
  })
})

/** A 3x4 one-channel image with pixel values 1..12 (row-major). */
const img = Float32Array.from({ length: 12 }, (_, i) => i + 1)
const part = { x: img, y: Int32Array.from([0]), count: 1 }
const rows = (a: Float32Array) => [0, 1, 2].map((r) => Array.from(a.slice(r * 4, r * 4 + 4)))

describe('augmentation (fused with the epoch permutation)', () => {
  it('without augmentation copies the samples in permutation order', () => {
    const two = { x: Float32Array.from([1, 2, 3, 4]), y: Int32Array.from([0, 1]), count: 2 }
    expect(Array.from(epochInputs(two, [1, 0], [2], undefined, new Rng(1)))).toEqual([3, 4, 1, 2])
  })
  it('shifts by at most `shift` pixels with zero padding, and mirrors left-right', () => {
    const rng = new Rng(7)
    const seen = new Set<string>()
    for (let i = 0; i < 200; i++) {
      const out = epochInputs(part, [0], [3, 4, 1], { shift: 1, flip: true }, rng)
      const r = rows(out)
      seen.add(JSON.stringify(r))
      // every output is the image (or its mirror) moved by dy, dx in [-1, 1], zeros where it moved away
      const ok = [-1, 0, 1].some((dy) =>
        [-1, 0, 1].some((dx) =>
          [false, true].some((m) =>
            r.every((row, y) =>
              row.every((v, x) => {
                const sy = y + dy
                let sx = x + dx
                if (sy < 0 || sy > 2 || sx < 0 || sx > 3) return v === 0
                if (m) sx = 3 - sx
                return v === sy * 4 + sx + 1
              }),
            ),
          ),
        ),
      )
      expect(ok).toBe(true)
    }
    // 9 shifts x 2 mirrors, all drawn
    expect(seen.size).toBe(18)
    expect(
      seen.has(
        JSON.stringify([
          [4, 3, 2, 1],
          [8, 7, 6, 5],
          [12, 11, 10, 9],
        ]),
      ),
    ).toBe(true)
  })
  it('leaves tables (1-D samples) alone', () => {
    const t = { x: Float32Array.from([1, 2, 3]), y: Int32Array.from([0]), count: 1 }
    expect(Array.from(epochInputs(t, [0], [3], { shift: 2, flip: true }, new Rng(1)))).toEqual([1, 2, 3])
  })
})

describe('targets and data proxies', () => {
  it('smooths one-hot targets', () => {
    const t = smoothedTargets(Int32Array.from([2, 0]), [1, 0], 4, 0.2)
    expect(Array.from(t).map((v) => +v.toFixed(6))).toEqual([0.85, 0.05, 0.05, 0.05, 0.05, 0.05, 0.85, 0.05])
    expect(Array.from(smoothedTargets(Int32Array.from([1]), [0], 3, 0))).toEqual([0, 1, 0])
  })
  it('takes the same stratified subset every time', () => {
    const n = 1000
    const y = Int32Array.from({ length: n }, (_, i) => i % 4)
    const x = Float32Array.from({ length: n * 2 }, (_, i) => Math.floor(i / 2))
    const full = { x, y, count: n }
    const a = subsetPart(full, 0.1, 2)
    const b = subsetPart(full, 0.1, 2)
    expect(a.count).toBe(100)
    expect(Array.from(a.x)).toEqual(Array.from(b.x))
    for (let c = 0; c < 4; c++) expect(Array.from(a.y).filter((v) => v === c)).toHaveLength(25)
    // samples keep their own label and pixels
    for (let k = 0; k < a.count; k++) expect(a.y[k]).toBe(a.x[2 * k]! % 4)
    expect(subsetPart(full, 1, 2)).toBe(full)
  })
  it('scales image shapes and refuses lower resolution on tables', () => {
    expect(scaledShape([28, 28, 1], 0.5)).toEqual([14, 14, 1])
    expect(scaledShape([32, 32, 3], 1)).toEqual([32, 32, 3])
    expect(() => scaledShape([10], 0.5)).toThrow(/needs image data/)
  })
  it('concatenates train and validation for final training', () => {
    const a = { x: Float32Array.from([1, 2]), y: Int32Array.from([0]), count: 1 }
    const b = { x: Float32Array.from([3, 4]), y: Int32Array.from([1]), count: 1 }
    const c = concatParts(a, b)
    expect([Array.from(c.x), Array.from(c.y), c.count]).toEqual([[1, 2, 3, 4], [0, 1], 2])
  })
  it('describes the proxy a trial was scored with, and strips proxies for the full recipe', () => {
    const base = { epochs: 3, batchSize: 64, learningRate: 0.01, validationFraction: 0.1 }
    expect(describeProxy(base, 3)).toBeUndefined()
    expect(describeProxy(base, 10)).toEqual({ epochs: 3 })
    const cut = { ...base, dataFraction: 0.2, resolution: 0.5, widthMultiplier: 0.5, maxCellsPerStage: 1 }
    expect(describeProxy(cut, 3)).toEqual({
      epochs: 3,
      dataFraction: 0.2,
      resolution: 0.5,
      widthMultiplier: 0.5,
      maxCellsPerStage: 1,
    })
    expect(withoutProxies({ ...cut, schedule: 'cosine' })).toEqual({ ...base, schedule: 'cosine' })
  })
})
