import type { Architecture, CellOp, CellSpace, Genotype } from '../../shared'
import { NasError } from '../../shared'
import type { Rng } from '../rng'
import type { SpaceFamily } from './family'
import { oneHot, pickOther, scaled, sizeOf } from './family'
import { GraphBuilder } from './graph-builder'

/**
 * The cell-based family (NASNet / DARTS). Stem: conv3x3-BN with stemMultiplier x C channels. Then `stages`
 * stages of N normal cells, a reduction cell (stride 2, channels x2) before every stage but the first. A cell
 * takes the outputs of the two previous cells, preprocesses each with ReLU-conv1x1-BN to C channels (stride 2
 * for the older one when it is larger: a simplified factorized reduce), and computes its intermediate nodes:
 * each sums its 2 edges, an edge being one op on one earlier state. In a reduction cell, ops reading the cell
 * inputs have stride 2. DARTS ops are expanded into primitives: sep_conv_kxk = (ReLU, depthwise kxk, 1x1, BN)
 * twice; dil_conv_kxk = ReLU, depthwise kxk dilation 2, 1x1, BN; conv_kxk = ReLU, conv, BN; pools are 3x3
 * 'same'; skip_connect is the input itself (ReLU-conv1x1-BN with stride 2 in a reduction); none drops the edge
 * (a node whose edges are all none or read zeros is zero and left out of the output). The cell output
 * concatenates the intermediate nodes (all, or those no other node reads). Head: global average pooling and
 * a softmax classifier.
 */

type CellGenotype = Extract<Genotype, { family: 'cell' }>
type NodeGene = CellGenotype['normal'][number]

function invalid(message: string): NasError {
  return new NasError('invalid_space', message)
}

function validate(def: CellSpace, inputShape?: number[]): void {
  const seen = new Set<string>()
  def.ops.forEach((op, i) => {
    if (seen.has(op)) throw invalid(`Search space is invalid at ops.${i}: op '${op}' is listed twice`)
    seen.add(op)
  })
  if (def.ops.every((o) => o === 'none')) {
    throw invalid(
      "Search space is invalid at ops: only 'none' means every cell outputs zeros; add another op",
    )
  }
  if (inputShape !== undefined && inputShape.length !== 3) {
    throw invalid(`The cell space needs image data [height, width, channels], got [${inputShape}]`)
  }
}

function applyOp(g: GraphBuilder, op: CellOp, src: string, c: number, s: number): string | null {
  const sep = (k: number): string =>
    g.chain(src, [
      { op: 'activation', activation: 'relu' },
      { op: 'depthwiseConv2d', kernelSize: k, strides: s, activation: 'linear', useBias: false },
      { op: 'conv2d', filters: c, kernelSize: 1, activation: 'linear', useBias: false },
      { op: 'batchNorm' },
      { op: 'activation', activation: 'relu' },
      { op: 'depthwiseConv2d', kernelSize: k, activation: 'linear', useBias: false },
      { op: 'conv2d', filters: c, kernelSize: 1, activation: 'linear', useBias: false },
      { op: 'batchNorm' },
    ])
  const dil = (k: number): string =>
    g.chain(src, [
      { op: 'activation', activation: 'relu' },
      { op: 'depthwiseConv2d', kernelSize: k, strides: s, dilation: 2, activation: 'linear', useBias: false },
      { op: 'conv2d', filters: c, kernelSize: 1, activation: 'linear', useBias: false },
      { op: 'batchNorm' },
    ])
  switch (op) {
    case 'none':
      return null
    case 'skip_connect':
      return s === 1 ? src : g.reluConvBn(src, c, 1, s)
    case 'sep_conv_3x3':
      return sep(3)
    case 'sep_conv_5x5':
      return sep(5)
    case 'sep_conv_7x7':
      return sep(7)
    case 'dil_conv_3x3':
      return dil(3)
    case 'dil_conv_5x5':
      return dil(5)
    case 'max_pool_3x3':
      return g.add({ op: 'maxPool2d', poolSize: 3, strides: s, padding: 'same' }, [src])
    case 'avg_pool_3x3':
      return g.add({ op: 'avgPool2d', poolSize: 3, strides: s, padding: 'same' }, [src])
    case 'conv_1x1':
      return g.reluConvBn(src, c, 1, s)
    case 'conv_3x3':
      return g.reluConvBn(src, c, 3, s)
  }
}

