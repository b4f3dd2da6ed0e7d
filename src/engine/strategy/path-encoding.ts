import type { Architecture, Nb201Op, Nb201Space } from '../../shared'
import { NB201_EDGES, nb201FromString } from '../space'

/** The input-to-output paths of a NAS-Bench-201 cell, as edge indices (benchmark edge order). */
const PATHS: ReadonlyArray<readonly number[]> = (() => {
  const edge = (to: number, from: number): number => NB201_EDGES.findIndex(([t, f]) => t === to && f === from)
  return [
    [edge(3, 0)],
    [edge(1, 0), edge(3, 1)],
    [edge(2, 0), edge(3, 2)],
    [edge(1, 0), edge(2, 1), edge(3, 2)],
  ]
})()

/** Length of nb201PathEncoding's vectors: one slot per op sequence of length 1, 2 and 3 (without 'none'). */
export function nb201PathEncodingLength(space: Nb201Space): number {
  const k = space.ops.filter((o) => o !== 'none').length
  return k + k ** 2 + k ** 3
}

/**
 * BANANAS's path encoding (White, Neiswanger & Savani, AAAI 2021) of a NAS-Bench-201 cell: how many
 * input-to-output paths carry each sequence of ops. A path through a 'none' edge carries nothing and is left
 * out, so cells computing the same function get the same vector, and what a cell computes (the chains of ops
 * from input to output) is what the predictor sees, rather than which slot holds which op. Null when `arch`
 * was not built from a NAS-Bench-201 space.
 */
export function nb201PathEncoding(space: Nb201Space, arch: Architecture): number[] | null {
  const g = arch.genotype
  return g?.family === 'nb201' ? nb201CellPaths(space, nb201FromString(g.cell)) : null
}

/** nb201PathEncoding of a cell given as its 6 edge ops (benchmark edge order). */
export function nb201CellPaths(space: Nb201Space, cell: readonly Nb201Op[]): number[] {
  const ops = space.ops.filter((o) => o !== 'none')
  const k = ops.length
  const out = new Array<number>(nb201PathEncodingLength(space)).fill(0)
  for (const path of PATHS) {
    let slot = 0
    let ok = true
    for (const e of path) {
      const op = ops.indexOf(cell[e] as (typeof ops)[number])
      if (op < 0) {
        ok = false
        break
      }
      slot = slot * k + op
    }
    // sequences of length L start after the k + ... + k^(L-1) shorter ones
    const offset = [0, k, k + k ** 2][path.length - 1]!
    if (ok) out[offset + slot] = out[offset + slot]! + 1
  }
  return out
}
