import { describe, expect, it } from 'vitest'
import {
  addCellNode,
  cellGraph,
  removeCellNode,
  setCandidateOps,
  setConcat,
  toggleCandidateOp,
} from '@renderer/designer/cell-graph'
import { emptyGraph, graphToSpaceDef, newNode, edgeId } from '@renderer/designer/designer-model'
import type { CellSpace, Nb201Space } from '@shared/domain'

/** The graphical cell editor's model: the drawn cell graph and its edit operations. */
describe('cell graph', () => {
  it('draws a DARTS-style cell: 2 inputs, N nodes, every candidate edge, the output joins', () => {
    const g = cellGraph({ nodes: 3, cellOps: ['skip_connect', 'sep_conv_3x3'] }, 'cell')
    expect(g.nodes.map((n) => n.id)).toEqual(['c0', 'c1', 'n0', 'n1', 'n2', 'out'])
    const into = (id: string) =>
      g.edges
        .filter((e) => e.target === id)
        .map((e) => e.source)
        .sort()
    // node i takes its inputs from the 2 cell inputs and every earlier node
    expect(into('n0')).toEqual(['c0', 'c1'])
    expect(into('n1')).toEqual(['c0', 'c1', 'n0'])
    expect(into('n2')).toEqual(['c0', 'c1', 'n0', 'n1'])
    expect(into('out')).toEqual(['n0', 'n1', 'n2'])
    expect(g.edges.filter((e) => !e.concat).every((e) => e.ops.join() === 'skip_connect,sep_conv_3x3')).toBe(
      true,
    )
    // the normal cell has stride 1 everywhere; the reduction cell halves on edges from the cell inputs
    expect(g.edges.every((e) => e.stride === 1)).toBe(true)
    const r = cellGraph({ nodes: 3, cellOps: ['skip_connect'] }, 'cell', 'reduction')
    expect(r.edges.filter((e) => e.stride === 2).map((e) => e.id)).toEqual([
      'c0->n0',
      'c1->n0',
      'c0->n1',
      'c1->n1',
      'c0->n2',
      'c1->n2',
    ])
  })

  it('draws the NAS-Bench-201 cell: 4 nodes, 6 edges j <- i', () => {
    const g = cellGraph({ cellOps: ['nor_conv_3x3'] }, 'nb201')
    expect(g.nodes).toHaveLength(4)
    expect(g.edges.map((e) => e.id)).toEqual(['n0->n1', 'n0->n2', 'n1->n2', 'n0->n3', 'n1->n3', 'n2->n3'])
  })

  it('adds and removes nodes within 1..8, with a clear error beyond', () => {
    let c = addCellNode({ nodes: 2 })
    expect(c.nodes).toBe(3)
    c = removeCellNode(c, 'n0')
    expect(c.nodes).toBe(2)
    expect(() => removeCellNode({ nodes: 1 }, 'n0')).toThrow(/at least one intermediate node/)
    expect(() => removeCellNode({ nodes: 2 }, 'n5')).toThrow(/no intermediate node n5/)
    expect(() => removeCellNode({ nodes: 2 }, 'c0')).toThrow(/no intermediate node c0/)
    expect(() => addCellNode({ nodes: 8 })).toThrow(/at most 8/)
  })

  it('edits the candidate ops in the family order and rejects ops of another family', () => {
    let c = setCandidateOps({ cellOps: [] }, 'cell', ['max_pool_3x3', 'skip_connect'])
    expect(c.cellOps).toEqual(['skip_connect', 'max_pool_3x3'])
    c = toggleCandidateOp(c, 'cell', 'sep_conv_3x3')
    expect(c.cellOps).toEqual(['skip_connect', 'sep_conv_3x3', 'max_pool_3x3'])
    c = toggleCandidateOp(c, 'cell', 'skip_connect')
    expect(c.cellOps).toEqual(['sep_conv_3x3', 'max_pool_3x3'])
    expect(() => setCandidateOps(c, 'nb201', ['sep_conv_3x3'])).toThrow(
      /Not an operation of this cell: sep_conv_3x3/,
    )
  })

  it('edits reach the space definition the canvas maps to', () => {
    const g = emptyGraph('cell')
    const cell = newNode(g, 'cell', 200, 150)
    g.nodes.push(cell)
    g.edges.push(
      { id: edgeId('input', cell.id), source: 'input', target: cell.id, optional: false },
      { id: edgeId(cell.id, 'output'), source: cell.id, target: 'output', optional: false },
    )
    cell.choices = setConcat(addCellNode(toggleCandidateOp(cell.choices, 'cell', 'dil_conv_3x3')), 'unused')
    const def = graphToSpaceDef(g).def as CellSpace
    expect(def.nodes).toBe(3)
    expect(def.ops).toContain('dil_conv_3x3')
    expect(def.concat).toBe('unused')

    const nb = emptyGraph('nb201')
    const nbCell = newNode(nb, 'cell', 200, 150)
    nbCell.choices = setCandidateOps(nbCell.choices, 'nb201', ['none', 'nor_conv_1x1'])
    nb.nodes.push(nbCell)
    nb.edges.push(
      { id: edgeId('input', nbCell.id), source: 'input', target: nbCell.id, optional: false },
      { id: edgeId(nbCell.id, 'output'), source: nbCell.id, target: 'output', optional: false },
    )
    expect((graphToSpaceDef(nb).def as Nb201Space).ops).toEqual(['none', 'nor_conv_1x1'])
  })
})
