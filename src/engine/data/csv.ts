import { createHash } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import path from 'node:path'
import { parse } from 'csv-parse/sync'
import type { DatasetImportOptions } from '../../shared'
import { NasError } from '../../shared'
import { SPLIT_TRAIN } from './split-codes'
import { assignStratifiedTest, IssueList } from './check'
import type { ColumnEncoding } from './column-encoding'
import type { DecodedSource, PreparedSource, ReaderContext } from './reader'

/**
 * CSV reader: detects the text encoding (UTF-8, UTF-16 with a BOM, else Windows-1252 with a warning), the
 * delimiter (, ; tab |) and whether the first row is a header; skips ragged rows and rows without a label;
 * encodes numeric columns (missing values filled with the training mean, then standardised with training
 * statistics) and text columns (one-hot over their most frequent values); leaves out constant and ID-like
 * columns. The test split is made here (stratified, seeded) so no test row informs the statistics.
 */

/** Cells read as missing (case-insensitive, trimmed). */
export const MISSING_CELLS: readonly string[] = ['', 'na', 'n/a', 'nan', 'null', 'none', '?', '-', '#n/a']
const MISSING = new Set(MISSING_CELLS)
/** A text column with more distinct values than this (and than half its rows) looks like an ID or free text. */
const MAX_CATEGORIES = 50
/** More classes than this is not a classification label. */
const MAX_CLASSES = 1000

const isMissing = (cell: string): boolean => MISSING.has(cell.trim().toLowerCase())

/** Fingerprints a CSV file (its bytes). */
export async function prepareCsv(
  file: string,
  options: DatasetImportOptions,
  _ctx: ReaderContext,
): Promise<PreparedSource> {
  let bytes: Buffer
  try {
    bytes = await readFile(file)
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    throw new NasError(
      'dataset_error',
      `Cannot open ${file}: ${code === 'ENOENT' ? 'the file does not exist' : `it cannot be read (${code ?? String(err)})`}`,
    )
  }
  const base = path.basename(file)
  if (bytes.length === 0)
    throw new NasError('dataset_error', `${base} is empty (0 bytes): there is no table to import`)
  return {
    sourceHash: createHash('sha256').update(bytes).digest('hex'),
    name: base.replace(/\.(csv|tsv|txt)$/i, ''),
    decode: async (ctx) => decodeCsv(bytes, base, options, ctx),
  }
}

/** Decodes the bytes to text, reporting a non-UTF-8 file with the line of its first bad byte. */
export function decodeText(bytes: Uint8Array, base: string, issues: IssueList): string {
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) bytes = bytes.subarray(3)
  else if (bytes[0] === 0xff && bytes[1] === 0xfe)
    return new TextDecoder('utf-16le').decode(bytes.subarray(2))
  else if (bytes[0] === 0xfe && bytes[1] === 0xff)
    return new TextDecoder('utf-16be').decode(bytes.subarray(2))
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes)
  } catch {
    let line = 1
    let start = 0
    const strict = new TextDecoder('utf-8', { fatal: true })
    for (let i = 0; i <= bytes.length; i++) {
      if (i === bytes.length || bytes[i] === 0x0a) {
        try {
          strict.decode(bytes.subarray(start, i))
        } catch {
          break
        }
        line++
        start = i + 1
      }
    }
    issues.warn(
      'encoding',
      `${base} is not UTF-8 text (first invalid byte on line ${line}); it was read as Windows-1252 (Latin-1). Check accented letters, or save the file as UTF-8`,
      { file: base, row: line },
    )
    return new TextDecoder('windows-1252').decode(bytes)
  }
}

function detectDelimiter(text: string): string {
  const firstLine =
    text
      .slice(0, 10_000)
      .split(/\r?\n/)
      .find((l) => l.trim() !== '') ?? ''
  let best = ','
  let bestCount = 0
  for (const d of [',', ';', '\t', '|']) {
    const n = firstLine.split(d).length - 1
    if (n > bestCount) {
      best = d
      bestCount = n
    }
  }
  return best
}

function toNumber(cell: string, decimalComma: boolean): number {
  const t = cell.trim()
  if (t === '') return NaN
  return Number(decimalComma ? t.replace(',', '.') : t)
}

