import { type OpChoice, type SearchSpaceDef, type SequentialSlot, type SequentialSpace } from '@shared/domain'
import type {
  BlockChoices,
  BlockKind,
  DesignEdge,
  DesignGraph,
  DesignNode,
  DesignProblem,
  DrawnBlock,
  FamilyInput,
} from '../design-types'
import { FAMILY_BLOCKS, uniq, uniqSorted } from '../palette'
import { distribute, pathRange } from '../graph-walk'

/** The sequential family on the designer canvas: layers in any order, or in the drawn order (slots). */

const opKey = (o: OpChoice): string => o.op

/** The sequential canvas as a definition (null when it cannot be one; its problems are added to `input`). */
export function sequentialToDef(input: FamilyInput): SearchSpaceDef | null {
  const { graph, order, blocks, live, fromInput, toOutput, counted, problems, opSources } = input
  let def: SearchSpaceDef | null = null
  const ops: OpChoice[] = []
  const push = (key: string, make: () => OpChoice, merge: (into: OpChoice) => void, id: string) => {
    const i = ops.findIndex((o) => opKey(o) === key)
    if (i === -1) {
      ops.push(make())
      opSources.push([id])
    } else {
      merge(ops[i]!)
      opSources[i]!.push(id)
    }
  }
  for (const b of live) {
    const c = b.choices
    if (b.kind === 'conv' || b.kind === 'sepconv') {
      const op = b.kind === 'conv' ? 'conv2d' : 'sepConv2d'
      push(
        op,
        () => ({
          op,
          filters: uniqSorted(c.filters ?? []),
          kernelSize: uniqSorted(c.kernelSize ?? []),
          activation: uniq(c.activation ?? []),
          ...(c.strides && !(c.strides.length === 1 && c.strides[0] === 1)
            ? { strides: uniqSorted(c.strides) }
            : {}),
        }),
        (o) => {
          if (o.op !== 'conv2d' && o.op !== 'sepConv2d') return
          const strides = uniqSorted([...(o.strides ?? [1]), ...(c.strides ?? [1])])
          if (strides.length === 1 && strides[0] === 1) delete o.strides
          else o.strides = strides
          o.filters = uniqSorted([...o.filters, ...(c.filters ?? [])])
          o.kernelSize = uniqSorted([...o.kernelSize, ...(c.kernelSize ?? [])])
          o.activation = uniq([...o.activation, ...(c.activation ?? [])])
        },
        b.id,
      )
    } else if (b.kind === 'pool') {
      for (const t of c.poolType ?? []) {
        const op = t === 'max' ? 'maxPool2d' : 'avgPool2d'
        push(
          op,
          () => ({ op, poolSize: uniqSorted(c.poolSize ?? []) }),
          (o) => {
            if (o.op === 'maxPool2d' || o.op === 'avgPool2d')
              o.poolSize = uniqSorted([...o.poolSize, ...(c.poolSize ?? [])])
          },
          b.id,
        )
      }
    } else if (b.kind === 'dense') {
      push(
        'dense',
        () => ({ op: 'dense', units: uniqSorted(c.units ?? []), activation: uniq(c.activation ?? []) }),
        (o) => {
          if (o.op !== 'dense') return
          o.units = uniqSorted([...o.units, ...(c.units ?? [])])
          o.activation = uniq([...o.activation, ...(c.activation ?? [])])
        },
        b.id,
      )
    } else if (b.kind === 'dropout') {
      push(
        'dropout',
        () => ({ op: 'dropout', rate: uniqSorted(c.rate ?? []) }),
        (o) => {
          if (o.op === 'dropout') o.rate = uniqSorted([...o.rate, ...(c.rate ?? [])])
        },
        b.id,
      )
    } else if (b.kind === 'batchnorm') {
      push(
        'batchNorm',
        () => ({ op: 'batchNorm' }),
        () => {},
        b.id,
      )
    }
  }
  if (graph.ordered) {
    // nothing to order until a path reaches Output (that problem is already reported)
    if (!fromInput.has('output')) return def
    const onPath = new Set(blocks.filter((b) => fromInput.has(b.id) && toOutput.has(b.id)).map((b) => b.id))
    const slotted = orderedSlots(graph, order, onPath, live, problems)
    if (slotted && ops.length) {
      const lo = slotted.reduce((n, s) => n + s.min, 0)
      const hi = slotted.reduce((n, s) => n + s.max, 0)
      if (hi < 1)
        problems.push({ message: 'Every path must keep at least one layer: an edge skips all blocks.' })
      if (hi > 64) problems.push({ message: `At most 64 layers: the blocks' repeats add up to ${hi}.` })
      def = {
        family: 'sequential',
        version: 1,
        minLayers: Math.max(1, lo),
        maxLayers: Math.max(1, hi),
        ops,
        slots: slotted,
      }
    }
    return def
  }
  const range = pathRange(graph, order, counted(FAMILY_BLOCKS.sequential))
  if (range && ops.length) {
    if (range.min < 1)
      problems.push({ message: 'Every path must keep at least one layer: an edge skips all blocks.' })
    const seq: SequentialSpace = {
      family: 'sequential',
      version: 1,
      minLayers: Math.max(1, range.min),
      maxLayers: Math.max(1, range.max),
      ops,
    }
    def = seq
  }
  return def
}

