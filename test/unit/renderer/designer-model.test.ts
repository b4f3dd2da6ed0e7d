import { describe, expect, it } from 'vitest'
import type { SearchSpaceDef } from '@shared/domain'
import {
  distribute,
  edgeId,
  emptyGraph,
  graphToSpaceDef,
  newNode,
  placeErrors,
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
    }
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
    })
    // an edge jumping over the pooling block lets the search leave it out
    g.edges.push({ id: edgeId(conv.id, dense.id), source: conv.id, target: dense.id, optional: true })
    expect((graphToSpaceDef(g).def as { minLayers: number }).minLayers).toBe(2)
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
    g.edges = g.edges.filter((e) => !(e.source === 'input' && e.target === 'output'))
    expect(graphToSpaceDef(g).def).toMatchObject({ skip: ['none'] })
    const first = g.nodes[1]!.id
    g.edges.push({ id: edgeId('input', first), source: 'input', target: 'output', optional: true })
    const skip = (graphToSpaceDef(g).def as { skip: string[] }).skip
    expect(skip[0]).toBe('none')
    expect(skip.length).toBeGreaterThan(1)
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