function looksLikeHeader(rows: string[][], decimalComma: boolean): boolean {
  const first = rows[0]!
  if (first.some((c) => c.trim() === '' || Number.isFinite(toNumber(c, decimalComma)))) return false
  const sample = rows.slice(1, 51)
  if (sample.length === 0) return true
  for (let j = 0; j < first.length; j++) {
    const numeric = sample.filter((r) => Number.isFinite(toNumber(r[j] ?? '', decimalComma))).length
    if (numeric >= 0.8 * sample.length) return true
  }
  // all-text tables: a header's values do not reappear in their own columns
  return first.every((c, j) => !sample.some((r) => r[j] === c))
}

interface Record {
  cells: string[]
  line: number
}

function decodeCsv(
  bytes: Buffer,
  base: string,
  options: DatasetImportOptions,
  ctx: ReaderContext,
): DecodedSource {
  const issues = new IssueList()
  ctx.progress('Reading the table', 0, 0)
  const text = decodeText(bytes, base, issues)
  const delimiter = detectDelimiter(text)
  const decimalComma = delimiter === ';'
  let parsed: Array<{ record: string[]; info: { lines: number } }>
  try {
    parsed = parse(text, {
      delimiter,
      relax_column_count: true,
      relax_quotes: true,
      skip_empty_lines: true,
      info: true,
    }) as unknown as Array<{ record: string[]; info: { lines: number } }>
  } catch (err) {
    const e = err as Error & { lines?: number }
    throw new NasError(
      'dataset_error',
      `${base} cannot be read as CSV${e.lines ? ` (line ${e.lines})` : ''}: ${e.message}`,
    )
  }
  const all: Record[] = parsed.map((p) => ({ cells: p.record.map((c) => c.trim()), line: p.info.lines }))
  if (all.length === 0) throw new NasError('dataset_error', `${base} has no rows`)
  const hasHeader = looksLikeHeader(
    all.map((r) => r.cells),
    decimalComma,
  )
  let width: number
  let columns: string[]
  if (hasHeader) {
    columns = all[0]!.cells
    width = columns.length
  } else {
    const lengths = new Map<number, number>()
    for (const r of all.slice(0, 200)) lengths.set(r.cells.length, (lengths.get(r.cells.length) ?? 0) + 1)
    width = [...lengths.entries()].sort((a, b) => b[1] - a[1])[0]![0]
    columns = Array.from({ length: width }, (_, j) => `column ${j + 1}`)
    issues.info(
      'no-header',
      `${base} has no header row (its first row holds data); columns are named "column 1" to "column ${width}"`,
      { file: base },
    )
  }
  const body = hasHeader ? all.slice(1) : all
  const delimName = delimiter === '\t' ? 'tab' : `"${delimiter}"`
  const rows: Record[] = []
  let skipped = 0
  for (const r of body) {
    if (r.cells.length !== width) {
      skipped++
      issues.error(
        'ragged-row',
        `Row ${r.line} of ${base} has ${r.cells.length} column${r.cells.length === 1 ? '' : 's'}, expected ${width} (separator ${delimName}); skipped`,
        { file: base, row: r.line },
      )
    } else rows.push(r)
  }
  const labelIndex = resolveLabelColumn(options.labelColumn, columns, base)
  const labelName = columns[labelIndex]!
  const labelled: Record[] = []
  for (const r of rows) {
    if (isMissing(r.cells[labelIndex]!)) {
      skipped++
      issues.error(
        'missing-label',
        `Row ${r.line} of ${base} has no value in the label column "${labelName}"; skipped`,
        { file: base, row: r.line },
      )
    } else labelled.push(r)
  }
  if (labelled.length === 0)
    throw new NasError('dataset_error', `${base} has no usable rows with a label in column "${labelName}"`)
  ctx.progress('Encoding columns', 0, labelled.length)

  // labels
  const labels = labelled.map((r) => r.cells[labelIndex]!)
  const distinct = [...new Set(labels)]
  const allNumeric = distinct.every((v) => Number.isFinite(toNumber(v, decimalComma)))
  distinct.sort(
    allNumeric
      ? (a, b) => toNumber(a, decimalComma) - toNumber(b, decimalComma)
      : (a, b) => a.localeCompare(b, 'en', { numeric: true }),
  )
  if (distinct.length < 2) {
    throw new NasError(
      'dataset_error',
      `The label column "${labelName}" of ${base} has only one value ("${distinct[0]}") in all ${labelled.length} rows; a classifier needs at least 2 classes. Choose another label column (columns: ${columns.join(', ')})`,
      { kind: 'single-class', file: base },
    )
  }
  const idLike = distinct.length > 20 && distinct.length >= 0.5 * labelled.length
  const idMessage = `The label column "${labelName}" of ${base} has ${distinct.length} different values in ${labelled.length} rows: it looks like an ID or a measurement, not a class. Choose another label column (columns: ${columns.join(', ')})`
  if (distinct.length > MAX_CLASSES)
    throw new NasError('dataset_error', idMessage, { kind: 'id-like-label', file: base })
  if (idLike) issues.warn('id-like-label', idMessage, { file: base })
  const classIndex = new Map(distinct.map((v, i) => [v, i]))
  const y = new Int32Array(labelled.length)
  labelled.forEach((r, i) => (y[i] = classIndex.get(r.cells[labelIndex]!)!))
  const split = new Uint8Array(labelled.length).fill(255)
  assignStratifiedTest(y, split, options.testFraction, options.seed)
  const isTrain = (i: number): boolean => split[i] === SPLIT_TRAIN

  // features
  const encoders: Encoder[] = []
  const rowList = (list: number[]): string =>
    list
      .slice(0, 5)
      .map((i) => labelled[i]!.line)
      .join(', ') + (list.length > 5 ? `, … (${list.length} in all)` : '')
  for (let j = 0; j < width; j++) {
    if (j === labelIndex) continue
    const name = columns[j]!
    const cells = labelled.map((r) => r.cells[j]!)
    const missing: number[] = []
    const nonNumeric: number[] = []
    const values = new Float64Array(cells.length)
    cells.forEach((c, i) => {
      if (isMissing(c)) {
        missing.push(i)
        values[i] = NaN
        return
      }
      const v = toNumber(c, decimalComma)
      values[i] = v
      if (!Number.isFinite(v)) nonNumeric.push(i)
    })
    const present = cells.length - missing.length
    if (present === 0) {
      issues.info('constant-column', `Column "${name}" of ${base} is empty in every row; left out`, {
        file: base,
      })
      continue
    }
    if (present - nonNumeric.length >= 0.9 * present) {
      encoders.push(
        ...numericEncoder(name, values, missing, nonNumeric, cells, isTrain, issues, base, rowList),
      )
    } else {
      encoders.push(...categoricalEncoder(name, cells, missing, issues, base, rowList))
    }
  }
  const featureNames = encoders.flatMap((e) => e.names)
  if (featureNames.length === 0) {
    throw new NasError(
      'dataset_error',
      `${base} has no usable feature columns besides the label "${labelName}" (the others are empty, constant or ID-like)`,
    )
  }
  const n = featureNames.length
  const x = new Float32Array(labelled.length * n)
  for (let i = 0; i < labelled.length; i++) {
    let at = i * n
    for (const e of encoders) {
      e.encode(i, x, at)
      at += e.names.length
    }
  }
  return {
    x,
    y,
    split,
    sampleShape: [n],
    dtype: 'float32',
    classNames: distinct,
    featureNames,
    columns: encoders.map((e) => e.column),
    decimalSeparator: decimalComma ? ',' : '.',
    fixedSplit: false,
    issues,
    skipped,
    sampleKeys: labelled.map((r) => r.cells.filter((_, j) => j !== labelIndex).join('\u001f')),
    names: (i) => `row ${labelled[i]!.line}`,
  }
}

