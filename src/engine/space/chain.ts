import type { Architecture, ChainOpChoice, ChainSpace, Genotype } from '../../shared'
import { MERGE_KINDS, NasError, SKIP_KINDS } from '../../shared'
import type { Rng } from '../rng'
import type { SpaceFamily } from './family'
import { log10GeometricSum, oneHot, pickOther, scaled, sizeOf } from './family'
import type { NodeSpec } from './graph-builder'
import { GraphBuilder } from './graph-builder'

/**
 * The chain-structured family (ResNet / Inception-like): conv3x3-BN stem, then blocks. A block with stride s
 * runs its branches on the block input (convs output the block's filters; pools use 'same' padding; identity
 * becomes an s x s average pool when s > 1), merges them (add: branches with other channel counts get a 1x1
 * projection; concat: channels add up), optionally batch-normalises, then joins the block input through its
 * skip (add: a strided 1x1 projection when shapes differ; concat: an s x s average pool when sizes differ).
 * Head: global average pooling and a softmax classifier.
 */

type ChainGenotype = Extract<Genotype, { family: 'chain' }>
type Block = ChainGenotype['blocks'][number]
type Branch = Block['branches'][number]

function invalid(message: string): NasError {
  return new NasError('invalid_space', message)
}

function paramsOf(c: ChainOpChoice): Array<[keyof Branch, readonly unknown[]]> {
  switch (c.op) {
    case 'conv2d':
    case 'sepConv2d':
      return [
        ['kernelSize', c.kernelSize],
        ['activation', c.activation],
      ]
    case 'maxPool2d':
    case 'avgPool2d':
      return [['poolSize', c.poolSize]]
    case 'identity':
      return []
  }
}

function validate(def: ChainSpace, inputShape?: number[]): void {
  const seen = new Set<string>()
  def.ops.forEach((o, i) => {
    if (seen.has(o.op)) throw invalid(`Search space is invalid at ops.${i}: op '${o.op}' is listed twice`)
    seen.add(o.op)
  })
  if (def.ops.every((o) => o.op === 'identity')) {
    throw invalid(
      "Search space is invalid at ops: 'identity' alone computes nothing; add a conv2d or sepConv2d op",
    )
  }
  if (inputShape !== undefined && inputShape.length !== 3) {
    throw invalid(`The chain space needs image data [height, width, channels], got [${inputShape}]`)
  }
}

function drawBranch(def: ChainSpace, rng: Rng): Branch {
  const c = rng.pick(def.ops)
  const b: Branch = { op: c.op }
  for (const [name, values] of paramsOf(c)) (b as Record<string, unknown>)[name] = rng.pick(values)
  return b
}

function drawBlock(def: ChainSpace, rng: Rng): Block {
  const k = rng.pick(def.branches)
  return {
    filters: rng.pick(def.filters),
    strides: rng.pick(def.strides),
    // why: a single branch has nothing to merge; pinning the field keeps one genotype per network
    merge: k > 1 ? rng.pick(def.merge) : def.merge[0]!,
    skip: rng.pick(def.skip),
    batchNorm: rng.pick(def.batchNorm),
    branches: Array.from({ length: k }, () => drawBranch(def, rng)),
  }
}

function branchNode(g: GraphBuilder, x: string, b: Branch, filters: number, s: number): string {
  const act = b.activation ?? 'relu'
  const k = b.kernelSize ?? 3
  let spec: NodeSpec | null
  switch (b.op) {
    case 'conv2d':
    case 'sepConv2d':
      spec = { op: b.op, filters, kernelSize: k, activation: act, strides: s }
      break
    case 'maxPool2d':
    case 'avgPool2d':
      spec = { op: b.op, poolSize: b.poolSize ?? 3, strides: s, padding: 'same' }
      break
    case 'identity':
      spec = s === 1 ? null : { op: 'avgPool2d', poolSize: s, strides: s, padding: 'same' }
  }
  return spec === null ? x : g.add(spec, [x])
}