/** Builds the network of a cell genotype for the macro settings of `def`. */
export function buildCells(
  def: CellSpace,
  geno: CellGenotype,
  inputShape: number[],
  numClasses: number,
): Architecture {
  const g = new GraphBuilder(inputShape)
  g.openGroup('stem', 'stem')
  const stem = g.chain(g.input, [
    {
      op: 'conv2d',
      filters: def.stemMultiplier * geno.channels,
      kernelSize: 3,
      activation: 'linear',
      useBias: false,
    },
    { op: 'batchNorm' },
  ])
  let s0 = stem
  let s1 = stem
  let c = geno.channels
  let index = 0
  const cell = (reduction: boolean): void => {
    const genes = reduction ? geno.reduce : geno.normal
    g.openGroup(`${reduction ? 'reduction' : 'normal'} cell ${++index}`, reduction ? 'reduction' : 'normal')
    const larger = g.shape(s0)[0]! !== g.shape(s1)[0]! || g.shape(s0)[1]! !== g.shape(s1)[1]!
    const states: Array<string | null> = [g.reluConvBn(s0, c, 1, larger ? 2 : 1), g.reluConvBn(s1, c, 1)]
    for (const gene of genes) {
      const terms: string[] = []
      gene.inputs.forEach((from, e) => {
        const src = states[from]
        if (src === null || src === undefined) return
        const term = applyOp(g, gene.ops[e]!, src, c, reduction && from < 2 ? 2 : 1)
        if (term !== null) terms.push(term)
      })
      states.push(g.sum(terms))
    }
    const read = new Set(genes.flatMap((gene) => gene.inputs))
    const outs = states
      .map((s, i) => (i >= 2 && (def.concat === 'all' || !read.has(i)) ? s : null))
      .filter((s): s is string => s !== null)
    const out =
      outs.length > 0 ? g.concat(outs) : g.add({ op: 'zero', strides: reduction ? 2 : 1 }, [states[1]!])
    s0 = s1
    s1 = out
  }
  for (let stage = 0; stage < def.stages; stage++) {
    if (stage > 0) {
      c *= 2
      cell(true)
    }
    for (let k = 0; k < geno.cellsPerStage; k++) cell(false)
  }
  g.openGroup('classifier', 'head')
  const out = g.chain(s1, [
    { op: 'globalAvgPool' },
    { op: 'dense', units: numClasses, activation: 'softmax' },
  ])
  return g.finish(out, geno)
}

function drawCell(def: CellSpace, rng: Rng): NodeGene[] {
  return Array.from({ length: def.nodes }, (_, i) => ({
    inputs: [rng.int(0, i + 1), rng.int(0, i + 1)] as [number, number],
    ops: [rng.pick(def.ops), rng.pick(def.ops)] as [CellOp, CellOp],
  }))
}

function genotypeOf(def: CellSpace, arch: Architecture): CellGenotype {
  const g = arch.genotype
  if (g?.family !== 'cell') throw invalid('This architecture was not built from a cell space')
  if (g.normal.length !== def.nodes || g.reduce.length !== def.nodes) {
    throw invalid(`This architecture's cells have ${g.normal.length} nodes; the space has ${def.nodes}`)
  }
  return g
}

/** One choice changed: an edge's input or op in the normal or reduction cell, C or N. */
function mutate(
  def: CellSpace,
  arch: Architecture,
  rng: Rng,
  inputShape: number[],
  numClasses: number,
): Architecture {
  const geno = structuredClone(genotypeOf(def, arch))
  const moves: Array<() => void> = []
  for (const genes of def.stages > 1 ? [geno.normal, geno.reduce] : [geno.normal]) {
    genes.forEach((gene, i) => {
      for (const e of [0, 1] as const) {
        moves.push(() => {
          gene.inputs[e] = pickOther(
            rng,
            Array.from({ length: i + 2 }, (_, k) => k),
            gene.inputs[e],
          )
        })
        if (def.ops.length > 1) moves.push(() => (gene.ops[e] = pickOther(rng, def.ops, gene.ops[e])))
      }
    })
  }
  if (def.initChannels.length > 1)
    moves.push(() => (geno.channels = pickOther(rng, def.initChannels, geno.channels)))
  if (def.cellsPerStage.length > 1) {
    moves.push(() => (geno.cellsPerStage = pickOther(rng, def.cellsPerStage, geno.cellsPerStage)))
  }
  rng.pick(moves)()
  return buildCells(def, geno, inputShape, numClasses)
}

/** For both cells, every node, both edges: one-hot input (B + 1 slots) and one-hot op; then scaled C and N. */
function encode(def: CellSpace, arch: Architecture): number[] {
  const geno = genotypeOf(def, arch)
  const inputs = Array.from({ length: def.nodes + 1 }, (_, k) => k)
  const out: number[] = []
  for (const genes of [geno.normal, geno.reduce]) {
    for (const gene of genes) {
      for (const e of [0, 1] as const)
        out.push(...oneHot(inputs, gene.inputs[e]), ...oneHot(def.ops, gene.ops[e]))
    }
  }
  out.push(scaled(def.initChannels, geno.channels), scaled(def.cellsPerStage, geno.cellsPerStage))
  return out
}

function size(def: CellSpace): { count: number; log10: number } {
  let perCellLog = 0
  for (let i = 0; i < def.nodes; i++) perCellLog += 2 * Math.log10((i + 2) * def.ops.length)
  const cells = def.stages > 1 ? 2 : 1
  const log10 = cells * perCellLog + Math.log10(def.initChannels.length * def.cellsPerStage.length)
  let exact = def.initChannels.length * def.cellsPerStage.length
  for (let k = 0; k < cells; k++) for (let i = 0; i < def.nodes; i++) exact *= ((i + 2) * def.ops.length) ** 2
  return sizeOf(log10, exact <= Number.MAX_SAFE_INTEGER ? exact : undefined)
}

/** The cell family (see the module comment). */
export const cellFamily: SpaceFamily<CellSpace> = {
  validate,
  size,
  sample: (def, rng, inputShape, numClasses) => {
    validate(def, inputShape)
    const geno: CellGenotype = {
      family: 'cell',
      channels: rng.pick(def.initChannels),
      cellsPerStage: rng.pick(def.cellsPerStage),
      normal: drawCell(def, rng),
      reduce: drawCell(def, rng),
    }
    return buildCells(def, geno, inputShape, numClasses)
  },
  mutate,
  encode,
  encodingLength: (def) => 2 * def.nodes * 2 * (def.nodes + 1 + def.ops.length) + 2,
}
