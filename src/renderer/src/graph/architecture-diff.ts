import type { Architecture, Genotype } from '@shared/domain'
import { nodeLabel } from './architecture-elements'

/** What differs between two architectures: nodes of each side with no counterpart, and changed choices. */
export interface ArchDiff {
  onlyA: string[]
  onlyB: string[]
  /** Changed genotype choices in words, e.g. "blocks.1.filters: 32 → 64". */
  changes: string[]
  same: boolean
}

/**
 * Matches the two graphs' ops in build order by their labels (longest common subsequence), so an op that
 * was added, removed or changed shows up on its side; genotype fields (when both have one) are compared by
 * path. Pure; O(n·m) in the node counts.
 */
export function diffArchitectures(a: Architecture, b: Architecture): ArchDiff {
  const la = a.nodes.map(nodeLabel)
  const lb = b.nodes.map(nodeLabel)
  const n = la.length
  const m = lb.length
  const table: Uint16Array[] = Array.from({ length: n + 1 }, () => new Uint16Array(m + 1))
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      table[i]![j] =
        la[i] === lb[j] ? table[i + 1]![j + 1]! + 1 : Math.max(table[i + 1]![j]!, table[i]![j + 1]!)
    }
  }
  const keptA = new Set<number>()
  const keptB = new Set<number>()
  let i = 0
  let j = 0
  while (i < n && j < m) {
    if (la[i] === lb[j]) {
      keptA.add(i++)
      keptB.add(j++)
    } else if (table[i + 1]![j]! >= table[i]![j + 1]!) i++
    else j++
  }
  const onlyA = a.nodes.filter((_, k) => !keptA.has(k)).map((x) => x.id)
  const onlyB = b.nodes.filter((_, k) => !keptB.has(k)).map((x) => x.id)
  const changes = a.genotype && b.genotype ? genotypeChanges(a.genotype, b.genotype) : []
  if (!a.genotype || !b.genotype) {
    if (n !== m) changes.push(`layers: ${n} → ${m}`)
  }
  return { onlyA, onlyB, changes, same: onlyA.length === 0 && onlyB.length === 0 && changes.length === 0 }
}

/** Flattens a JSON value to "path: value" pairs. */
export function flatten(
  value: unknown,
  prefix = '',
  out: Record<string, string> = {},
): Record<string, string> {
  if (Array.isArray(value)) value.forEach((v, i) => flatten(v, prefix ? `${prefix}.${i}` : String(i), out))
  else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) flatten(v, prefix ? `${prefix}.${k}` : k, out)
  } else out[prefix] = String(value)
  return out
}

function genotypeChanges(a: Genotype, b: Genotype): string[] {
  const fa = flatten(a)
  const fb = flatten(b)
  const keys = [...new Set([...Object.keys(fa), ...Object.keys(fb)])]
  return keys
    .filter((k) => k !== 'family' && fa[k] !== fb[k])
    .map((k) => `${k}: ${fa[k] ?? '—'} → ${fb[k] ?? '—'}`)
}
