import { describe, expect, it } from 'vitest'
import {
  curveAt,
  fitCurves,
  predictFinalAccuracy,
  shouldStopEarly,
} from '../../../src/engine/evaluate/learning-curve'

const pow = (a: number, b: number, c: number) => (t: number) => a - b * Math.pow(t, -c)
const expo = (a: number, b: number, k: number) => (t: number) => a - b * Math.exp(-k * t)

describe('learning-curve extrapolation', () => {
  it('recovers a power-law curve from its first epochs and predicts its final value', () => {
    const f = pow(0.9, 0.3, 1)
    const seen = [1, 2, 3, 4].map(f)
    const fits = fitCurves(seen)
    const best = fits.reduce((x, y) => (y.sse < x.sse ? y : x))
    expect(best.family).toBe('pow')
    expect(best.rate).toBe(1)
    expect(best.a).toBeCloseTo(0.9, 6)
    expect(best.b).toBeCloseTo(0.3, 6)
    expect(curveAt(best, 20)).toBeCloseTo(f(20), 6)
    // exact data: only exact fits are kept, so the prediction is the true final value
    expect(predictFinalAccuracy(seen, 20, 1e-9).accuracy).toBeCloseTo(f(20), 6)
  })

  it('recovers an exponential saturating curve', () => {
    const f = expo(0.85, 0.5, 0.5)
    const seen = [1, 2, 3, 4, 5].map(f)
    const { accuracy, fit } = predictFinalAccuracy(seen, 15, 1e-9)
    expect(fit?.family).toBe('exp')
    expect(accuracy).toBeCloseTo(f(15), 6)
  })

  it('is optimistic when few epochs fit many curves, and never predicts below what was seen or above 1', () => {
    const two = [0.8, 0.85]
    const { accuracy } = predictFinalAccuracy(two, 10)
    // every rising curve fits two points exactly: the most hopeful one is taken
    const hopeful = Math.max(...fitCurves(two).map((f) => curveAt(f, 10)))
    expect(accuracy).toBeCloseTo(Math.min(1, hopeful), 9)
    expect(accuracy).toBeGreaterThan(0.85)
    expect(predictFinalAccuracy([0.99, 0.995, 0.999], 50).accuracy).toBeLessThanOrEqual(1)
    // a falling curve: no rising fit, the prediction is the best seen
    expect(predictFinalAccuracy([0.7, 0.6, 0.5], 10).accuracy).toBe(0.7)
    expect(predictFinalAccuracy([0.4], 10).accuracy).toBe(0.4)
  })

  it('stops a trial whose predicted final accuracy cannot reach the top-k, and explains why', () => {
    const finished = [0.9, 0.88, 0.86, 0.7]
    const slow = [0.3, 0.33, 0.35]
    const d = shouldStopEarly(slow, 10, finished, { minEpochs: 2, topK: 3 })
    expect(d.stop).toBe(true)
    expect(d.predicted).toBeLessThan(0.86)
    expect(d.reason).toMatch(
      /After epoch 3 of 10 its learning curve predicts \d+\.\d% at the end, below the top-3 bar of 86\.0%/,
    )
  })

  it('keeps trials that could still make the top-k, and before min epochs, on the last epoch or without k results', () => {
    const finished = [0.9, 0.88, 0.86]
    const promising = [0.7, 0.8, 0.84]
    expect(shouldStopEarly(promising, 10, finished, { minEpochs: 2, topK: 3 }).stop).toBe(false)
    const slow = [0.3, 0.33, 0.35]
    expect(shouldStopEarly(slow.slice(0, 2), 10, finished, { minEpochs: 3, topK: 3 }).stop).toBe(false)
    expect(shouldStopEarly(slow, 3, finished, { minEpochs: 2, topK: 3 }).stop).toBe(false)
    expect(shouldStopEarly(slow, 10, finished.slice(0, 2), { minEpochs: 2, topK: 3 }).stop).toBe(false)
    // a margin gives borderline trials the benefit of the doubt
    const near = [0.6, 0.64, 0.66]
    const plain = shouldStopEarly(near, 6, [0.8], { minEpochs: 2, topK: 1 })
    expect(plain.stop).toBe(true)
    expect(
      shouldStopEarly(near, 6, [0.8], { minEpochs: 2, topK: 1, margin: 0.8 - plain.predicted + 0.001 }).stop,
    ).toBe(false)
  })
})
