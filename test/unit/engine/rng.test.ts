import { describe, expect, it } from 'vitest'
import { Rng } from '../../../src/engine/rng'

describe('Rng', () => {
  it('gives the same sequence for the same seed and a different one for another seed', () => {
    const a = new Rng(42)
    const b = new Rng(42)
    const c = new Rng(43)
    const seqA = Array.from({ length: 20 }, () => a.next())
    expect(Array.from({ length: 20 }, () => b.next())).toEqual(seqA)
    expect(Array.from({ length: 20 }, () => c.next())).not.toEqual(seqA)
  })

  it('next() stays in [0, 1) and is roughly uniform', () => {
    const rng = new Rng(1)
    const buckets = new Array(10).fill(0)
    for (let i = 0; i < 10000; i++) {
      const v = rng.next()
      expect(v).toBeGreaterThanOrEqual(0)
      expect(v).toBeLessThan(1)
      buckets[Math.floor(v * 10)]++
    }
    for (const n of buckets) expect(n).toBeGreaterThan(850)
  })

  it('int() covers [lo, hi] inclusive and rejects bad ranges', () => {
    const rng = new Rng(7)
    const seen = new Set<number>()
    for (let i = 0; i < 500; i++) seen.add(rng.int(-2, 2))
    expect([...seen].sort()).toEqual([-1, -2, 0, 1, 2].sort())
    expect(() => rng.int(3, 2)).toThrow(RangeError)
  })

  it('pick() and shuffle() use every element', () => {
    const rng = new Rng(9)
    const items = ['a', 'b', 'c']
    const picked = new Set(Array.from({ length: 100 }, () => rng.pick(items)))
    expect(picked.size).toBe(3)
    const shuffled = rng.shuffle([1, 2, 3, 4, 5, 6, 7, 8])
    expect([...shuffled].sort()).toEqual([1, 2, 3, 4, 5, 6, 7, 8])
    expect(shuffled).not.toEqual([1, 2, 3, 4, 5, 6, 7, 8])
    expect(() => rng.pick([])).toThrow(RangeError)
  })

  it('getState/setState round-trip through JSON and continue identically', () => {
    const rng = new Rng(5)
    for (let i = 0; i < 7; i++) rng.next()
    const state = JSON.parse(JSON.stringify(rng.getState()))
    const expected = Array.from({ length: 10 }, () => rng.next())
    const other = new Rng(999)
    other.setState(state)
    expect(Array.from({ length: 10 }, () => other.next())).toEqual(expected)
    expect(() => other.setState({ algorithm: 'sfc32', s: [1, 2] } as never)).toThrow(RangeError)
  })
})
