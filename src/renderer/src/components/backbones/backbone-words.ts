import type { BackboneInfo } from '@shared/backbone'

/** Bytes as a person reads a download's size: "840 KB", "13.6 MB". */
export function formatBytes(bytes: number): string {
  if (bytes < 1000) return `${bytes} bytes`
  if (bytes < 1_000_000) return `${Math.round(bytes / 1000)} KB`
  return `${(bytes / 1_000_000).toFixed(1)} MB`
}

/** Where a backbone came from, in a word for its tag. */
export const SOURCE_WORD: Record<BackboneInfo['source'], string> = {
  catalogue: 'Catalogue',
  file: 'Your model',
  run: 'From a run',
}

/** One line about a backbone: input size, the places it can be cut at, its size on disk. */
export function backboneSummary(b: BackboneInfo): string {
  const cuts = b.cutPoints.length === 1 ? '1 cut point' : `${b.cutPoints.length} cut points`
  return `${b.inputShape.join('×')} input · ${cuts} · ${formatBytes(b.sizeBytes)}`
}
