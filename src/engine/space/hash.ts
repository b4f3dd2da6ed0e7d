import { createHash } from 'node:crypto'
import type { ArchNode, Architecture, Nb201Op } from '../../shared'
import { nb201CanonicalForm, nb201FromString } from './nb201'
import { inputsByNode, topoOrder } from './shapes'

const sha = (text: string): string => createHash('sha256').update(text).digest('hex')

/** JSON with object keys sorted, so equal values always serialise to the same text. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`
  }
  return JSON.stringify(value)
}

/** The op and its hyperparameters, without id and group. */
function opKey(node: ArchNode): string {
  const { id: _id, group: _group, ...rest } = node
  return canonicalJson(rest)
}

/**
 * Canonical signature of the function a DAG computes, independent of node ids, node order and groups: each
 * node is named by its op and the names of its inputs (Merkle style, so size stays linear). identity passes
 * its input's name through; add is commutative and associative (nested sums flatten, terms are sorted, zero
 * terms dropped); concat is commutative (it only permutes channels, which the next layer absorbs).
 */
export function dagSignature(arch: Architecture): string {
  const ins = inputsByNode(arch)
  const names = new Map<string, string>()
  const zero = new Set<string>()
  const sums = new Map<string, string[]>()
  for (const node of topoOrder(arch)) {
    const from = ins.get(node.id)!.map((i) => names.get(i)!)
    let name: string
    switch (node.op) {
      case 'identity':
        name = from[0]!
        break
      case 'zero':
        name = sha(`zero${node.strides ?? 1}(${from.join(',')})`)
        zero.add(name)
        break
      case 'add': {
        // a sum of sums is one sum: flatten nested adds, drop zeros, sort (commutative, associative)
        const terms = from.filter((f) => !zero.has(f)).flatMap((f) => sums.get(f) ?? [f])
        terms.sort()
        if (terms.length === 0) name = from[0]!
        else if (terms.length === 1) name = terms[0]!
        else {
          name = sha(`add(${terms.join(',')})`)
          sums.set(name, terms)
        }
        break
      }
      case 'concat':
        name = sha(`concat(${[...from].sort().join(',')})`)
        break
      default:
        name = sha(`${opKey(node)}(${from.join(',')})`)
    }
    names.set(node.id, name)
  }
  return names.get(arch.output) ?? sha('empty')
}

/**
 * Stable identity of an architecture (sha256 hex): equal for architectures that compute the same function up
 * to isomorphism. NAS-Bench-201 architectures (with a genotype) hash by the benchmark's canonical cell form
 * (see nb201CanonicalForm) plus their channels and depth; every other architecture by dagSignature.
 */
export function archHash(arch: Architecture): string {
  const g = arch.genotype
  if (g?.family === 'nb201') return nb201Hash(nb201FromString(g.cell), g.channels, g.cellsPerStage)
  return sha(`dag|${dagSignature(arch)}`)
}

/** archHash of the NAS-Bench-201 network of `cell` with C channels and N cells per stage, without building it. */
export function nb201Hash(cell: readonly Nb201Op[], channels: number, cellsPerStage: number): string {
  return sha(`nb201|${nb201CanonicalForm(cell)}|C${channels}|N${cellsPerStage}`)
}
