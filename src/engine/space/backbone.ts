import type { Architecture, BackboneSpace, FineTune, Genotype } from '../../shared'
import { NasError } from '../../shared'
import type { Rng } from '../rng'
import { BACKBONE_NODE_PREFIX, backboneById, backboneInfoOf, checkBackboneInput } from './backbones'
import type { SpaceFamily } from './family'
import { log10GeometricSum, oneHot, pickOther, scaled, sizeOf } from './family'
import { GraphBuilder } from './graph-builder'

/**
 * The pretrained-backbone family: the chosen backbone's layers up to the chosen cut (ids prefixed bb_, in a
 * 'backbone' group), then the searched head: pooling of the feature map (skipped when the features are flat),
 * dense blocks with optional dropout, and a softmax classifier. Which backbone layers train (fine-tuning) is in
 * the genotype; training (evaluate/backbone-train.ts) freezes the rest.
 */

type Gene = Extract<Genotype, { family: 'backbone' }>
type Block = Gene['blocks'][number]

/** Learning-rate factor of fine-tuned backbone layers when the space does not say. */
export const DEFAULT_FINE_TUNE_RATE = 0.1

function invalid(message: string): NasError {
  return new NasError('invalid_space', message)
}

function describeFineTune(f: FineTune): string {
  return typeof f === 'number' ? `the last ${f} block${f === 1 ? '' : 's'}` : f
}

/** Blocks of a backbone before `cut` (block j ends at cut point j). */
function blocksBefore(backboneId: string, cut: string): number {
  return backboneInfoOf(backboneId).cutPoints.findIndex((c) => c.layer === cut) + 1
}

function validate(def: BackboneSpace, inputShape?: number[]): void {
  const dup = (name: string, values: readonly unknown[]): void => {
    const i = values.findIndex((v, k) => values.indexOf(v) !== k)
    if (i >= 0)
      throw invalid(`Search space is invalid at ${name}.${i}: value ${String(values[i])} is listed twice`)
  }
  dup(
    'backbones',
    def.backbones.map((b) => b.id),
  )
  dup('fineTune', def.fineTune)
  dup('pooling', def.pooling)
  dup('units', def.units)
  dup('activation', def.activation)
  dup('dropout', def.dropout)
  for (const choice of def.backbones) {
    const info = backboneInfoOf(choice.id)
    dup(`backbones.${choice.id}.cuts`, choice.cuts)
    for (const cut of choice.cuts) {
      const before = blocksBefore(choice.id, cut)
      if (before === 0)
        throw invalid(
          `The backbone "${info.name}" cannot be cut at "${cut}": choose one of ${info.cutPoints.map((c) => `"${c.layer}"`).join(', ')}`,
        )
      for (const f of def.fineTune) {
        if (typeof f !== 'number') continue
        const most = Math.min(before, info.fineTunableBlocks)
        if (f > most)
          throw invalid(
            `Fine-tuning ${describeFineTune(f)} is not possible with "${info.name}" cut at "${cut}": at most ${most} block${most === 1 ? ' is' : 's are'} there to fine-tune`,
          )
      }
    }
    if (inputShape) checkBackboneInput(inputShape, info)
  }
}

/**
 * The architecture of genotype `gene` for data of `inputShape`. The network takes the backbone's input size;
 * when the data's differs, the input node says so (the data is resized to it, data/backbone-input.ts).
 */
export function buildBackboneArch(gene: Gene, inputShape: number[], numClasses: number): Architecture {
  const { arch, info } = backboneById(gene.backbone)
  const g = new GraphBuilder(info.inputShape)
  g.openGroup('backbone', 'backbone')
  let x = g.graft(arch, gene.cut, BACKBONE_NODE_PREFIX)
  g.openGroup('head', 'head')
  if (g.shape(x).length > 1)
    x = g.add(gene.pooling === 'flatten' ? { op: 'flatten' } : { op: 'globalAvgPool' }, [x])
  gene.blocks.forEach((b, i) => {
    g.openGroup(`head block ${i + 1}`, 'block')
    x = g.add({ op: 'dense', units: b.units, activation: b.activation }, [x])
    if (b.dropout > 0) x = g.add({ op: 'dropout', rate: b.dropout }, [x])
  })
  g.closeGroup()
  const out = g.add({ op: 'dense', units: numClasses, activation: 'softmax' }, [x])
  const built = g.finish(out, gene)
  if (inputShape.join('x') === info.inputShape.join('x')) return built
  return {
    ...built,
    nodes: built.nodes.map((n) => (n.op === 'input' ? { ...n, shape: [...info.inputShape] } : n)),
  }
}

