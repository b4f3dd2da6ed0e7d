import { describe, expect, it } from 'vitest'
import type { Architecture, Run } from '@shared/domain'
import {
  defaultComparison,
  differentDataWarning,
  runOptionsByDataset,
} from '@renderer/analysis/compare-datasets'
import { diffArchitectures } from '@renderer/graph/architecture-diff'
import { changeInWords, diffInWords } from '@renderer/graph/diff-words'
import { makeRun } from './fixtures'

const run = (id: string, datasetId: string, status: Run['status'] = 'completed'): Run => {
  const r = makeRun({ id, status })
  return { ...r, config: { ...r.config, name: `run ${id}`, datasetId } }
}
const names: Record<string, string> = { shapes: 'shapes', fashion: 'Fashion-MNIST sample' }
const name = (id: string): string => names[id] ?? id

describe('Compare: runs on different data', () => {
  const newestFirst = [
    run('5', 'shapes', 'running'),
    run('4', 'fashion'),
    run('3', 'shapes'),
    run('2', 'fashion'),
  ]

  it('preselects the two latest finished runs of one dataset', () => {
    expect(defaultComparison(newestFirst)).toEqual(['4', '2'])
    expect(defaultComparison([run('1', 'a', 'failed')])).toEqual([])
  })

  it('groups the picker by dataset', () => {
    const groups = runOptionsByDataset(newestFirst, name, (r) => r.config.name)
    expect(groups.map((g) => g.label)).toEqual(['On shapes', 'On Fashion-MNIST sample'])
    expect(groups[0]!.children.map((c) => c.value)).toEqual(['5', '3'])
  })

  it('says in words when the chosen runs learned from different data', () => {
    expect(differentDataWarning([run('4', 'fashion'), run('2', 'fashion')], name)).toBeNull()
    expect(differentDataWarning([run('4', 'fashion'), run('3', 'shapes'), run('2', 'fashion')], name)).toBe(
      'These runs learned from different data (“run 4” and “run 2” on Fashion-MNIST sample; “run 3” on shapes), so their accuracies cannot be compared directly.',
    )
  })
})

const arch = (layers: Architecture['nodes']): Architecture => ({
  version: 1,
  nodes: [{ id: 'in', op: 'input' }, ...layers],
  edges: layers.map((n, i) => [i === 0 ? 'in' : layers[i - 1]!.id, n.id] as [string, string]),
  output: layers.at(-1)!.id,
})

describe('the winners’ diff in plain words', () => {
  it('names what the right network has more of, with its choices, and which is deeper', () => {
    const out = { id: 'out', op: 'dense', units: 10, activation: 'softmax' } as const
    const a = arch([
      { id: 'c1', op: 'conv2d', filters: 32, kernelSize: 3, activation: 'relu' },
      { id: 'f', op: 'flatten' },
      out,
    ])
    const b = arch([
      { id: 'c1', op: 'conv2d', filters: 32, kernelSize: 3, activation: 'relu' },
      { id: 'c2', op: 'conv2d', filters: 64, kernelSize: 5, activation: 'relu' },
      { id: 'f', op: 'flatten' },
      out,
    ])
    expect(diffInWords(a, b, diffArchitectures(a, b))).toEqual([
      'The right network has one more convolution (64 filters, 5×5).',
      'The right network is deeper: 4 steps against 3.',
    ])
    expect(diffInWords(a, a, diffArchitectures(a, a))).toEqual([])
  })

  it('says which choices of a layer differ instead of counting it twice', () => {
    const out = { id: 'out', op: 'dense', units: 10, activation: 'softmax' } as const
    const a = arch([{ id: 'd', op: 'dense', units: 64, activation: 'relu' }, out])
    const b = arch([{ id: 'd', op: 'dense', units: 128, activation: 'relu' }, out])
    expect(diffInWords(a, b, diffArchitectures(a, b))).toEqual([
      'A dense layer differs: 64 units on the left, 128 units on the right.',
    ])
  })

  it('turns genotype paths into words', () => {
    expect(changeInWords('blocks.1.filters: 32 → 64')).toBe('block 2, filters: 32 → 64')
    expect(changeInWords('stemFilters: 16 → 24')).toBe('stem filters: 16 → 24')
  })
})
