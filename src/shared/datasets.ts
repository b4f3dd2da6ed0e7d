import { z } from 'zod'

/**
 * Schemas for bringing your own data: import options, the dataset check a person reads at import, import
 * jobs (progress + cancel) and previews. JSON-safe only; datasetSchema in domain.ts refers to these.
 */

/** What a path holds: a folder of class subfolders of images, a CSV table, or IDX files. */
export const DATASET_KINDS = ['images', 'csv', 'idx'] as const
export type DatasetKind = (typeof DATASET_KINDS)[number]

/** Options of one import; everything but `path` has a default. */
export const datasetImportRequestSchema = z
  .object({
    /** Folder or file on the machine running NAS Studio (absolute, or relative to its working folder). */
    path: z.string().min(1).max(4096),
    /** Default: detected from the path (a folder of folders -> images, *.csv -> csv, IDX files -> idx). */
    kind: z.enum(DATASET_KINDS).optional(),
    /** Name shown in lists; default: the folder or file name. */
    name: z.string().min(1).max(200).optional(),
    /**
     * Images are resized to inputSize x inputSize pixels (default: their own size when all are square and of one
     * size up to 64 pixels, else 32; IDX keeps its size unless given).
     */
    inputSize: z.number().int().min(4).max(512).optional(),
    /** CSV: the label column, by header name or 1-based number (default: the last column). */
    labelColumn: z.string().min(1).max(200).optional(),
    /** Fraction of the samples held out as the test split when the data comes without one (default 0.15). */
    testFraction: z.number().min(0.05).max(0.5).optional(),
    /** Seed of the stratified split (default 0). */
    seed: z
      .number()
      .int()
      .min(0)
      .max(2 ** 31 - 1)
      .optional(),
  })
  .strict()
export type DatasetImportRequest = z.infer<typeof datasetImportRequestSchema>

/** Import options as resolved and stored with the dataset (the cache key includes them). */
export const datasetImportOptionsSchema = z.object({
  kind: z.enum(DATASET_KINDS),
  inputSize: z.number().int().positive().nullable(),
  labelColumn: z.string().nullable(),
  testFraction: z.number(),
  seed: z.number().int(),
})
export type DatasetImportOptions = z.infer<typeof datasetImportOptionsSchema>

export const DATASET_ISSUE_KINDS = [
  'unreadable-file',
  'empty-file',
  'not-an-image',
  'corrupt-image',
  'huge-image',
  'unsupported-file',
  'stray-file',
  'empty-class',
  'few-samples',
  'imbalance',
  'duplicate-across-splits',
  'conflicting-labels',
  'mixed-sizes',
  'mixed-channels',
  'transparency',
  'encoding',
  'no-header',
  'ragged-row',
  'missing-label',
  'missing-values',
  'not-a-number',
  'constant-column',
  'id-like-label',
  'id-like-column',
  'single-class',
  'label-out-of-range',
  'more-issues',
] as const
export type DatasetIssueKind = (typeof DATASET_ISSUE_KINDS)[number]

/**
 * One finding of the dataset check: `error` = something was skipped or cannot work, `warning` = it imported
 * but a person should look, `info` = how the data was adapted. `file` (relative to the source) and `row`
 * (1-based line of a CSV) say where.
 */
export const datasetIssueSchema = z.object({
  severity: z.enum(['error', 'warning', 'info']),
  kind: z.enum(DATASET_ISSUE_KINDS),
  message: z.string(),
  file: z.string().optional(),
  row: z.number().int().positive().optional(),
})
export type DatasetIssue = z.infer<typeof datasetIssueSchema>

/** The dataset check: per-class counts per split, what was skipped, and the findings. */
export const datasetCheckSchema = z.object({
  classCounts: z.array(
    z.object({
      name: z.string(),
      train: z.number().int().nonnegative(),
      validation: z.number().int().nonnegative(),
      test: z.number().int().nonnegative(),
    }),
  ),
  /** Largest class size / smallest class size (1 = balanced). */
  imbalanceRatio: z.number().nonnegative(),
  /** Source files (or CSV rows) left out. */
  skipped: z.number().int().nonnegative(),
  issues: z.array(datasetIssueSchema),
})
export type DatasetCheck = z.infer<typeof datasetCheckSchema>

export const IMPORT_STATES = ['running', 'done', 'failed', 'cancelled'] as const
export type ImportState = (typeof IMPORT_STATES)[number]

/** A running or finished import, as `datasets.import` answers and `dataset.importProgress` pushes. */
export const datasetImportJobSchema = z.object({
  jobId: z.string(),
  path: z.string(),
  state: z.enum(IMPORT_STATES),
  /** What it is doing now, for people ("Decoding images"). */
  phase: z.string(),
  /** Units of work done / total in this phase (files, rows); total 0 when unknown. */
  done: z.number().int().nonnegative(),
  total: z.number().int().nonnegative(),
  /** The dataset once done (an earlier import of the same content is reused). */
  datasetId: z.string().nullable(),
  /** True when the decoded data came from the cache. */
  fromCache: z.boolean(),
  error: z.string().nullable(),
  startedAt: z.string(),
  finishedAt: z.string().nullable(),
})
export type DatasetImportJob = z.infer<typeof datasetImportJobSchema>

/** A per-class look at a dataset: small PNG data: URLs of a few samples (images) or a few rows (tables). */
export const datasetPreviewSchema = z.object({
  datasetId: z.string(),
  kind: z.enum(['images', 'table']),
  /** Table columns (encoded feature names); empty for images. */
  columns: z.array(z.string()),
  classes: z.array(
    z.object({
      name: z.string(),
      count: z.number().int().nonnegative(),
      thumbnails: z.array(z.string()),
      rows: z.array(z.array(z.number())),
    }),
  ),
})
export type DatasetPreview = z.infer<typeof datasetPreviewSchema>