function drawBlock(def: BackboneSpace, rng: Rng): Block {
  return { units: rng.pick(def.units), activation: rng.pick(def.activation), dropout: rng.pick(def.dropout) }
}

function geneOf(arch: Architecture): Gene {
  if (arch.genotype?.family !== 'backbone')
    throw invalid('This architecture was not built from a pretrained-backbone space')
  return arch.genotype
}

const BLOCK_FIELDS = ['units', 'activation', 'dropout'] as const

function mutate(
  def: BackboneSpace,
  arch: Architecture,
  rng: Rng,
  inputShape: number[],
  numClasses: number,
): Architecture {
  const gene = geneOf(arch)
  const next: Gene = { ...gene, blocks: gene.blocks.map((b) => ({ ...b })) }
  const moves: Array<() => void> = []
  const ids = def.backbones.map((b) => b.id)
  if (ids.length > 1)
    moves.push(() => {
      next.backbone = pickOther(rng, ids, gene.backbone)
      next.cut = rng.pick(def.backbones.find((b) => b.id === next.backbone)!.cuts)
    })
  const cuts = def.backbones.find((b) => b.id === gene.backbone)?.cuts ?? []
  if (cuts.length > 1) moves.push(() => (next.cut = pickOther(rng, cuts, gene.cut)))
  if (def.fineTune.length > 1) moves.push(() => (next.fineTune = pickOther(rng, def.fineTune, gene.fineTune)))
  if (def.pooling.length > 1) moves.push(() => (next.pooling = pickOther(rng, def.pooling, gene.pooling)))
  next.blocks.forEach((b, i) => {
    for (const f of BLOCK_FIELDS) {
      const values = def[f] as readonly unknown[]
      if (values.length > 1) moves.push(() => (next.blocks[i] = { ...b, [f]: pickOther(rng, values, b[f]) }))
    }
  })
  if (next.blocks.length < def.maxBlocks)
    moves.push(() => next.blocks.splice(rng.int(0, next.blocks.length), 0, drawBlock(def, rng)))
  if (next.blocks.length > def.minBlocks)
    moves.push(() => next.blocks.splice(rng.int(0, next.blocks.length - 1), 1))
  if (moves.length === 0) return arch
  rng.pick(moves)()
  return buildBackboneArch(next, inputShape, numClasses)
}

/** One-hot backbone, scaled cut, one-hot fine-tuning and pooling, then per block slot like the MLP family. */
function encode(def: BackboneSpace, arch: Architecture): number[] {
  const gene = geneOf(arch)
  const ids = def.backbones.map((b) => b.id)
  const cuts = def.backbones.find((b) => b.id === gene.backbone)?.cuts ?? []
  const out = [
    ...oneHot(ids, gene.backbone),
    scaled(cuts, gene.cut),
    ...oneHot(def.fineTune, gene.fineTune),
    ...oneHot(def.pooling, gene.pooling),
  ]
  for (let i = 0; i < def.maxBlocks; i++) {
    const b = gene.blocks[i]
    out.push(
      b ? 1 : 0,
      b ? scaled(def.units, b.units) : 0,
      ...oneHot(def.activation, b?.activation),
      b ? scaled(def.dropout, b.dropout) : 0,
    )
  }
  return out
}

/** The pretrained-backbone family (see the module comment). */
export const backboneFamily: SpaceFamily<BackboneSpace> = {
  validate,
  size: (def) => {
    const per = def.units.length * def.activation.length * def.dropout.length
    const heads = def.pooling.length * def.fineTune.length
    const cuts = def.backbones.reduce((n, b) => n + b.cuts.length, 0)
    let total = 0
    for (let d = def.minBlocks; d <= def.maxBlocks; d++) total += per ** d
    const log10 = Math.log10(cuts * heads) + log10GeometricSum(per, def.minBlocks, def.maxBlocks)
    return sizeOf(log10, total * cuts * heads)
  },
  sample: (def, rng, inputShape, numClasses) => {
    validate(def, inputShape)
    const choice = rng.pick(def.backbones)
    const depth = rng.int(def.minBlocks, def.maxBlocks)
    const gene: Gene = {
      family: 'backbone',
      backbone: choice.id,
      cut: rng.pick(choice.cuts),
      fineTune: rng.pick(def.fineTune),
      fineTuneRate: def.fineTuneRate ?? DEFAULT_FINE_TUNE_RATE,
      pooling: rng.pick(def.pooling),
      blocks: Array.from({ length: depth }, () => drawBlock(def, rng)),
    }
    return buildBackboneArch(gene, inputShape, numClasses)
  },
  mutate,
  encode,
  encodingLength: (def) =>
    def.backbones.length +
    1 +
    def.fineTune.length +
    def.pooling.length +
    def.maxBlocks * (3 + def.activation.length),
}
