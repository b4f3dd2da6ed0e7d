import type { Architecture, Nb201Op, Nb201Space } from '../../shared'
import { NB201_OPS, NasError } from '../../shared'
import type { Rng } from '../rng'
import type { SpaceFamily } from './family'
import { oneHot, pickOther, scaled, sizeOf } from './family'
import { GraphBuilder } from './graph-builder'

/**
 * The NAS-Bench-201 family. A cell has nodes 0..3 (0 = cell input, 3 = cell output) and 6 edges j <- i, listed
 * in the benchmark's order 1<-0, 2<-0, 2<-1, 3<-0, 3<-1, 3<-2; a cell is the 6 ops on those edges. Node j is
 * the sum of op(node i) over its incoming edges. The network follows the benchmark: conv3x3-BN stem with C
 * channels, 3 stages of N cells (C, 2C, 4C channels) joined by residual reduction blocks, BN-ReLU, global
 * average pooling and a softmax classifier.
 */

/** The 6 edges as [to, from], in the benchmark's order. */
export const NB201_EDGES: ReadonlyArray<readonly [number, number]> = [
  [1, 0],
  [2, 0],
  [2, 1],
  [3, 0],
  [3, 1],
  [3, 2],
]

function invalid(message: string): NasError {
  return new NasError('invalid_space', message)
}

/** The benchmark's canonical string of a cell, e.g. `|nor_conv_3x3~0|+|none~0|skip_connect~1|+|...~2|`. */
export function nb201ToString(cell: readonly Nb201Op[]): string {
  if (cell.length !== 6) throw invalid(`A NAS-Bench-201 cell has 6 edges, got ${cell.length}`)
  const nodes = [1, 2, 3].map((to) =>
    NB201_EDGES.map(([t, f], k) => (t === to ? `${cell[k]}~${f}` : null))
      .filter((x) => x !== null)
      .join('|'),
  )
  return nodes.map((n) => `|${n}|`).join('+')
}

/**
 * Parses the benchmark's canonical string into the 6 edge ops (benchmark edge order). Strict: exactly 3 node
 * groups joined by '+', node j listing `op~0` ... `op~(j-1)` in order, each op one of NB201_OPS; the error
 * names the part that is wrong.
 */
export function nb201FromString(text: string): Nb201Op[] {
  const groups = text.split('+')
  if (groups.length !== 3) {
    throw invalid(
      `NAS-Bench-201 string "${text}" must have 3 node groups joined by '+', found ${groups.length}`,
    )
  }
  const ops: Nb201Op[] = []
  groups.forEach((group, g) => {
    const node = g + 1
    if (!group.startsWith('|') || !group.endsWith('|') || group.length < 2) {
      throw invalid(`NAS-Bench-201 node ${node} group "${group}" must start and end with '|'`)
    }
    const entries = group.slice(1, -1).split('|')
    if (entries.length !== node) {
      throw invalid(`NAS-Bench-201 node ${node} needs ${node} inputs, "${group}" has ${entries.length}`)
    }
    entries.forEach((entry, from) => {
      const [op, src, ...rest] = entry.split('~')
      if (rest.length > 0 || src !== String(from)) {
        throw invalid(`NAS-Bench-201 node ${node} entry "${entry}" must be op~${from}`)
      }
      if (!(NB201_OPS as readonly string[]).includes(op!)) {
        throw invalid(
          `NAS-Bench-201 node ${node} entry "${entry}": unknown op '${op}' (use ${NB201_OPS.join(', ')})`,
        )
      }
      ops.push(op as Nb201Op)
    })
  })
  // the string lists edges grouped by target node, which is exactly the benchmark edge order
  return ops
}

/**
 * How nb201CanonicalForm identifies cells. 'functional' (the default, used by archHash): two cells are the same
 * when they compute the same sum of op-chains, applying op(0) = 0, x + 0 = x, and the commutativity and
 * associativity of the sums (node permutations and dead edges vanish): 4,930 classes among the 15,625 cells.
 * 'nb201': exactly NAS-Bench-201's `CellStructure.to_unique_str(consider_zero=True)`, the definition behind the
 * benchmark's "6,466 unique cells" (zero terms kept as '#', nested sums not flattened).
 */
export type Nb201Equivalence = 'functional' | 'nb201'

/**
 * Canonical form of the function a cell computes (ops in benchmark edge order), so isomorphic cells get the
 * same string; see Nb201Equivalence. Node 0 is '0'; an edge is nothing / '#' for none or a zero source, its
 * source for skip_connect, else '(source)@op'; a node is its terms sorted and joined by '+'.
 */
export function nb201CanonicalForm(cell: readonly Nb201Op[], mode: Nb201Equivalence = 'functional'): string {
  if (mode === 'nb201') {
    const form: string[] = ['0']
    for (const to of [1, 2, 3]) {
      const terms: string[] = []
      NB201_EDGES.forEach(([t, f], k) => {
        if (t !== to) return
        const op = cell[k]!
        if (op === 'none' || form[f] === '#') terms.push('#')
        else terms.push(op === 'skip_connect' ? form[f]! : `(${form[f]})@${op}`)
      })
      form[to] = terms.sort().join('+')
    }
    return form[3]!
  }
  // each node is a multiset of atoms (an op applied to a node's sum, or the cell input); empty = zero
  const atoms: string[][] = [['0']]
  for (const to of [1, 2, 3]) {
    const sum: string[] = []
    NB201_EDGES.forEach(([t, f], k) => {
      const src = atoms[f]!
      const op = cell[k]!
      if (t !== to || op === 'none' || src.length === 0) return
      if (op === 'skip_connect') sum.push(...src)
      else sum.push(`(${src.join('+')})@${op}`)
    })
    atoms[to] = sum.sort()
  }
  return atoms[3]!.join('+') || '#'
}

