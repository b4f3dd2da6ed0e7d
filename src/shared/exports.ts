import { z } from 'zod'
import { MAX_PREDICT_IMAGE_BASE64 } from './web-protocol'

/**
 * Exports of trained trials (TF.js, ONNX, the HTML report) and predictions with them (the try-it panel).
 * Model exports are verified: reloaded in their runtime and compared with the in-app model.
 */

export const EXPORT_FORMATS = ['tfjs', 'onnx', 'report'] as const
export type ExportFormat = (typeof EXPORT_FORMATS)[number]
export const exportFormatSchema = z.enum(EXPORT_FORMATS)

/**
 * 'verified': the reloaded export predicts like the in-app model (max |difference| < tolerance);
 * 'mismatch': it does not (see maxAbsDiff); 'written': a report (not a model, nothing to compare).
 */
export const EXPORT_STATUSES = ['verified', 'mismatch', 'written'] as const
export type ExportStatus = (typeof EXPORT_STATUSES)[number]

export const exportRecordSchema = z.object({
  id: z.string(),
  runId: z.string(),
  trialId: z.string(),
  format: exportFormatSchema,
  status: z.enum(EXPORT_STATUSES),
  /** Folder the files were written to (absolute, on the machine running NAS Studio). */
  outDir: z.string(),
  /** Absolute paths of the files written (model, weights, preprocessing.json, report.html). */
  files: z.array(z.string()),
  sizeBytes: z.number().int().nonnegative(),
  /** Largest absolute difference of class probabilities, export vs in-app model; null for the report. */
  maxAbsDiff: z.number().nullable(),
  /** Validation samples compared (up to 100). */
  samples: z.number().int().nonnegative(),
  tolerance: z.number(),
  createdAt: z.string(),
})
export type ExportRecord = z.infer<typeof exportRecordSchema>

/** An export's files in one zip, for "Download" in web mode (the browser cannot reach the server's folders). */
export const exportArchiveSchema = z.object({
  /** A file name for the download, e.g. "shapes-search-onnx.zip" (no folders). */
  fileName: z.string(),
  /** The zip's bytes, base64. */
  base64: z.string(),
  sizeBytes: z.number().int().nonnegative(),
})
export type ExportArchive = z.infer<typeof exportArchiveSchema>

export const exportCreateRequestSchema = z
  .object({
    runId: z.string().min(1),
    /** Default: the run's best trial. */
    trialId: z.string().min(1).optional(),
    format: exportFormatSchema,
    /** Absolute folder to write into; default <dataDir>/exports/<run>/<trial>-<format>-<time>. */
    outDir: z.string().min(1).max(4096).optional(),
  })
  .strict()
export type ExportCreateRequest = z.infer<typeof exportCreateRequestSchema>

export const exportPredictRequestSchema = z
  .object({
    /** Predict with a written export (TF.js or ONNX; a report export uses its trial's model) ... */
    exportId: z.string().min(1).optional(),
    /** ... or with a trial's in-app model. */
    trialId: z.string().min(1).optional(),
    /** An encoded image (PNG, JPEG, WebP, GIF, TIFF, AVIF), base64, for image models. */
    imageBase64: z.string().min(1).max(MAX_PREDICT_IMAGE_BASE64).optional(),
    /** One table row: numbers, or text with numbers separated by commas, semicolons, tabs or spaces. */
    row: z.union([z.array(z.number()), z.string().max(100_000)]).optional(),
  })
  .strict()
  .refine((r) => (r.exportId === undefined) !== (r.trialId === undefined), {
    message: 'Give exactly one of exportId and trialId',
    path: ['exportId'],
  })
  .refine((r) => (r.imageBase64 === undefined) !== (r.row === undefined), {
    message: 'Give exactly one of imageBase64 and row',
    path: ['imageBase64'],
  })
export type ExportPredictRequest = z.infer<typeof exportPredictRequestSchema>

export const predictionSchema = z.object({
  /** Which model answered: the written TF.js or ONNX export, or the in-app model. */
  model: z.enum(['tfjs', 'onnx', 'app']),
  predictedIndex: z.number().int().nonnegative(),
  predictedClass: z.string(),
  /** One entry per class, in class order. */
  probabilities: z.array(z.object({ className: z.string(), probability: z.number() })),
  inputShape: z.array(z.number().int().positive()),
})
export type Prediction = z.infer<typeof predictionSchema>

/** Trials of a run whose trained weights are saved (exportable). */
export const exportableTrialsSchema = z.array(z.string())