function resolveLabelColumn(spec: string | null, columns: string[], base: string): number {
  if (spec === null) return columns.length - 1
  const wanted = spec.trim().toLowerCase()
  const byName = columns.findIndex((c) => c.trim().toLowerCase() === wanted)
  if (byName >= 0) return byName
  if (/^\d+$/.test(wanted) && Number(wanted) >= 1 && Number(wanted) <= columns.length)
    return Number(wanted) - 1
  throw new NasError(
    'dataset_error',
    `${base} has no column "${spec}" to use as the label. Its columns are: ${columns.join(', ')} (a name, or a number from 1 to ${columns.length})`,
  )
}

type Encoder = {
  names: string[]
  /** How the column's raw cells become the features `names` (for exports). */
  column: ColumnEncoding
  encode: (i: number, out: Float32Array, at: number) => void
}

function numericEncoder(
  name: string,
  values: Float64Array,
  missing: number[],
  nonNumeric: number[],
  cells: string[],
  isTrain: (i: number) => boolean,
  issues: IssueList,
  base: string,
  rowList: (list: number[]) => string,
): Encoder[] {
  if (nonNumeric.length > 0) {
    const examples = nonNumeric
      .slice(0, 3)
      .map((i) => `"${cells[i]}"`)
      .join(', ')
    issues.warn(
      'not-a-number',
      `Column "${name}" of ${base} has ${nonNumeric.length} value${nonNumeric.length === 1 ? '' : 's'} that ${nonNumeric.length === 1 ? 'is' : 'are'} not a number (${examples} on row ${rowList(nonNumeric)}); treated as missing`,
      { file: base },
    )
  }
  let sum = 0
  let count = 0
  for (let i = 0; i < values.length; i++) {
    if (!isTrain(i) || !Number.isFinite(values[i]!)) continue
    sum += values[i]!
    count++
  }
  const mean = count > 0 ? sum / count : 0
  let sq = 0
  for (let i = 0; i < values.length; i++)
    if (isTrain(i) && Number.isFinite(values[i]!)) sq += (values[i]! - mean) ** 2
  const std = count > 1 ? Math.sqrt(sq / (count - 1)) : 0
  const finite = [...values].filter(Number.isFinite)
  const isCounter =
    finite.length === values.length &&
    finite.length > 20 &&
    finite.every((v, i) => Number.isInteger(v) && (i === 0 || v > finite[i - 1]!))
  if (isCounter) {
    issues.warn(
      'id-like-column',
      `Column "${name}" of ${base} increases on every row (${finite[0]}, ${finite[1]}, ${finite[2]}, …) like a row number or ID; left out`,
      { file: base },
    )
    return []
  }
  if (!(std > 0)) {
    issues.info(
      'constant-column',
      `Column "${name}" of ${base} has the same value (${mean}) in every training row; left out`,
      { file: base },
    )
    return []
  }
  const gaps = [...missing, ...nonNumeric].sort((a, b) => a - b)
  if (gaps.length > 0) {
    issues.warn(
      'missing-values',
      `Column "${name}" of ${base} has ${gaps.length} missing value${gaps.length === 1 ? '' : 's'} (row ${rowList(gaps)}); filled with the training mean ${Number(mean.toPrecision(4))}`,
      { file: base },
    )
  }
  return [
    {
      names: [name],
      column: { column: name, kind: 'numeric', mean, std },
      encode: (i, out, at) => {
        const v = values[i]!
        out[at] = Number.isFinite(v) ? (v - mean) / std : 0
      },
    },
  ]
}

