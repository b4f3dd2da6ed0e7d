import type { ColumnEncoding } from './column-encoding'
import type { DatasetImportOptions } from '../../shared'
import { NasError } from '../../shared'
import type { IssueList } from './check'

/**
 * What every dataset reader (image folder, CSV, IDX) gives the importer: a cheap first step that fingerprints
 * the source (its key decides whether the cache already holds the decoded data) and a `decode` for a miss.
 */

/** Progress of one import: a phase for people, and units done of total (0 = unknown). */
export type ProgressFn = (phase: string, done: number, total: number) => void

/** Cancellation and progress, passed to every reader step. */
export interface ReaderContext {
  signal?: AbortSignal
  progress: ProgressFn
}

/** A source decoded into arrays, with the findings of the check so far. */
export interface DecodedSource {
  x: Uint8Array | Float32Array
  y: Int32Array
  /** Split code per sample (cache.ts SPLIT_*), or 255 for samples the importer should split. */
  split: Uint8Array
  sampleShape: number[]
  dtype: 'uint8' | 'float32'
  classNames: string[]
  featureNames: string[]
  /** How a table's raw columns became the features (in feature order); absent for images. */
  columns?: ColumnEncoding[]
  /** A table's decimal separator; absent for images. */
  decimalSeparator?: '.' | ','
  /** Whether the source came with its own split (then `split` has no 255). */
  fixedSplit: boolean
  issues: IssueList
  skipped: number
  /** Content key per sample to find duplicates, or null to skip that check. */
  sampleKeys: string[] | null
  /** A sample's name for messages (a file, a row). */
  names: (i: number) => string
}

/** A fingerprinted source, ready to decode. */
export interface PreparedSource {
  /** sha256 hex over the source's bytes (and nothing else; the importer adds the options). */
  sourceHash: string
  /** Suggested dataset name. */
  name: string
  decode(ctx: ReaderContext): Promise<DecodedSource>
}

/** A reader: fingerprints `source` (a path) for these options. */
export type Reader = (
  source: string,
  options: DatasetImportOptions,
  ctx: ReaderContext,
) => Promise<PreparedSource>

/** Throws NasError('cancelled') when the import was cancelled. */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new NasError('cancelled', 'The import was cancelled')
}

/**
 * Runs `fn` over `items` with at most `limit` in flight, checking `signal` between items; resolves when all
 * are done. Results are stored by the callee (index given), so order does not matter.
 */
export async function forEachLimit<T>(
  items: readonly T[],
  limit: number,
  signal: AbortSignal | undefined,
  fn: (item: T, index: number) => Promise<void>,
): Promise<void> {
  let next = 0
  const worker = async (): Promise<void> => {
    for (;;) {
      throwIfAborted(signal)
      const i = next++
      if (i >= items.length) return
      await fn(items[i]!, i)
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker))
}

/** A short printable excerpt of bytes that look like text, or null when they do not. */
export function textExcerpt(bytes: Uint8Array): string | null {
  const head = bytes.subarray(0, 64)
  if (head.length === 0) return null
  let printable = 0
  for (const b of head) if ((b >= 0x20 && b < 0x7f) || b === 0x09 || b === 0x0a || b === 0x0d) printable++
  if (printable / head.length < 0.9) return null
  const text = Buffer.from(head).toString('latin1').replace(/\s+/g, ' ').trim()
  return text.length > 24 ? `${text.slice(0, 24)}…` : text
}
