import type { SpaceFamilyName } from '@shared/domain'
import type { BlockKind, BlockSpec, DesignGraph, DesignNode, NodeKind, StructureKind } from './design-types'

/** The designer's palette: the blocks a person can drop, the families' fixed parts, names and help. */

export const BLOCKS: readonly BlockSpec[] = [
  {
    kind: 'conv',
    label: 'Convolution',
    description: 'Finds local patterns in images (edges, textures).',
    color: '#0891b2',
    defaults: { filters: [16, 32, 64], kernelSize: [3, 5], activation: ['relu'], strides: [1] },
  },
  {
    kind: 'sepconv',
    label: 'Separable convolution',
    description: 'A lighter convolution: fewer weights, similar power.',
    color: '#0e7490',
    defaults: { filters: [16, 32], kernelSize: [3, 5], activation: ['relu'], strides: [1] },
  },
  {
    kind: 'pool',
    label: 'Pooling',
    description: 'Shrinks the image, keeping the strongest signals.',
    color: '#059669',
    defaults: { poolType: ['max'], poolSize: [2] },
  },
  {
    kind: 'dense',
    label: 'Dense',
    description: 'A fully connected layer of units.',
    color: '#4f46e5',
    defaults: { units: [64, 128], activation: ['relu'] },
  },
  {
    kind: 'dropout',
    label: 'Dropout',
    description: 'Randomly silences units while training, against overfitting.',
    color: '#b45309',
    defaults: { rate: [0.1, 0.3] },
  },
  {
    kind: 'batchnorm',
    label: 'Batch norm',
    description: 'Keeps values in a steady range so training is stable.',
    color: '#be185d',
    defaults: {},
  },
  {
    kind: 'identity',
    label: 'Identity / skip',
    description: 'Passes its input through unchanged (chain spaces).',
    color: '#57534e',
    defaults: {},
  },
  {
    kind: 'cell',
    label: 'Cell',
    description: 'A small searchable graph of operations, stacked several times.',
    color: '#7c3aed',
    defaults: {
      cellOps: ['skip_connect', 'sep_conv_3x3', 'max_pool_3x3'],
      channels: [8],
      cellsPerStage: [1],
      nodes: 2,
    },
  },
  {
    kind: 'backbone',
    label: 'Pretrained backbone',
    description:
      'A network already trained on other images: the head drawn after it learns from what it already sees.',
    color: '#166534',
    defaults: { backbone: [], cut: [], fineTune: ['frozen'] },
  },
]

export const BLOCK_BY_KIND: Record<BlockKind, BlockSpec> = Object.fromEntries(
  BLOCKS.map((b) => [b.kind, b]),
) as Record<BlockKind, BlockSpec>

/** The chain family's fixed parts: not in the palette, cannot be removed, their choices edited like blocks'. */
export const STRUCTURE: Record<StructureKind, Omit<BlockSpec, 'kind'> & { kind: StructureKind }> = {
  stem: {
    kind: 'stem',
    label: 'Stem convolution',
    description: 'A 3×3 convolution that every network starts with, before the chain of blocks.',
    color: '#0f766e',
    defaults: { filters: [16] },
  },
  merge: {
    kind: 'merge',
    label: 'Branches and merge',
    description:
      'Each block of the chain runs 1 or more branches side by side, each branch one of the operations above, and joins them here.',
    color: '#9333ea',
    defaults: { branches: [1], merge: ['add'] },
  },
}

/** True for the chain family's fixed parts (stem, merge). */
export const isStructure = (kind: NodeKind): kind is StructureKind => kind === 'stem' || kind === 'merge'

/** Palette or structure spec of a node kind (null for Input and Output). */
export function specOf(kind: NodeKind): Omit<BlockSpec, 'kind'> | null {
  if (kind === 'input' || kind === 'output') return null
  return isStructure(kind) ? STRUCTURE[kind] : BLOCK_BY_KIND[kind]
}

/** Nodes a person cannot delete: Input, Output and the family's fixed parts. */
export const isFixedNode = (kind: NodeKind): boolean =>
  kind === 'input' || kind === 'output' || isStructure(kind)

/** Block kinds each family accepts on the canvas. */
export const FAMILY_BLOCKS: Record<SpaceFamilyName, readonly BlockKind[]> = {
  sequential: ['conv', 'sepconv', 'pool', 'dense', 'dropout', 'batchnorm'],
  chain: ['conv', 'sepconv', 'pool', 'identity', 'batchnorm'],
  mlp: ['dense', 'dropout', 'batchnorm'],
  cell: ['cell'],
  nb201: ['cell'],
  backbone: ['backbone', 'pool', 'dense', 'dropout'],
}

/** Plain names of the families, for the template picker. */
export const FAMILY_LABELS: Record<SpaceFamilyName, string> = {
  sequential: 'Sequential layers',
  chain: 'Chain with skips',
  cell: 'Cells (NASNet / DARTS)',
  nb201: 'NAS-Bench-201 cell',
  mlp: 'MLP for tables',
  backbone: 'Pretrained backbone + head',
}

/** One sentence per family: what the canvas means. */
export const FAMILY_HELP: Record<SpaceFamilyName, string> = {
  sequential:
    'A stack of layers: each layer is one of the blocks on the canvas, and the repeat ranges along the path say how many layers.',
  chain:
    'A stem, then a chain of blocks, each one of the operations on the canvas; an optional edge is a skip connection the search may add.',
  mlp: 'Dense blocks for tables: the dense block sets the units and how many blocks; dropout and batch norm are added to each.',
  cell: 'A cell is a small graph of operations found by the search, stacked in stages; edit its choices in the inspector.',
  nb201: 'The NAS-Bench-201 cell: 4 nodes and 6 edges, each edge one of the chosen operations.',
  backbone:
    'A pretrained backbone first (which one, where to cut it, how much of it to fine-tune), then the head the search draws: pooling, dense and dropout blocks. Images are resized and scaled the way the backbone expects.',
}

/** A deep copy of JSON data (works on Vue's reactive proxies, unlike structuredClone). */
export const cloneJson = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T

export const uniqSorted = (xs: readonly number[]): number[] => [...new Set(xs)].sort((a, b) => a - b)
export const uniq = <T>(xs: readonly T[]): T[] => [...new Set(xs)]

/** A new block of `kind` at (x, y) with an id not used in `graph`. */
export function newNode(graph: DesignGraph, kind: NodeKind, x: number, y: number): DesignNode {
  const used = new Set(graph.nodes.map((n) => n.id))
  let i = graph.nodes.length + 1
  while (used.has(`b${i}`)) i++
  const defaults = specOf(kind)?.defaults ?? {}
  return {
    id: isFixedNode(kind) ? kind : `b${i}`,
    kind,
    x,
    y,
    choices: cloneJson(defaults),
    repeat: { min: 1, max: 1 },
  }
}

/** The edge id for a connection (one edge per ordered pair). */
export const edgeId = (source: string, target: string): string => `e:${source}->${target}`
