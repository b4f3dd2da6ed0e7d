import { CELL_OPS, NB201_OPS, type CellSpace, type Nb201Space, type SearchSpaceDef } from '@shared/domain'
import type { BlockChoices, DesignEdge, DesignGraph, DrawnBlock, FamilyInput } from '../design-types'
import { uniqSorted } from '../palette'

/** The cell families on the designer canvas: one cell block holding the cell's choices (DARTS-like, NAS-Bench-201). */

export const CELL_BASE: CellSpace = {
  family: 'cell',
  version: 1,
  nodes: 2,
  ops: ['skip_connect', 'sep_conv_3x3'],
  initChannels: [8],
  cellsPerStage: [1],
  stages: 2,
  stemMultiplier: 1,
  concat: 'all',
}

/** The cell canvas as a definition (null when it cannot be one; its problems are added to `input`). */
export function cellToDef(input: FamilyInput): SearchSpaceDef | null {
  const { graph, live, problems, opSources } = input
  const base = graph.base
  let def: SearchSpaceDef | null = null
  const cells = live.filter((b) => b.kind === 'cell')
  if (cells.length !== 1) {
    problems.push({ message: 'Put exactly one Cell block between Input and Output.' })
    return def
  }
  const c = cells[0]!.choices
  if (graph.family === 'cell') {
    const b0 = base.family === 'cell' ? base : CELL_BASE
    const cell: CellSpace = {
      ...b0,
      nodes: c.nodes ?? b0.nodes,
      concat: c.concat ?? b0.concat,
      ops: (c.cellOps ?? []).filter((o): o is CellSpace['ops'][number] =>
        (CELL_OPS as readonly string[]).includes(o),
      ),
      initChannels: uniqSorted(c.channels ?? []),
      cellsPerStage: uniqSorted(c.cellsPerStage ?? []),
    }
    def = cell
  } else {
    const nb: Nb201Space = {
      family: 'nb201',
      version: 1,
      ops: (c.cellOps ?? []).filter((o): o is Nb201Space['ops'][number] =>
        (NB201_OPS as readonly string[]).includes(o),
      ),
      channels: uniqSorted(c.channels ?? []),
      cellsPerStage: uniqSorted(c.cellsPerStage ?? []),
    }
    def = nb
  }
  opSources.push(...(def.ops as string[]).map(() => [cells[0]!.id]))
  return def
}

/** The one cell block a cell or NAS-Bench-201 definition is drawn with. */
export function cellFamilyBlocks(
  def: CellSpace | Nb201Space,
  _graph: DesignGraph,
): { blocks: DrawnBlock[]; skipEdge: DesignEdge | null } {
  const choices: BlockChoices =
    def.family === 'cell'
      ? {
          cellOps: [...def.ops],
          channels: [...def.initChannels],
          cellsPerStage: [...def.cellsPerStage],
          nodes: def.nodes,
          concat: def.concat,
        }
      : { cellOps: [...def.ops], channels: [...def.channels], cellsPerStage: [...def.cellsPerStage] }
  return { blocks: [{ kind: 'cell', choices }], skipEdge: null }
}
