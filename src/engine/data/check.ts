import type { DatasetCheck, DatasetIssue, DatasetIssueKind } from '../../shared'
import { NasError } from '../../shared'
import { SPLIT_TEST, SPLIT_TRAIN, SPLIT_VALIDATION } from './split-codes'
import { stratifiedSplit } from './split'

/**
 * The dataset check: collects findings while a reader works, then adds the whole-dataset ones (class counts,
 * imbalance, too few samples, duplicates across splits). Findings of one kind are listed up to a limit, then
 * summarised, so a folder with 10,000 broken files gives a readable list.
 */

/** Findings listed per kind before the rest are summarised in one 'more-issues' line. */
export const MAX_ISSUES_PER_KIND = 25
/** A class with fewer samples than this gets a 'few-samples' warning. */
export const MIN_SAMPLES_PER_CLASS = 10
/** A largest/smallest class ratio at or above this gets an 'imbalance' warning. */
export const IMBALANCE_WARN_RATIO = 3

/** Collects findings with a per-kind limit. */
export class IssueList {
  private readonly issues: DatasetIssue[] = []
  private readonly perKind = new Map<DatasetIssueKind, number>()
  /** Every file an error was about, listed or not (to say which files a class lost). */
  private readonly errorFiles: string[] = []

  /** Adds a finding; past MAX_ISSUES_PER_KIND of its kind it is only counted. */
  add(issue: DatasetIssue): void {
    if (issue.severity === 'error' && issue.file !== undefined) this.errorFiles.push(issue.file)
    const n = (this.perKind.get(issue.kind) ?? 0) + 1
    this.perKind.set(issue.kind, n)
    if (n <= MAX_ISSUES_PER_KIND) this.issues.push(issue)
  }

  error(kind: DatasetIssueKind, message: string, where: { file?: string; row?: number } = {}): void {
    this.add({ severity: 'error', kind, message, ...where })
  }

  warn(kind: DatasetIssueKind, message: string, where: { file?: string; row?: number } = {}): void {
    this.add({ severity: 'warning', kind, message, ...where })
  }

  info(kind: DatasetIssueKind, message: string, where: { file?: string; row?: number } = {}): void {
    this.add({ severity: 'info', kind, message, ...where })
  }

  /** The files with an error that lie in a folder named `folder` (a class folder, at any depth). */
  errorFilesIn(folder: string): string[] {
    return this.errorFiles.filter((f) => f.split('/').slice(0, -1).includes(folder))
  }

  /** True when a finding of `kind` about a file ending in `fileSuffix` was already added. */
  has(kind: DatasetIssueKind, fileSuffix: string): boolean {
    return this.issues.some((i) => i.kind === kind && i.file !== undefined && i.file.endsWith(fileSuffix))
  }

  /** The findings, errors first, with one summary line per kind that went over the limit. */
  list(): DatasetIssue[] {
    const out = [...this.issues]
    for (const [kind, n] of this.perKind) {
      if (n > MAX_ISSUES_PER_KIND) {
        const severity = this.issues.find((i) => i.kind === kind)?.severity ?? 'warning'
        out.push({
          severity,
          kind: 'more-issues',
          message: `…and ${n - MAX_ISSUES_PER_KIND} more findings like these (${kind}), not listed`,
        })
      }
    }
    const rank = { error: 0, warning: 1, info: 2 } as const
    return out
      .map((issue, i) => ({ issue, i }))
      .sort((a, b) => rank[a.issue.severity] - rank[b.issue.severity] || a.i - b.i)
      .map((e) => e.issue)
  }
}

/**
 * Assigns a split to samples without one: a stratified, seeded `testFraction` of each class goes to test.
 * `split` is filled in place for the samples whose entry is 255 (unassigned).
 */
export function assignStratifiedTest(
  y: Int32Array,
  split: Uint8Array,
  testFraction: number,
  seed: number,
): void {
  const open: number[] = []
  for (let i = 0; i < y.length; i++) if (split[i] === 255) open.push(i)
  const labels = open.map((i) => y[i]!)
  const parts = stratifiedSplit(labels, testFraction, seed)
  for (const k of parts.train) split[open[k]!] = SPLIT_TRAIN
  for (const k of parts.validation) split[open[k]!] = SPLIT_TEST
}

/** Result of dropping classes that ended up with no samples. */
export interface CompactedLabels {
  classNames: string[]
  y: Int32Array
}

/**
 * Drops classes with no samples (an empty folder, or one whose files were all skipped), re-numbering labels,
 * and reports each. Throws a dataset_error when fewer than 2 classes are left: nothing to classify.
 */