/** Builds the network of a chain genotype. */
export function buildChain(geno: ChainGenotype, inputShape: number[], numClasses: number): Architecture {
  const g = new GraphBuilder(inputShape)
  g.openGroup('stem', 'stem')
  let x = g.chain(g.input, [
    { op: 'conv2d', filters: geno.stemFilters, kernelSize: 3, activation: 'relu' },
    { op: 'batchNorm' },
  ])
  geno.blocks.forEach((block, i) => {
    g.openGroup(`block ${i + 1}`, 'block')
    const s = block.strides
    let parts = block.branches.map((b) => branchNode(g, x, b, block.filters, s))
    let y: string
    if (parts.length === 1) y = parts[0]!
    else if (block.merge === 'concat') y = g.concat(parts)
    else {
      parts = parts.map((p) =>
        g.channels(p) === block.filters
          ? p
          : g.add({ op: 'conv2d', filters: block.filters, kernelSize: 1, activation: 'linear' }, [p]),
      )
      y = g.add({ op: 'add' }, parts)
    }
    if (block.batchNorm) y = g.add({ op: 'batchNorm' }, [y])
    if (block.skip === 'add') {
      const same = g.shape(x).join('x') === g.shape(y).join('x')
      const shortcut = same
        ? x
        : g.add({ op: 'conv2d', filters: g.channels(y), kernelSize: 1, strides: s, activation: 'linear' }, [
            x,
          ])
      y = g.add({ op: 'add' }, [y, shortcut])
    } else if (block.skip === 'concat') {
      const shortcut = s === 1 ? x : g.add({ op: 'avgPool2d', poolSize: s, strides: s, padding: 'same' }, [x])
      y = g.add({ op: 'concat' }, [y, shortcut])
    }
    x = y
  })
  g.openGroup('classifier', 'head')
  const out = g.chain(x, [{ op: 'globalAvgPool' }, { op: 'dense', units: numClasses, activation: 'softmax' }])
  return g.finish(out, geno)
}

function genotypeOf(arch: Architecture): ChainGenotype {
  if (arch.genotype?.family !== 'chain') throw invalid('This architecture was not built from a chain space')
  return arch.genotype
}

/**
 * One choice changed: the stem filters, one field of one block, one branch's op (its parameters drawn anew) or
 * parameter, a block's branch count (one branch added or removed) or the depth (one block added or removed).
 */
function mutate(
  def: ChainSpace,
  arch: Architecture,
  rng: Rng,
  inputShape: number[],
  numClasses: number,
): Architecture {
  const geno = structuredClone(genotypeOf(arch))
  const moves: Array<() => void> = []
  if (def.stemFilters.length > 1)
    moves.push(() => (geno.stemFilters = pickOther(rng, def.stemFilters, geno.stemFilters)))
  geno.blocks.forEach((b) => {
    if (def.filters.length > 1) moves.push(() => (b.filters = pickOther(rng, def.filters, b.filters)))
    if (def.strides.length > 1) moves.push(() => (b.strides = pickOther(rng, def.strides, b.strides)))
    if (def.merge.length > 1 && b.branches.length > 1)
      moves.push(() => (b.merge = pickOther(rng, def.merge, b.merge)))
    if (def.skip.length > 1) moves.push(() => (b.skip = pickOther(rng, def.skip, b.skip)))
    if (def.batchNorm.length > 1) moves.push(() => (b.batchNorm = pickOther(rng, def.batchNorm, b.batchNorm)))
    const counts = def.branches.filter((n) => n !== b.branches.length)
    if (counts.length > 0) {
      moves.push(() => {
        const n = rng.pick(counts)
        while (b.branches.length < n) b.branches.push(drawBranch(def, rng))
        b.branches.length = n
        if (n === 1) b.merge = def.merge[0]!
      })
    }
    b.branches.forEach((br, j) => {
      if (def.ops.length > 1) {
        moves.push(() => {
          const others = def.ops.filter((o) => o.op !== br.op)
          const c = rng.pick(others)
          const next: Branch = { op: c.op }
          for (const [name, values] of paramsOf(c)) (next as Record<string, unknown>)[name] = rng.pick(values)
          b.branches[j] = next
        })
      }
      const c = def.ops.find((o) => o.op === br.op)
      for (const [name, values] of c ? paramsOf(c) : []) {
        if (values.length > 1)
          moves.push(() => ((br as Record<string, unknown>)[name] = pickOther(rng, values, br[name])))
      }
    })
  })
  if (geno.blocks.length < def.maxBlocks) {
    moves.push(() => geno.blocks.splice(rng.int(0, geno.blocks.length), 0, drawBlock(def, rng)))
  }
  if (geno.blocks.length > def.minBlocks)
    moves.push(() => geno.blocks.splice(rng.int(0, geno.blocks.length - 1), 1))
  if (moves.length === 0) return arch
  rng.pick(moves)()
  return buildChain(geno, inputShape, numClasses)
}

