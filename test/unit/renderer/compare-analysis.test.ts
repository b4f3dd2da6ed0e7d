import { describe, expect, it } from 'vitest'
import type { Architecture } from '@shared/domain'
import { runningBest } from '@renderer/analysis/running-best'
import { diffArchitectures } from '@renderer/graph/architecture-diff'
import { archFeatures } from '@renderer/analysis/arch-features'

const arch = (units: number[]): Architecture => ({
  version: 1,
  nodes: [
    { id: 'in', op: 'input' },
    { id: 'f', op: 'flatten' },
    ...units.map((u, i) => ({ id: `d${i}`, op: 'dense' as const, units: u, activation: 'relu' as const })),
    { id: 'out', op: 'dense', units: 10, activation: 'softmax' },
  ],
  edges: [],
  output: 'out',
})

describe('best-so-far', () => {
  it('runs the best value forward', () => {
    expect(runningBest([null, 0.3, 0.2, null, 0.5])).toEqual([null, 0.3, 0.3, 0.3, 0.5])
  })
})

describe('architecture diff', () => {
  it('rings only the ops that differ', () => {
    const d = diffArchitectures(arch([64, 32]), arch([64, 128, 32]))
    expect(d.onlyA).toEqual([])
    expect(d.onlyB).toEqual(['d1'])
    expect(d.same).toBe(false)
    expect(diffArchitectures(arch([8]), arch([8])).same).toBe(true)
  })

  it('lists changed genotype choices', () => {
    const a = {
      ...arch([8]),
      genotype: { family: 'nb201' as const, cell: 'x', channels: 16, cellsPerStage: 1 },
    }
    const b = {
      ...arch([8]),
      genotype: { family: 'nb201' as const, cell: 'x', channels: 32, cellsPerStage: 1 },
    }
    expect(diffArchitectures(a, b).changes).toEqual(['channels: 16 → 32'])
  })

  it('describes choices as numbers for parallel coordinates', () => {
    expect(archFeatures(arch([64, 32]))).toMatchObject({ layers: 2, 'mean units': 48, convolutions: 0 })
  })
})
