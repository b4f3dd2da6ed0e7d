import type { Architecture } from '../../shared'
import { archHash } from '../space'

/** A candidate the model-based strategies score before choosing: the network, its hash and its encoding. */
export interface Candidate {
  architecture: Architecture
  hash: string
  enc: number[]
}

/** The best evaluated candidates kept (with their networks) so new candidates can be mutated from them. */
export interface Elite {
  architecture: Architecture
  hash: string
  score: number
}

/** Inserts `e` into `elite` (sorted best first, at most `size` long) and returns the new list. */
export function addElite(elite: Elite[], e: Elite, size: number): Elite[] {
  return [...elite, e].sort((a, b) => b.score - a.score).slice(0, size)
}

/**
 * Builds a pool of distinct, never-proposed candidates: `perElite` mutations of each elite member (one choice
 * changed, sometimes two), then `random` uniform draws. Deterministic given the strategy's RNG.
 */
export function candidatePool(
  elite: readonly Elite[],
  opts: {
    perElite: number
    random: number
    seen: ReadonlySet<string>
    mutate: (a: Architecture) => Architecture
    sample: () => Architecture
    encode: (a: Architecture) => number[]
    coin: () => number
  },
): Candidate[] {
  const pool = new Map<string, Candidate>()
  const add = (a: Architecture): void => {
    const hash = archHash(a)
    if (!opts.seen.has(hash) && !pool.has(hash))
      pool.set(hash, { architecture: a, hash, enc: opts.encode(a) })
  }
  for (const e of elite) {
    for (let i = 0; i < opts.perElite; i++) {
      const child = opts.mutate(e.architecture)
      add(opts.coin() < 0.25 ? opts.mutate(child) : child)
    }
  }
  for (let i = 0; i < opts.random; i++) add(opts.sample())
  return [...pool.values()]
}
