import { type MlpSpace, type SearchSpaceDef } from '@shared/domain'
import type { DesignEdge, DesignGraph, DrawnBlock, FamilyInput } from '../design-types'
import { uniq, uniqSorted } from '../palette'
import { pathRange } from '../graph-walk'

/** The MLP family on the designer canvas: dense blocks with optional batch normalisation and dropout. */

/** The mlp canvas as a definition (null when it cannot be one; its problems are added to `input`). */
export function mlpToDef(input: FamilyInput): SearchSpaceDef | null {
  const { graph, order, live, counted, problems } = input
  let def: SearchSpaceDef | null = null
  const dense = live.filter((b) => b.kind === 'dense')
  const dropout = live.filter((b) => b.kind === 'dropout')
  const bnBlock = live.find((b) => b.kind === 'batchnorm')
  const range = pathRange(graph, order, counted(['dense']))
  if (!dense.length) problems.push({ message: 'Add a Dense block: an MLP is made of dense blocks.' })
  if (range && dense.length) {
    const mlp: MlpSpace = {
      family: 'mlp',
      version: 1,
      minBlocks: Math.max(1, range.min),
      maxBlocks: Math.max(1, range.max),
      units: uniqSorted(dense.flatMap((b) => b.choices.units ?? [])),
      activation: uniq(dense.flatMap((b) => b.choices.activation ?? [])),
      dropout: dropout.length ? uniqSorted(dropout.flatMap((b) => b.choices.rate ?? [])) : [0],
      batchNorm: bnBlock ? (bnBlock.repeat.min === 0 ? [false, true] : [true]) : [false],
    }
    def = mlp
  }
  return def
}

/** The blocks a mlp definition is drawn with (and the chain's skip edge, if any). */
export function mlpBlocks(
  def: MlpSpace,
  _graph: DesignGraph,
): { blocks: DrawnBlock[]; skipEdge: DesignEdge | null } {
  const blocks: DrawnBlock[] = []
  const skipEdge: DesignEdge | null = null
  blocks.push({
    kind: 'dense',
    choices: { units: [...def.units], activation: [...def.activation] },
    repeat: { min: def.minBlocks, max: def.maxBlocks },
  })
  if (def.batchNorm.includes(true)) {
    blocks.push({
      kind: 'batchnorm',
      choices: {},
      repeat: { min: def.batchNorm.includes(false) ? 0 : 1, max: 1 },
    })
  }
  if (def.dropout.some((r) => r > 0)) blocks.push({ kind: 'dropout', choices: { rate: [...def.dropout] } })
  return { blocks, skipEdge }
}
