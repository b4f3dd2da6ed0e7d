import type { BackboneSpace, SearchSpaceDef } from '@shared/domain'
import type { DesignEdge, DesignGraph, DrawnBlock, FamilyInput } from '../design-types'
import { uniq, uniqSorted } from '../palette'
import { pathRange } from '../graph-walk'

/**
 * The pretrained-backbone family on the designer canvas: one Pretrained backbone block (which backbones, where
 * to cut them, how much to fine-tune), then the head: an optional pooling block (global average; without it
 * the features are flattened), dense blocks and dropout.
 */

/** The head's settings a new canvas starts with. */
export const BACKBONE_BASE: BackboneSpace = {
  family: 'backbone',
  version: 1,
  backbones: [],
  fineTune: ['frozen'],
  pooling: ['globalAvg'],
  minBlocks: 0,
  maxBlocks: 1,
  units: [64, 128],
  activation: ['relu'],
  dropout: [0],
}

/** The backbone canvas as a definition (null when it cannot be one; its problems are added to `input`). */
export function backboneToDef(input: FamilyInput): SearchSpaceDef | null {
  const { graph, order, live, counted, problems } = input
  const backbones = live.filter((b) => b.kind === 'backbone')
  const block = backbones[0]
  if (!block) {
    problems.push({ message: 'Add a Pretrained backbone block between Input and the head.' })
    return null
  }
  if (backbones.length > 1)
    problems.push({
      nodeId: backbones[1]!.id,
      message: 'Use one Pretrained backbone block; list several backbones in it instead.',
    })
  const ids = uniq(block.choices.backbone ?? [])
  const cuts = uniq(block.choices.cut ?? [])
  const fineTune = uniq(block.choices.fineTune ?? [])
  if (!ids.length)
    problems.push({
      nodeId: block.id,
      message: 'Choose at least one backbone in the Pretrained backbone block.',
    })
  if (!cuts.length)
    problems.push({
      nodeId: block.id,
      message: 'Choose where to cut the backbone (a layer whose features the head uses).',
    })
  if (!fineTune.length)
    problems.push({
      nodeId: block.id,
      message: 'Choose how much of the backbone to fine-tune (frozen keeps it as it is).',
    })
  const dense = live.filter((b) => b.kind === 'dense')
  const dropout = live.filter((b) => b.kind === 'dropout')
  const pool = live.find((b) => b.kind === 'pool')
  const range = pathRange(graph, order, counted(['dense'])) ?? { min: 0, max: 0 }
  if (!ids.length || !cuts.length || !fineTune.length) return null
  const base = graph.base.family === 'backbone' ? graph.base : BACKBONE_BASE
  const def: BackboneSpace = {
    ...base,
    backbones: ids.map((id) => ({ id, cuts })),
    fineTune,
    pooling: pool ? (pool.repeat.min === 0 ? ['globalAvg', 'flatten'] : ['globalAvg']) : ['flatten'],
    minBlocks: Math.min(8, range.min),
    maxBlocks: Math.min(8, range.max),
    units: dense.length ? uniqSorted(dense.flatMap((b) => b.choices.units ?? [])) : base.units,
    activation: dense.length ? uniq(dense.flatMap((b) => b.choices.activation ?? [])) : base.activation,
    dropout: dropout.length ? uniqSorted(dropout.flatMap((b) => b.choices.rate ?? [])) : [0],
  }
  return def
}

/** The blocks a backbone definition is drawn with. */
export function backboneBlocks(
  def: BackboneSpace,
  _graph: DesignGraph,
): { blocks: DrawnBlock[]; skipEdge: DesignEdge | null } {
  const blocks: DrawnBlock[] = [
    {
      kind: 'backbone',
      choices: {
        backbone: def.backbones.map((b) => b.id),
        cut: uniq(def.backbones.flatMap((b) => b.cuts)),
        fineTune: [...def.fineTune],
      },
    },
  ]
  if (def.pooling.includes('globalAvg'))
    blocks.push({
      kind: 'pool',
      choices: { poolType: ['avg'] },
      repeat: { min: def.pooling.includes('flatten') ? 0 : 1, max: 1 },
    })
  if (def.maxBlocks > 0)
    blocks.push({
      kind: 'dense',
      choices: { units: [...def.units], activation: [...def.activation] },
      repeat: { min: def.minBlocks, max: def.maxBlocks },
    })
  if (def.dropout.some((r) => r > 0)) blocks.push({ kind: 'dropout', choices: { rate: [...def.dropout] } })
  return { blocks, skipEdge: null }
}
