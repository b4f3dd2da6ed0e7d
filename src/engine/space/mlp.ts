import type { Architecture, Genotype, MlpSpace } from '../../shared'
import { NasError } from '../../shared'
import type { Rng } from '../rng'
import type { SpaceFamily } from './family'
import { log10GeometricSum, oneHot, pickOther, scaled, sizeOf } from './family'
import { GraphBuilder } from './graph-builder'

/**
 * The MLP family for tables: input (flattened when not already flat), then blocks of dense(units, activation),
 * optional batch norm and dropout (rate 0 = no dropout layer), then a softmax classifier.
 */

type Block = Extract<Genotype, { family: 'mlp' }>['blocks'][number]

function invalid(message: string): NasError {
  return new NasError('invalid_space', message)
}

function validate(def: MlpSpace): void {
  const dup = (name: string, values: readonly unknown[]): void => {
    const i = values.findIndex((v, k) => values.indexOf(v) !== k)
    if (i >= 0)
      throw invalid(`Search space is invalid at ${name}.${i}: value ${String(values[i])} is listed twice`)
  }
  dup('units', def.units)
  dup('activation', def.activation)
  dup('dropout', def.dropout)
  dup('batchNorm', def.batchNorm)
}

/** Builds the network of `blocks`. */
export function buildMlp(blocks: Block[], inputShape: number[], numClasses: number): Architecture {
  const g = new GraphBuilder(inputShape)
  let x = inputShape.length === 1 ? g.input : g.add({ op: 'flatten' }, [g.input])
  blocks.forEach((b, i) => {
    g.openGroup(`block ${i + 1}`, 'block')
    x = g.add({ op: 'dense', units: b.units, activation: b.activation }, [x])
    if (b.batchNorm) x = g.add({ op: 'batchNorm' }, [x])
    if (b.dropout > 0) x = g.add({ op: 'dropout', rate: b.dropout }, [x])
  })
  g.closeGroup()
  const out = g.add({ op: 'dense', units: numClasses, activation: 'softmax' }, [x])
  return g.finish(out, { family: 'mlp', blocks })
}

function drawBlock(def: MlpSpace, rng: Rng): Block {
  return {
    units: rng.pick(def.units),
    activation: rng.pick(def.activation),
    dropout: rng.pick(def.dropout),
    batchNorm: rng.pick(def.batchNorm),
  }
}

function blocksOf(arch: Architecture): Block[] {
  if (arch.genotype?.family !== 'mlp') throw invalid('This architecture was not built from an MLP space')
  return arch.genotype.blocks
}

const FIELDS = ['units', 'activation', 'dropout', 'batchNorm'] as const

/** Changes one field of one block, or adds / removes one block (depth stays in range). */
function mutate(
  def: MlpSpace,
  arch: Architecture,
  rng: Rng,
  inputShape: number[],
  numClasses: number,
): Architecture {
  const blocks = blocksOf(arch).map((b) => ({ ...b }))
  const moves: Array<() => void> = []
  blocks.forEach((b, i) => {
    for (const f of FIELDS) {
      const values = def[f] as readonly unknown[]
      if (values.length > 1) moves.push(() => (blocks[i] = { ...b, [f]: pickOther(rng, values, b[f]) }))
    }
  })
  if (blocks.length < def.maxBlocks)
    moves.push(() => blocks.splice(rng.int(0, blocks.length), 0, drawBlock(def, rng)))
  if (blocks.length > def.minBlocks) moves.push(() => blocks.splice(rng.int(0, blocks.length - 1), 1))
  if (moves.length === 0) return arch
  rng.pick(moves)()
  return buildMlp(blocks, inputShape, numClasses)
}

/** Per block slot: present, scaled units, one-hot activation, scaled dropout, scaled batch norm. */
function encode(def: MlpSpace, arch: Architecture): number[] {
  const blocks = blocksOf(arch)
  const out: number[] = []
  for (let i = 0; i < def.maxBlocks; i++) {
    const b = blocks[i]
    out.push(
      b ? 1 : 0,
      b ? scaled(def.units, b.units) : 0,
      ...oneHot(def.activation, b?.activation),
      b ? scaled(def.dropout, b.dropout) : 0,
      b ? scaled(def.batchNorm, b.batchNorm) : 0,
    )
  }
  return out
}

/** The MLP family (see the module comment). */
export const mlpFamily: SpaceFamily<MlpSpace> = {
  validate,
  size: (def) => {
    const per = def.units.length * def.activation.length * def.dropout.length * def.batchNorm.length
    let total = 0
    for (let d = def.minBlocks; d <= def.maxBlocks; d++) total += per ** d
    return sizeOf(log10GeometricSum(per, def.minBlocks, def.maxBlocks), total)
  },
  sample: (def, rng, inputShape, numClasses) => {
    validate(def)
    const depth = rng.int(def.minBlocks, def.maxBlocks)
    return buildMlp(
      Array.from({ length: depth }, () => drawBlock(def, rng)),
      inputShape,
      numClasses,
    )
  },
  mutate,
  encode,
  encodingLength: (def) => def.maxBlocks * (4 + def.activation.length),
}
