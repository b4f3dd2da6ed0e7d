import { describe, expect, it } from 'vitest'
import type { SearchSpaceDef, SequentialSpace } from '@shared/domain'
import {
  chainOrder,
  distribute,
  dropStructure,
  edgeId,
  emptyGraph,
  graphToSpaceDef,
  newNode,
  placeErrors,
  reorderAfterMove,
  spaceDefToGraph,
  type DesignGraph,
} from '@renderer/designer/designer-model'
import { UndoHistory } from '@renderer/designer/history'

/** The designer's canvas model: canvas <-> space definition for every family, problems on blocks, undo/redo. */
const files = import.meta.glob<{ def: SearchSpaceDef }>('../../../resources/presets/*.json', {
  eager: true,
  import: 'default',
})
const presets = Object.entries(files).map(([path, preset]) => ({
  file: path.split('/').pop()!,
  def: preset.def,
}))

function connectChain(g: DesignGraph, ids: string[]): void {
  for (let i = 0; i + 1 < ids.length; i++)
    g.edges.push({ id: edgeId(ids[i]!, ids[i + 1]!), source: ids[i]!, target: ids[i + 1]!, optional: false })
}

describe('designer model', () => {
  it.each(presets)('draws preset $file and maps it back to an equivalent definition', ({ def }) => {
    const graph = spaceDefToGraph(def)
    expect(graph.family).toBe(def.family)
    expect(graph.nodes[0]!.kind).toBe('input')
    expect(graph.nodes.at(-1)!.kind).toBe('output')
    const mapped = graphToSpaceDef(graph)
    expect(mapped.problems).toEqual([])
    const back = mapped.def!
    // the round trip is stable: drawing the mapped definition again gives the same definition
    expect(graphToSpaceDef(spaceDefToGraph(back)).def).toEqual(back)
    if (def.family === 'sequential' && back.family === 'sequential') {
      expect([back.minLayers, back.maxLayers]).toEqual([def.minLayers, def.maxLayers])
      expect(back.ops.map((o) => o.op)).toEqual(def.ops.map((o) => o.op))
    }
    if (def.family === 'mlp') expect(back).toEqual(def)
    if (def.family === 'nb201') expect(back).toEqual(def)
    if (def.family === 'chain' && back.family === 'chain') {
      expect([back.minBlocks, back.maxBlocks, back.filters]).toEqual([
        def.minBlocks,
        def.maxBlocks,
        def.filters,
      ])
      expect([back.stemFilters, back.branches, back.merge]).toEqual([
        def.stemFilters,
        def.branches,
        def.merge,
      ])
    }
    if (def.family === 'cell' && back.family === 'cell') expect(back.concat).toBe(def.concat)
  })

  it('maps a drawn chain of blocks with repeat ranges to a sequential space', () => {
    const g = emptyGraph('sequential')
    const conv = newNode(g, 'conv', 200, 100)
    g.nodes.push(conv)
    const pool = newNode(g, 'pool', 300, 100)
    g.nodes.push(pool)
    const dense = newNode(g, 'dense', 400, 100)
    dense.repeat = { min: 1, max: 2 }
    g.nodes.push(dense)
    connectChain(g, ['input', conv.id, pool.id, dense.id, 'output'])
    const { def, problems } = graphToSpaceDef(g)
    expect(problems).toEqual([])
    expect(def).toEqual({
      family: 'sequential',
      version: 1,
      minLayers: 3,
      maxLayers: 4,
      ops: [
        { op: 'conv2d', filters: [16, 32, 64], kernelSize: [3, 5], activation: ['relu'] },
        { op: 'maxPool2d', poolSize: [2] },
        { op: 'dense', units: [64, 128], activation: ['relu'] },
      ],
      // a new canvas keeps the drawn order: one slot per block, in chain order
      slots: [
        {
          ops: [{ op: 'conv2d', filters: [16, 32, 64], kernelSize: [3, 5], activation: ['relu'] }],
          min: 1,
          max: 1,
        },
        { ops: [{ op: 'maxPool2d', poolSize: [2] }], min: 1, max: 1 },
        { ops: [{ op: 'dense', units: [64, 128], activation: ['relu'] }], min: 1, max: 2 },
      ],
    })
    // an edge jumping over the pooling block lets the search leave it out
    g.edges.push({ id: edgeId(conv.id, dense.id), source: conv.id, target: dense.id, optional: true })
    const skipped = graphToSpaceDef(g).def as SequentialSpace
    expect(skipped.minLayers).toBe(2)
    expect(skipped.slots!.map((s) => s.min)).toEqual([1, 0, 1])
    // unordered (as presets without slots are drawn): no slots, each layer any of the blocks
    g.ordered = false
    const free = graphToSpaceDef(g).def as SequentialSpace
    expect(free.slots).toBeUndefined()
    expect(free.minLayers).toBe(2)
  })

  it('keeps the order of an ordered sequential canvas through save and redraw', () => {
    const g = emptyGraph('sequential')
    const ids = (['dense', 'conv', 'pool', 'conv'] as const).map((k, i) => {
      const n = newNode(g, k, 200, 150 + 100 * i)
      g.nodes.push(n)
      return n.id
    })
    g.nodes.find((n) => n.id === ids[3])!.choices.filters = [8]
    // wired in a different order than drawn: conv, pool, conv(8), dense
    connectChain(g, ['input', ids[1]!, ids[2]!, ids[3]!, ids[0]!, 'output'])
    expect(chainOrder(g)).toEqual([ids[1], ids[2], ids[3], ids[0]])
    const def = graphToSpaceDef(g).def as SequentialSpace
    expect(def.slots!.map((s) => s.ops.map((o) => o.op).join())).toEqual([
      'conv2d',
      'maxPool2d',
      'conv2d',
      'dense',
    ])
    expect(def.slots![2]!.ops[0]).toMatchObject({ filters: [8] })
    // two conv blocks: one op in `ops` with the union of their filters
    expect(def.ops.find((o) => o.op === 'conv2d')).toMatchObject({ filters: [8, 16, 32, 64] })
    // drawn again (as when a saved space is opened): same blocks in the same order, same definition
    const again = spaceDefToGraph(def)
    expect(again.ordered).toBe(true)
    expect(chainOrder(again)!.map((id) => again.nodes.find((n) => n.id === id)!.kind)).toEqual([
      'conv',
      'pool',
      'conv',
      'dense',
    ])
    expect(graphToSpaceDef(again).def).toEqual(def)
  })

  it('reorders the chain when a block is dragged above another, and rewires its edges', () => {
    const g = emptyGraph('sequential')
    const ids = (['conv', 'pool', 'dense'] as const).map((k, i) => {
      const n = newNode(g, k, 200, 150 + 100 * i)
      g.nodes.push(n)
      return n.id
    })
    const [conv, pool, dense] = ids as [string, string, string]
    connectChain(g, ['input', conv, pool, dense, 'output'])
    // a skip over the pool (conv -> dense) stays valid after the move; nothing moved yet: no change
    g.edges.push({ id: edgeId(conv, dense), source: conv, target: dense, optional: true })
    expect(reorderAfterMove(g, pool)).toBe(false)
    // drag the pool block above the convolution
    g.nodes.find((n) => n.id === pool)!.y = 120
    expect(reorderAfterMove(g, pool)).toBe(true)
    expect(chainOrder(g)).toEqual([pool, conv, dense])
    const links = g.edges.map((e) => `${e.source}>${e.target}`)
    expect(links).toContain(`input>${pool}`)
    expect(links).toContain(`${pool}>${conv}`)
    expect(links).toContain(`${conv}>${dense}`)
    expect(links).not.toContain(`input>${conv}`)
    expect(links).not.toContain(`${conv}>${pool}`)
    // lined up in a column, in the new order
    const ys = ['input', pool, conv, dense, 'output'].map((id) => g.nodes.find((n) => n.id === id)!.y)
    expect([...ys].sort((a, b) => a - b)).toEqual(ys)
    expect(new Set(g.nodes.map((n) => n.x)).size).toBe(1)
    const def = graphToSpaceDef(g).def as SequentialSpace
    expect(def.slots!.map((s) => s.ops[0]!.op)).toEqual(['maxPool2d', 'conv2d', 'dense'])
    // an unordered canvas is never rewired
    const free = spaceDefToGraph({ ...def, slots: undefined })
    expect(free.ordered).toBeUndefined()
    free.nodes.at(-2)!.y = 0
    expect(reorderAfterMove(free, free.nodes.at(-2)!.id)).toBe(false)
  })

  it('reports blocks side by side on an ordered sequential canvas', () => {
    const g = emptyGraph('sequential')
    const a = newNode(g, 'conv', 150, 150)
    g.nodes.push(a)
    const b = newNode(g, 'dense', 300, 150)
    g.nodes.push(b)
    connectChain(g, ['input', a.id, 'output'])
    connectChain(g, ['input', b.id, 'output'])
    const { def, problems } = graphToSpaceDef(g)
    expect(def).toBeNull()
    expect(problems.map((p) => p.message).join(' ')).toMatch(/Side by side/)
  })

  it('merges two blocks of the same kind into one op with the union of choices', () => {
    const g = emptyGraph('sequential')
    const a = newNode(g, 'dense', 200, 100)
    a.choices.units = [32]
    g.nodes.push(a)
    const b = newNode(g, 'dense', 300, 100)
    b.choices.units = [128, 64]
    g.nodes.push(b)
    connectChain(g, ['input', a.id, b.id, 'output'])
    const mapped = graphToSpaceDef(g)
    expect(mapped.def).toMatchObject({ ops: [{ op: 'dense', units: [32, 64, 128] }] })
    expect(mapped.opSources).toEqual([[a.id, b.id]])
  })

  it('puts problems on the offending block: unconnected, wrong family, empty choices', () => {
    const g = emptyGraph('mlp')
    const dense = newNode(g, 'dense', 200, 100)
    g.nodes.push(dense)
    const conv = newNode(g, 'conv', 300, 100)
    g.nodes.push(conv)
    const loose = newNode(g, 'dropout', 300, 300)
    loose.choices.rate = []
    g.nodes.push(loose)
    connectChain(g, ['input', dense.id, conv.id, 'output'])
    const { def, problems } = graphToSpaceDef(g)
    expect(def).toBeNull()
    const on = (id: string) => problems.filter((p) => p.nodeId === id).map((p) => p.message)
    expect(on(conv.id).join(' ')).toMatch(/cannot be used in a MLP for tables space/)
    expect(on(loose.id).join(' ')).toMatch(/Not connected/)
    expect(on(loose.id).join(' ')).toMatch(/Pick at least one dropout rate/)
    expect(on(dense.id)).toEqual([])
  })

  it('reports a loop and an unreached Output', () => {
    const g = emptyGraph('sequential')
    expect(graphToSpaceDef(g).problems.map((p) => p.nodeId)).toContain('output')
    const a = newNode(g, 'dense', 200, 100)
    const b = newNode(g, 'dense', 300, 100)
    g.nodes.push(a, { ...b, id: 'b9' })
    connectChain(g, ['input', a.id, 'b9', a.id])
    expect(graphToSpaceDef(g).problems[0]!.message).toMatch(/loop/)
  })

  it('maps optional edges of a chain space to skip choices', () => {
    const g = spaceDefToGraph(presets.find((p) => p.def.family === 'chain')!.def)
    // the template draws the skip as an edge around the blocks, from the stem to the branch merge
    expect(g.edges.filter((e) => e.source === 'stem' && e.target === 'merge')).toHaveLength(1)
    g.edges = g.edges.filter((e) => !(e.source === 'stem' && e.target === 'merge'))
    expect(graphToSpaceDef(g).def).toMatchObject({ skip: ['none'] })
    const first = g.nodes[1]!.id
    g.edges.push({ id: edgeId('input', first), source: 'input', target: 'output', optional: true })
    const skip = (graphToSpaceDef(g).def as { skip: string[] }).skip
    expect(skip[0]).toBe('none')
    expect(skip.length).toBeGreaterThan(1)
  })

  it('draws the chain stem and branch merge as nodes whose choices set stemFilters, branches and merge', () => {
    const def = presets.find((p) => p.def.family === 'chain')!.def
    const g = spaceDefToGraph(def)
    const kinds = g.nodes.map((n) => n.kind)
    expect(kinds[1]).toBe('stem')
    expect(kinds.indexOf('merge')).toBeGreaterThan(kinds.indexOf('stem'))
    // stem right after Input, merge on the path to Output
    expect(g.edges.some((e) => e.source === 'input' && e.target === 'stem')).toBe(true)
    g.nodes.find((n) => n.kind === 'stem')!.choices.filters = [24, 8]
    Object.assign(g.nodes.find((n) => n.kind === 'merge')!.choices, { branches: [2, 1], merge: ['concat'] })
    expect(graphToSpaceDef(g).def).toMatchObject({
      stemFilters: [8, 24],
      branches: [1, 2],
      merge: ['concat'],
    })
    // an empty choice is a problem on that node; a stem cut off the path is reported on it
    g.nodes.find((n) => n.kind === 'merge')!.choices.merge = []
    g.edges = g.edges.filter((e) => e.source !== 'input')
    g.edges.push({
      id: edgeId('input', g.nodes[2]!.id),
      source: 'input',
      target: g.nodes[2]!.id,
      optional: false,
    })
    const { problems } = graphToSpaceDef(g)
    expect(problems.find((p) => p.nodeId === 'merge')?.message).toMatch(/way to merge/)
    expect(problems.find((p) => p.nodeId === 'stem')?.message).toMatch(
      /stem convolution must lie on the path/,
    )
    // an empty chain canvas starts with the stem and the merge already wired to Input and Output
    const empty = emptyGraph('chain')
    expect(empty.nodes.map((n) => n.kind)).toEqual(['input', 'stem', 'merge', 'output'])
    // turned into another family, the stem and merge go and the path around them stays connected
    const seq = spaceDefToGraph(def)
    seq.family = 'sequential'
    seq.ordered = true
    dropStructure(seq)
    expect(seq.nodes.some((n) => n.kind === 'stem' || n.kind === 'merge')).toBe(false)
    expect(seq.edges.some((e) => e.source === 'input' && e.target === seq.nodes[1]!.id)).toBe(true)
    const messages = graphToSpaceDef(seq).problems.map((p) => p.message)
    expect(messages.join(' ')).not.toMatch(/Side by side|Not connected/)
  })

  it('places main errors on the blocks behind ops[i] or named in the message', () => {
    const g = spaceDefToGraph(presets.find((p) => p.file === 'small-cnn.json')!.def)
    const mapped = graphToSpaceDef(g)
    const placed = placeErrors(g, mapped, [
      { path: 'ops.0.filters', message: 'Too small' },
      { path: '', message: "Search space has an op 'dense' that does not fit" },
      { path: '', message: 'Something general' },
    ])
    expect(placed[0]!.nodeId).toBe(mapped.opSources[0]![0])
    expect(g.nodes.find((n) => n.id === placed[1]!.nodeId)!.kind).toBe('dense')
    expect(placed[2]!.nodeId).toBeUndefined()
  })

  it('splits a layer range over blocks evenly', () => {
    expect(distribute(5, 3)).toEqual([2, 2, 1])
    expect(distribute(1, 3)).toEqual([1, 0, 0])
  })
})

describe('undo history', () => {
  it('undoes and redoes steps, and a new step clears redo', () => {
    const h = new UndoHistory({ n: 0 })
    h.push({ n: 1 })
    h.push({ n: 2 })
    expect(h.undo()).toEqual({ n: 1 })
    expect(h.undo()).toEqual({ n: 0 })
    expect(h.undo()).toBeNull()
    expect(h.redo()).toEqual({ n: 1 })
    h.push({ n: 5 })
    expect(h.canRedo).toBe(false)
    expect(h.current).toEqual({ n: 5 })
  })

  it('keeps copies, so later edits of a pushed object do not change history', () => {
    const state = { list: [1] }
    const h = new UndoHistory(state)
    state.list.push(2)
    h.push(state)
    state.list.push(3)
    expect(h.current).toEqual({ list: [1, 2] })
    expect(h.undo()).toEqual({ list: [1] })
  })

  it('ignores a push equal to the current state', () => {
    const h = new UndoHistory({ a: 1 })
    h.push({ a: 1 })
    expect(h.canUndo).toBe(false)
  })
})