const maxBranches = (def: ChainSpace): number => Math.max(...def.branches)
const branchWidth = (def: ChainSpace): number =>
  1 + def.ops.length + def.ops.reduce((n, c) => n + paramsOf(c).length, 0)
const blockWidth = (def: ChainSpace): number =>
  6 + MERGE_KINDS.length + SKIP_KINDS.length + maxBranches(def) * branchWidth(def)

/**
 * Scaled stem filters, then per block slot: present, scaled filters / strides / branch count / batch norm,
 * one-hot merge and skip, and per branch slot: present, one-hot op, scaled parameters of every op.
 */
function encode(def: ChainSpace, arch: Architecture): number[] {
  const geno = genotypeOf(arch)
  const out = [scaled(def.stemFilters, geno.stemFilters)]
  for (let i = 0; i < def.maxBlocks; i++) {
    const b = geno.blocks[i]
    if (!b) {
      out.push(...new Array<number>(blockWidth(def)).fill(0))
      continue
    }
    out.push(
      1,
      scaled(def.filters, b.filters),
      scaled(def.strides, b.strides),
      scaled(def.branches, b.branches.length),
      scaled(def.batchNorm, b.batchNorm),
      b.branches.length > 1 ? 1 : 0,
      ...oneHot(MERGE_KINDS, b.merge),
      ...oneHot(SKIP_KINDS, b.skip),
    )
    for (let j = 0; j < maxBranches(def); j++) {
      const br = b.branches[j]
      out.push(
        br ? 1 : 0,
        ...oneHot(
          def.ops.map((o) => o.op),
          br?.op,
        ),
      )
      for (const c of def.ops) {
        for (const [name, values] of paramsOf(c)) out.push(br?.op === c.op ? scaled(values, br[name]) : 0)
      }
    }
  }
  return out
}

function size(def: ChainSpace): { count: number; log10: number } {
  const perBranch = def.ops.reduce((sum, c) => sum + paramsOf(c).reduce((p, [, v]) => p * v.length, 1), 0)
  const branchings = def.branches.reduce((sum, k) => sum + perBranch ** k * (k > 1 ? def.merge.length : 1), 0)
  const perBlock =
    def.filters.length * def.strides.length * def.skip.length * def.batchNorm.length * branchings
  const log10 = Math.log10(def.stemFilters.length) + log10GeometricSum(perBlock, def.minBlocks, def.maxBlocks)
  let total = 0
  for (let d = def.minBlocks; d <= def.maxBlocks; d++) total += perBlock ** d
  return sizeOf(log10, total * def.stemFilters.length)
}

/** The chain family (see the module comment). */
export const chainFamily: SpaceFamily<ChainSpace> = {
  validate,
  size,
  sample: (def, rng, inputShape, numClasses) => {
    validate(def, inputShape)
    const depth = rng.int(def.minBlocks, def.maxBlocks)
    const geno: ChainGenotype = {
      family: 'chain',
      stemFilters: rng.pick(def.stemFilters),
      blocks: Array.from({ length: depth }, () => drawBlock(def, rng)),
    }
    return buildChain(geno, inputShape, numClasses)
  },
  mutate,
  encode,
  encodingLength: (def) => 1 + def.maxBlocks * blockWidth(def),
}
