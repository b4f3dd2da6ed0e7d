import { describe, expect, it } from 'vitest'
import { Rng } from '../../../src/engine/rng'
import { paretoFront } from '../../../src/shared/pareto'

const byXY = <T extends { x: number; y: number }>(pts: T[]): T[] =>
  paretoFront(
    pts,
    (p) => p.x,
    (p) => p.y,
  )

/** The definition, point by point: kept exactly when no other point is as good on both and better on one. */
function bruteForce<T extends { x: number; y: number }>(pts: T[]): T[] {
  return pts.filter((p) => !pts.some((q) => q !== p && q.x <= p.x && q.y >= p.y && (q.x < p.x || q.y > p.y)))
}

describe('paretoFront', () => {
  it('keeps the points no other point beats on both size and accuracy, sorted by size', () => {
    const pts = [
      { x: 10, y: 0.5 },
      { x: 20, y: 0.4 },
      { x: 30, y: 0.7 },
      { x: 5, y: 0.2 },
      { x: 30, y: 0.6 },
    ]
    expect(byXY(pts)).toEqual([
      { x: 5, y: 0.2 },
      { x: 10, y: 0.5 },
      { x: 30, y: 0.7 },
    ])
  })

  it('keeps both of two equal points and drops one that only ties on score at a higher cost', () => {
    const a = { x: 10, y: 0.5, id: 'a' }
    const b = { x: 10, y: 0.5, id: 'b' }
    const c = { x: 12, y: 0.5, id: 'c' }
    expect(byXY([c, a, b]).map((p) => p.id)).toEqual(['a', 'b'])
  })

  it('uses the cost and score it is given (FLOPs instead of parameters)', () => {
    const pts = [
      { trialId: 't1', valAccuracy: 0.9, params: 100, flops: 5000 },
      { trialId: 't2', valAccuracy: 0.8, params: 50, flops: 9000 },
    ]
    const front = (key: 'params' | 'flops'): string[] =>
      paretoFront(
        pts,
        (p) => p[key],
        (p) => p.valAccuracy,
      ).map((p) => p.trialId)
    expect(front('params')).toEqual(['t2', 't1'])
    expect(front('flops')).toEqual(['t1'])
  })

  it('agrees with the definition on random point sets, ties included', () => {
    const rng = new Rng(7)
    const next = (): number => rng.int(0, 5)
    for (let round = 0; round < 200; round++) {
      const pts = Array.from({ length: 1 + (round % 12) }, (_, i) => ({ x: next(), y: next(), i }))
      const expected = bruteForce(pts).sort((p, q) => p.x - q.x || q.y - p.y || p.i - q.i)
      const got = byXY(pts).sort((p, q) => p.x - q.x || q.y - p.y || p.i - q.i)
      expect(got).toEqual(expected)
    }
  })

  it('is empty for no points', () => {
    expect(byXY([])).toEqual([])
  })
})
