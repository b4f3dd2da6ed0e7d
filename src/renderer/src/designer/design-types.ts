import type { Activation, FineTune, SearchSpaceDef, SpaceFamilyName } from '@shared/domain'

/** The designer canvas's data: blocks, edges, problems, and what a family needs to map a canvas. JSON-safe. */

export type BlockKind =
  'conv' | 'sepconv' | 'pool' | 'dense' | 'dropout' | 'batchnorm' | 'identity' | 'cell' | 'backbone'
/** Fixed parts of a family's network drawn on the canvas (chain: the stem and each block's branch merge). */
export type StructureKind = 'stem' | 'merge'
export type NodeKind = BlockKind | StructureKind | 'input' | 'output'

/** The choices a block offers the search; which fields apply depends on the block kind. */
export interface BlockChoices {
  filters?: number[]
  kernelSize?: number[]
  activation?: Activation[]
  strides?: number[]
  poolType?: Array<'max' | 'avg'>
  poolSize?: number[]
  units?: number[]
  rate?: number[]
  /** cell blocks */
  cellOps?: string[]
  channels?: number[]
  cellsPerStage?: number[]
  nodes?: number
  /** cell blocks of the cell family: which nodes the cell outputs (all, or those no other node uses) */
  concat?: 'all' | 'unused'
  /** chain merge node: parallel branches per block and how they are joined */
  branches?: number[]
  merge?: Array<'add' | 'concat'>
  /** pretrained-backbone block: which backbones (ids), where to cut them (layer names), how much to fine-tune */
  backbone?: string[]
  cut?: string[]
  fineTune?: FineTune[]
}

export interface RepeatRange {
  min: number
  max: number
}

export interface DesignNode {
  id: string
  kind: NodeKind
  /** Position on the canvas (model coordinates). */
  x: number
  y: number
  choices: BlockChoices
  repeat: RepeatRange
}

export interface DesignEdge {
  id: string
  source: string
  target: string
  /** A skip the search may take or not. */
  optional: boolean
}

/** What the canvas holds; `base` keeps the family's settings that no block shows (e.g. chain stem filters). */
export interface DesignGraph {
  version: 1
  family: SpaceFamilyName
  nodes: DesignNode[]
  edges: DesignEdge[]
  base: SearchSpaceDef
  /** Sequential only: the layers keep the order of the blocks (absent in files of older versions: false). */
  ordered?: boolean
}

/** A problem of the canvas; `nodeId` names the block it belongs to (absent: the whole space). */
export interface DesignProblem {
  nodeId?: string
  message: string
}

/** Palette entry: what a person sees and the choices a new block starts with. */
export interface BlockSpec {
  kind: BlockKind
  label: string
  description: string
  color: string
  defaults: BlockChoices
}

/** The definition a canvas stands for, its problems by block, and which blocks made each `ops` entry. */
export interface MappedSpace {
  def: SearchSpaceDef | null
  problems: DesignProblem[]
  /** For families with an `ops` list: the block ids behind ops[i] (to place main's errors on blocks). */
  opSources: string[][]
}

/** What a family's canvas -> definition mapping gets: the canvas and what the common checks found. */
export interface FamilyInput {
  graph: DesignGraph
  /** Node ids in topological order. */
  order: string[]
  /** Blocks (not Input, Output or structure) in topological order. */
  blocks: DesignNode[]
  /** Blocks on a path from Input to Output, of a kind the family accepts. */
  live: DesignNode[]
  fromInput: Set<string>
  toOutput: Set<string>
  /** The repeat range of a node when it is live and of one of `kinds`, else 0..0 (for pathRange). */
  counted: (kinds: readonly NodeKind[]) => (n: DesignNode) => RepeatRange
  /** Problems found so far; the family adds its own. */
  problems: DesignProblem[]
  /** The block ids behind each entry of the definition's `ops` (filled by the family). */
  opSources: string[][]
}

/** A block of a drawn definition, before it is placed on the canvas. */
export interface DrawnBlock {
  kind: BlockKind | StructureKind
  choices: BlockChoices
  repeat?: RepeatRange
}
