import type { Architecture, ArchNode, ArchOp } from '@shared/domain'
import type { ArchDiff } from './architecture-diff'

/**
 * An architecture diff in plain words for a person: "The right network has one more convolution (64 filters,
 * 5×5)." instead of op counts and "layers: 7 → 9".
 */

const NOUN: Record<ArchOp, [string, string]> = {
  input: ['input', 'inputs'],
  flatten: ['flatten step', 'flatten steps'],
  dense: ['dense layer', 'dense layers'],
  conv2d: ['convolution', 'convolutions'],
  sepConv2d: ['separable convolution', 'separable convolutions'],
  depthwiseConv2d: ['depthwise convolution', 'depthwise convolutions'],
  maxPool2d: ['max pooling', 'max poolings'],
  avgPool2d: ['average pooling', 'average poolings'],
  globalAvgPool: ['global average pooling', 'global average poolings'],
  dropout: ['dropout', 'dropouts'],
  batchNorm: ['batch normalisation', 'batch normalisations'],
  activation: ['activation', 'activations'],
  relu: ['ReLU', 'ReLUs'],
  zeroPad: ['zero padding', 'zero paddings'],
  identity: ['skip connection', 'skip connections'],
  zero: ['cut connection', 'cut connections'],
  add: ['sum of branches', 'sums of branches'],
  concat: ['concatenation of branches', 'concatenations of branches'],
}
const COUNT = ['no', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine', 'ten']
const count = (n: number): string => COUNT[n] ?? String(n)

/** The choices of one op in words: "64 filters, 5×5", "128 units", "3×3", "rate 0.3"; '' when it has none. */
export function opDetails(node: ArchNode): string {
  const parts: string[] = []
  if ('filters' in node) parts.push(`${node.filters} filters`)
  if ('units' in node && node.op === 'dense') parts.push(`${node.units} units`)
  if ('kernelSize' in node) parts.push(`${node.kernelSize}×${node.kernelSize}`)
  if ('poolSize' in node) parts.push(`${node.poolSize}×${node.poolSize}`)
  if ('dilation' in node && node.dilation && node.dilation > 1) parts.push(`dilation ${node.dilation}`)
  if ('strides' in node && node.strides && node.strides > 1) parts.push(`stride ${node.strides}`)
  if (node.op === 'dropout') parts.push(`rate ${node.rate}`)
  if (node.op === 'activation') parts.push(node.activation)
  return parts.join(', ')
}

const byOp = (nodes: ArchNode[]): Map<ArchOp, ArchNode[]> => {
  const out = new Map<ArchOp, ArchNode[]>()
  for (const n of nodes) out.set(n.op, [...(out.get(n.op) ?? []), n])
  return out
}

/** "one more convolution (64 filters, 5×5)" for the nodes of one op that one side has and the other lacks. */
function more(op: ArchOp, list: ArchNode[]): string {
  const details = [...new Set(list.map(opDetails).filter(Boolean))]
  const noun = NOUN[op][list.length === 1 ? 0 : 1]
  return `${count(list.length)} more ${noun}${details.length ? ` (${details.join('; ')})` : ''}`
}

const join = (items: string[]): string =>
  items.length <= 1 ? (items[0] ?? '') : `${items.slice(0, -1).join(', ')} and ${items.at(-1)}`

/** "blocks.1.filters: 32 → 64" as "block 2, filters: 32 → 64". */
export function changeInWords(change: string): string {
  const [path, values] = change.split(/: (.*)/s) as [string, string?]
  const words = path.split('.')
  const named: string[] = []
  for (let i = 0; i < words.length; i++) {
    const word = words[i]!.replace(/([a-z])([A-Z])/g, '$1 $2').toLowerCase()
    const index = words[i + 1]
    // "blocks.1" is the second block: singular noun, counted from 1
    if (index !== undefined && /^\d+$/.test(index)) {
      named.push(`${word.replace(/s$/, '')} ${Number(index) + 1}`)
      i++
    } else named.push(word)
  }
  return `${named.join(', ')}: ${values ?? ''}`.trim()
}

/**
 * Sentences describing `diff` of networks `a` (left) and `b` (right): what each has more of, then how much
 * deeper one is. Empty when they are the same.
 */
export function diffInWords(a: Architecture, b: Architecture, diff: ArchDiff): string[] {
  if (diff.same) return []
  const pick = (arch: Architecture, ids: string[]): ArchNode[] =>
    arch.nodes.filter((n) => ids.includes(n.id) && n.op !== 'input')
  const out: string[] = []
  const sideA = byOp(pick(a, diff.onlyA))
  const sideB = byOp(pick(b, diff.onlyB))
  const moreA: string[] = []
  const moreB: string[] = []
  for (const op of new Set([...sideA.keys(), ...sideB.keys()])) {
    const left = sideA.get(op) ?? []
    const right = sideB.get(op) ?? []
    // an op on both sides with other choices: say what changed, not "one more" twice
    const paired = Math.min(left.length, right.length)
    for (let i = 0; i < paired; i++) {
      const [l, r] = [opDetails(left[i]!), opDetails(right[i]!)]
      if (l !== r)
        out.push(`A ${NOUN[op][0]} differs: ${l || 'plain'} on the left, ${r || 'plain'} on the right.`)
    }
    if (right.length > paired) moreB.push(more(op, right.slice(paired)))
    if (left.length > paired) moreA.push(more(op, left.slice(paired)))
  }
  if (moreB.length) out.push(`The right network has ${join(moreB)}.`)
  if (moreA.length) out.push(`The left network has ${join(moreA)}.`)
  const la = a.nodes.length - 1
  const lb = b.nodes.length - 1
  if (la !== lb)
    out.push(
      `The ${lb > la ? 'right' : 'left'} network is deeper: ${Math.max(la, lb)} steps against ${Math.min(la, lb)}.`,
    )
  return out
}