/** The op choices of one sequential block (a pool block with max and avg gives two). */
function opsOfBlock(b: DesignNode): OpChoice[] {
  const c = b.choices
  switch (b.kind) {
    case 'conv':
    case 'sepconv':
      return [
        {
          op: b.kind === 'conv' ? 'conv2d' : 'sepConv2d',
          filters: uniqSorted(c.filters ?? []),
          kernelSize: uniqSorted(c.kernelSize ?? []),
          activation: uniq(c.activation ?? []),
          ...(c.strides && !(c.strides.length === 1 && c.strides[0] === 1)
            ? { strides: uniqSorted(c.strides) }
            : {}),
        },
      ]
    case 'pool':
      return uniq(c.poolType ?? []).map((t) => ({
        op: t === 'max' ? 'maxPool2d' : 'avgPool2d',
        poolSize: uniqSorted(c.poolSize ?? []),
      }))
    case 'dense':
      return [{ op: 'dense', units: uniqSorted(c.units ?? []), activation: uniq(c.activation ?? []) }]
    case 'dropout':
      return [{ op: 'dropout', rate: uniqSorted(c.rate ?? []) }]
    case 'batchnorm':
      return [{ op: 'batchNorm' }]
    default:
      return []
  }
}

/**
 * Ordered sequential canvas -> slots, one per block in chain order. Consecutive blocks (Input and Output
 * included) must be joined by an edge, else the block stands beside another and a problem names it; an edge
 * that jumps from one block to a later one makes the blocks in between optional (min 0).
 */
function orderedSlots(
  graph: DesignGraph,
  order: string[],
  onPath: Set<string>,
  live: DesignNode[],
  problems: DesignProblem[],
): SequentialSlot[] | null {
  // every block on the path counts for the line, also one of a kind the family refuses (it has its own problem)
  const chain = ['input', ...order.filter((id) => onPath.has(id)), 'output']
  const pos = new Map(chain.map((id, i) => [id, i]))
  const has = (a: string, b: string) => graph.edges.some((e) => e.source === a && e.target === b)
  let ok = true
  for (let i = 1; i < chain.length; i++) {
    if (!has(chain[i - 1]!, chain[i]!)) {
      ok = false
      const id = chain[i] === 'output' ? chain[i - 1]! : chain[i]!
      problems.push({
        nodeId: id,
        message:
          'Side by side with another block: layers of a sequential space come one after another, so connect the blocks in one line.',
      })
    }
  }
  if (!ok) return null
  const skipped = new Set<string>()
  for (const e of graph.edges) {
    const a = pos.get(e.source)
    const b = pos.get(e.target)
    if (a === undefined || b === undefined) continue
    for (let i = a + 1; i < b; i++) skipped.add(chain[i]!)
  }
  return live
    .filter((b) => pos.has(b.id))
    .sort((a, b) => pos.get(a.id)! - pos.get(b.id)!)
    .map((b) => ({ ops: opsOfBlock(b), min: skipped.has(b.id) ? 0 : b.repeat.min, max: b.repeat.max }))
}

/** The blocks a sequential definition is drawn with (and the chain's skip edge, if any). */
export function sequentialBlocks(
  def: SequentialSpace,
  graph: DesignGraph,
): { blocks: DrawnBlock[]; skipEdge: DesignEdge | null } {
  const blocks: DrawnBlock[] = []
  const skipEdge: DesignEdge | null = null
  if (def.slots) {
    graph.ordered = true
    for (const slot of def.slots) {
      const pools = slot.ops.filter((o) => o.op === 'maxPool2d' || o.op === 'avgPool2d')
      const rest = slot.ops.filter((o) => o.op !== 'maxPool2d' && o.op !== 'avgPool2d')
      // a slot is one block; a slot of several kinds (hand-written files) becomes one block per kind
      const parts = rest.map(blockOfOp)
      if (pools.length) {
        const sizes = uniqSorted(pools.flatMap((o) => ('poolSize' in o ? o.poolSize : [])))
        const types = pools.map((o) => (o.op === 'maxPool2d' ? 'max' : 'avg')) as Array<'max' | 'avg'>
        parts.push({ kind: 'pool', choices: { poolType: types, poolSize: sizes } })
      }
      for (const p of parts) blocks.push({ ...p, repeat: { min: slot.min, max: slot.max } })
    }
    return { blocks, skipEdge }
  }
  for (const op of def.ops) blocks.push(blockOfOp(op))
  const mins = distribute(def.minLayers, blocks.length)
  const maxs = distribute(def.maxLayers, blocks.length)
  blocks.forEach((b, i) => (b.repeat = { min: mins[i]!, max: maxs[i]! }))
  return { blocks, skipEdge }
}

export function blockOfOp(op: OpChoice): { kind: BlockKind; choices: BlockChoices } {
  switch (op.op) {
    case 'conv2d':
    case 'sepConv2d':
      return {
        kind: op.op === 'conv2d' ? 'conv' : 'sepconv',
        choices: {
          filters: [...op.filters],
          kernelSize: [...op.kernelSize],
          activation: [...op.activation],
          strides: [...(op.strides ?? [1])],
        },
      }
    case 'maxPool2d':
    case 'avgPool2d':
      return {
        kind: 'pool',
        choices: { poolType: [op.op === 'maxPool2d' ? 'max' : 'avg'], poolSize: [...op.poolSize] },
      }
    case 'globalAvgPool':
      return { kind: 'pool', choices: { poolType: ['avg'], poolSize: [2] } }
    case 'dense':
      return { kind: 'dense', choices: { units: [...op.units], activation: [...op.activation] } }
    case 'dropout':
      return { kind: 'dropout', choices: { rate: [...op.rate] } }
    case 'batchNorm':
      return { kind: 'batchnorm', choices: {} }
  }
}
