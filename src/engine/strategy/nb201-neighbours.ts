import type { Architecture, Nb201Op, Nb201Space } from '../../shared'
import { NasError } from '../../shared'
import type { Rng } from '../rng'
import { nb201FromString } from '../space'

/** The choices that make a NAS-Bench-201 network: the 6 edge ops, C and N. */
export interface Nb201Genes {
  cell: Nb201Op[]
  channels: number
  cellsPerStage: number
}

/** The genes of an architecture built from a NAS-Bench-201 space. */
export function nb201GenesOf(arch: Architecture): Nb201Genes {
  const g = arch.genotype
  if (g?.family !== 'nb201')
    throw new NasError('invalid_space', 'This architecture was not built from a NAS-Bench-201 space')
  return { cell: nb201FromString(g.cell), channels: g.channels, cellsPerStage: g.cellsPerStage }
}

/** Uniform draw of every choice, as sampleArchitecture does, without building the network. */
export function randomNb201Genes(space: Nb201Space, rng: Rng): Nb201Genes {
  return {
    cell: Array.from({ length: 6 }, () => rng.pick(space.ops)),
    channels: rng.pick(space.channels),
    cellsPerStage: rng.pick(space.cellsPerStage),
  }
}

/**
 * Every network that differs from `genes` in 1 to `radius` of its 8 choices (6 edge ops, C, N), each exactly
 * once, in a fixed order: with the benchmark's 5 ops and one C and N, 24 at radius 1 and 264 at radius 2.
 */
export function nb201Neighbours(space: Nb201Space, genes: Nb201Genes, radius: number): Nb201Genes[] {
  const start: Array<string | number> = [...genes.cell, genes.channels, genes.cellsPerStage]
  const options: ReadonlyArray<ReadonlyArray<string | number>> = [
    ...genes.cell.map(() => space.ops),
    space.channels,
    space.cellsPerStage,
  ]
  const out: Nb201Genes[] = []
  const walk = (from: number, current: Array<string | number>, left: number): void => {
    for (let k = from; k < start.length; k++) {
      for (const value of options[k]!) {
        if (value === start[k]) continue
        const next = [...current]
        next[k] = value
        out.push({
          cell: next.slice(0, 6) as Nb201Op[],
          channels: next[6] as number,
          cellsPerStage: next[7] as number,
        })
        if (left > 1) walk(k + 1, next, left - 1)
      }
    }
  }
  walk(0, start, radius)
  return out
}