function categoricalEncoder(
  name: string,
  cells: string[],
  missing: number[],
  issues: IssueList,
  base: string,
  rowList: (list: number[]) => string,
): Encoder[] {
  const freq = new Map<string, number>()
  cells.forEach((c) => {
    if (!isMissing(c)) freq.set(c, (freq.get(c) ?? 0) + 1)
  })
  const present = cells.length - missing.length
  if (freq.size === 1) {
    issues.info(
      'constant-column',
      `Column "${name}" of ${base} has the same value ("${[...freq.keys()][0]}") in every row; left out`,
      { file: base },
    )
    return []
  }
  if (freq.size > MAX_CATEGORIES && freq.size > 0.5 * present) {
    issues.warn(
      'id-like-column',
      `Column "${name}" of ${base} has ${freq.size} different text values in ${present} rows: it looks like an ID or free text; left out`,
      { file: base },
    )
    return []
  }
  const kept = [...freq.entries()]
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .slice(0, MAX_CATEGORIES)
    .map(([v]) => v)
  const index = new Map(kept.map((v, k) => [v, k]))
  if (missing.length > 0) {
    issues.warn(
      'missing-values',
      `Column "${name}" of ${base} has ${missing.length} missing value${missing.length === 1 ? '' : 's'} (row ${rowList(missing)}); encoded as none of its ${kept.length} categories`,
      { file: base },
    )
  }
  return [
    {
      names: kept.map((v) => `${name}=${v}`),
      column: { column: name, kind: 'categorical', categories: kept },
      encode: (i, out, at) => {
        const k = index.get(cells[i]!)
        if (k !== undefined) out[at + k] = 1
      },
    },
  ]
}
