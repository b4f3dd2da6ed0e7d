import { Rng } from '../../src/engine/rng'

/**
 * `n` deterministic pseudo-random values in [-1 + offset, 1 + offset), from the engine's seeded Rng (the one
 * generator every test uses), so two backends or two runs see the same data.
 */
export function randomValues(n: number, seed: number, offset = 0): Float32Array {
  const rng = new Rng(seed)
  const out = new Float32Array(n)
  for (let i = 0; i < n; i++) out[i] = rng.next() * 2 - 1 + offset
  return out
}