export function dropEmptyClasses(
  classNames: string[],
  y: Int32Array,
  issues: IssueList,
  where: string,
): CompactedLabels {
  const counts = new Array<number>(classNames.length).fill(0)
  for (const label of y) counts[label]!++
  const remap = new Int32Array(classNames.length).fill(-1)
  const kept: string[] = []
  const leftOut: string[] = []
  classNames.forEach((name, c) => {
    if (counts[c]! > 0) {
      remap[c] = kept.length
      kept.push(name)
      return
    }
    const broken = issues.errorFilesIn(name)
    const why =
      broken.length > 0
        ? `Class "${name}" has no usable samples in ${where}: ${broken.length === 1 ? 'its one file' : `all ${broken.length} of its files`} could not be used (${fileList(broken)})`
        : `Class "${name}" has no usable samples in ${where}`
    leftOut.push(why)
    if (!issues.has('empty-class', `${name}/`))
      issues.error('empty-class', `${why}; it was left out`, { file: name })
  })
  if (kept.length < 2) {
    const only = kept.length === 1 ? `only one class ("${kept[0]}")` : 'no class'
    throw new NasError(
      'dataset_error',
      `${where} has ${only} with usable samples; a classifier needs at least 2 classes. ` +
        (leftOut.length > 0
          ? `${leftOut.join('. ')}.`
          : (issues.list().find((i) => i.severity === 'error')?.message ?? '')),
    )
  }
  const out = new Int32Array(y.length)
  for (let i = 0; i < y.length; i++) out[i] = remap[y[i]!]!
  return { classNames: kept, y: out }
}

/** Up to 10 file names, then how many more. */
function fileList(files: string[]): string {
  const shown = files.slice(0, 10).join(', ')
  return files.length > 10 ? `${shown} and ${files.length - 10} more` : shown
}

/** A name for each split code, for messages. */
export const SPLIT_NAMES = ['train', 'validation', 'test'] as const

/**
 * Finishes the check: per-class counts per split, imbalance and too-few-samples warnings, and duplicate
 * samples. `sampleKeys` (content hashes, one per sample, or null to skip) find the same content in two
 * splits (test leaks into training) or under two labels; `names` name a sample in messages.
 */
export function finishCheck(opts: {
  classNames: string[]
  y: Int32Array
  split: Uint8Array
  issues: IssueList
  skipped: number
  sampleKeys: string[] | null
  names: (i: number) => string
}): DatasetCheck {
  const { classNames, y, split, issues } = opts
  const classCounts = classNames.map((name) => ({ name, train: 0, validation: 0, test: 0 }))
  for (let i = 0; i < y.length; i++) {
    const c = classCounts[y[i]!]!
    if (split[i] === SPLIT_TRAIN) c.train++
    else if (split[i] === SPLIT_VALIDATION) c.validation++
    else c.test++
  }
  const totals = classCounts.map((c) => c.train + c.validation + c.test)
  for (const [c, total] of totals.entries()) {
    if (total < MIN_SAMPLES_PER_CLASS) {
      issues.warn(
        'few-samples',
        `Class "${classNames[c]}" has only ${total} sample${total === 1 ? '' : 's'}; at least ${MIN_SAMPLES_PER_CLASS} per class are needed for a useful score (add more or merge classes)`,
        { file: classNames[c]! },
      )
    }
  }
  const max = Math.max(...totals)
  const min = Math.min(...totals)
  const imbalanceRatio = min > 0 ? max / min : 0
  if (imbalanceRatio >= IMBALANCE_WARN_RATIO) {
    const big = classNames[totals.indexOf(max)]
    const small = classNames[totals.indexOf(min)]
    issues.warn(
      'imbalance',
      `Classes are imbalanced: "${big}" has ${max} samples but "${small}" only ${min} (${imbalanceRatio.toFixed(1)}:1); accuracy will favour the big classes`,
    )
  }
  if (opts.sampleKeys) {
    const first = new Map<string, number>()
    opts.sampleKeys.forEach((key, i) => {
      const j = first.get(key)
      if (j === undefined) {
        first.set(key, i)
        return
      }
      if (y[i] !== y[j]) {
        issues.error(
          'conflicting-labels',
          `${opts.names(j)} ("${classNames[y[j]!]}") and ${opts.names(i)} ("${classNames[y[i]!]}") are the same sample with different labels`,
          { file: opts.names(i) },
        )
      } else if (split[i] !== split[j]) {
        issues.warn(
          'duplicate-across-splits',
          `${opts.names(j)} (${SPLIT_NAMES[split[j]!]}) and ${opts.names(i)} (${SPLIT_NAMES[split[i]!]}) are the same sample in two splits, so the test score is optimistic`,
          { file: opts.names(i) },
        )
      }
    })
  }
  return { classCounts, imbalanceRatio, skipped: opts.skipped, issues: issues.list() }
}