function validate(def: Nb201Space, inputShape?: number[]): void {
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
    throw invalid(`The NAS-Bench-201 space needs image data [height, width, channels], got [${inputShape}]`)
  }
}

/** Builds the network of a cell (ops in benchmark edge order) with C channels and N cells per stage. */
export function buildNb201(
  cell: readonly Nb201Op[],
  channels: number,
  cellsPerStage: number,
  inputShape: number[],
  numClasses: number,
): Architecture {
  const g = new GraphBuilder(inputShape)
  g.openGroup('stem', 'stem')
  let x = g.chain(g.input, [
    { op: 'conv2d', filters: channels, kernelSize: 3, activation: 'linear', useBias: false },
    { op: 'batchNorm' },
  ])
  let c = channels
  let index = 0
  for (let stage = 0; stage < 3; stage++) {
    if (stage > 0) {
      c *= 2
      g.openGroup(`residual reduction ${stage}`, 'reduction')
      const a = g.reluConvBn(x, c, 3, 2)
      const b = g.reluConvBn(a, c, 3, 1)
      const shortcut = g.chain(x, [
        { op: 'avgPool2d', poolSize: 2, strides: 2, padding: 'same' },
        { op: 'conv2d', filters: c, kernelSize: 1, activation: 'linear', useBias: false },
      ])
      x = g.add({ op: 'add' }, [b, shortcut])
    }
    for (let k = 0; k < cellsPerStage; k++) {
      g.openGroup(`cell ${++index}`, 'cell')
      const nodes: Array<string | null> = [x]
      for (const to of [1, 2, 3]) {
        const terms: string[] = []
        NB201_EDGES.forEach(([t, f], e) => {
          const src = nodes[f]
          const op = cell[e]!
          if (t !== to || src === null || src === undefined || op === 'none') return
          if (op === 'skip_connect') terms.push(src)
          else if (op === 'avg_pool_3x3')
            terms.push(g.add({ op: 'avgPool2d', poolSize: 3, strides: 1, padding: 'same' }, [src]))
          else terms.push(g.reluConvBn(src, c, op === 'nor_conv_1x1' ? 1 : 3))
        })
        nodes[to] = g.sum(terms)
      }
      x = nodes[3] ?? g.add({ op: 'zero' }, [x])
    }
  }
  g.openGroup('classifier', 'head')
  const out = g.chain(x, [
    { op: 'batchNorm' },
    { op: 'activation', activation: 'relu' },
    { op: 'globalAvgPool' },
    { op: 'dense', units: numClasses, activation: 'softmax' },
  ])
  return g.finish(out, { family: 'nb201', cell: nb201ToString(cell), channels, cellsPerStage })
}

function sample(def: Nb201Space, rng: Rng, inputShape: number[], numClasses: number): Architecture {
  validate(def, inputShape)
  const cell = NB201_EDGES.map(() => rng.pick(def.ops))
  return buildNb201(cell, rng.pick(def.channels), rng.pick(def.cellsPerStage), inputShape, numClasses)
}

function genotypeOf(arch: Architecture): { cell: Nb201Op[]; channels: number; cellsPerStage: number } {
  const g = arch.genotype
  if (g?.family !== 'nb201') throw invalid('This architecture was not built from a NAS-Bench-201 space')
  return { cell: nb201FromString(g.cell), channels: g.channels, cellsPerStage: g.cellsPerStage }
}

/** Changes one edge op (or C or N when they have several values), chosen uniformly among the choice points. */
function mutate(
  def: Nb201Space,
  arch: Architecture,
  rng: Rng,
  inputShape: number[],
  numClasses: number,
): Architecture {
  const { cell, channels, cellsPerStage } = genotypeOf(arch)
  const points = [
    ...(def.ops.length > 1 ? NB201_EDGES.map((_, e) => e) : []),
    ...(def.channels.length > 1 ? [6] : []),
    ...(def.cellsPerStage.length > 1 ? [7] : []),
  ]
  if (points.length === 0) return arch
  const point = rng.pick(points)
  const next = [...cell]
  let c = channels
  let n = cellsPerStage
  if (point < 6) next[point] = pickOther(rng, def.ops, cell[point]!)
  else if (point === 6) c = pickOther(rng, def.channels, channels)
  else n = pickOther(rng, def.cellsPerStage, cellsPerStage)
  return buildNb201(next, c, n, inputShape, numClasses)
}

function encode(def: Nb201Space, arch: Architecture): number[] {
  const { cell, channels, cellsPerStage } = genotypeOf(arch)
  return encodeNb201(def, cell, channels, cellsPerStage)
}

/**
 * encodeArchitecture of the network of `cell` with C channels and N cells per stage, without building it: the
 * one-hot of each edge's op (6 x |ops|), then the scaled C and N choices.
 */
export function encodeNb201(
  def: Nb201Space,
  cell: readonly Nb201Op[],
  channels: number,
  cellsPerStage: number,
): number[] {
  return [
    ...cell.flatMap((op) => oneHot(def.ops, op)),
    scaled(def.channels, channels),
    scaled(def.cellsPerStage, cellsPerStage),
  ]
}

/** The NAS-Bench-201 family (see the module comment). */
export const nb201Family: SpaceFamily<Nb201Space> = {
  validate,
  size: (def) => {
    const count = def.ops.length ** 6 * def.channels.length * def.cellsPerStage.length
    return sizeOf(Math.log10(count), count)
  },
  sample,
  mutate,
  encode,
  encodingLength: (def) => 6 * def.ops.length + 2,
}
