import { z } from 'zod'

/**
 * A pretrained backbone as it lies on disk: a folder `<data>/backbones/<id>/` holding a TF.js Layers model
 * (model.json + weight shards) and `backbone.json`, which is a BackboneInfo. JSON-safe only; main validates
 * backbone.json with backboneInfoSchema when it reads it.
 */

/** Where a backbone came from: the built-in catalogue, a model file the person picked, or a NAS Studio run. */
export const BACKBONE_SOURCES = ['catalogue', 'file', 'run'] as const
export type BackboneSource = (typeof BACKBONE_SOURCES)[number]

/** File name of the description inside a backbone's folder. */
export const BACKBONE_INFO_FILE = 'backbone.json'
/** File name of the TF.js Layers topology inside a backbone's folder. */
export const BACKBONE_MODEL_FILE = 'model.json'

/**
 * How raw pixels in [0, 255] become the backbone's input: `x * scale + offset` per value, then, when given,
 * `(x - mean[c]) / std[c]` per channel c. MobileNet, for example, wants scale 1/127.5 and offset -1.
 */
export const backboneNormalisationSchema = z
  .object({
    scale: z.number().finite(),
    offset: z.number().finite(),
    mean: z.array(z.number().finite()).min(1).optional(),
    std: z.array(z.number().finite().positive()).min(1).optional(),
  })
  .strict()
export type BackboneNormalisation = z.infer<typeof backboneNormalisationSchema>

/** Pixels in [0, 255] mapped to [0, 1]: the scaling NAS Studio's own datasets and runs use. */
export const UNIT_NORMALISATION: BackboneNormalisation = { scale: 1 / 255, offset: 0 }

/**
 * A layer whose output can serve as the features the head is trained on. `outputShape` leaves out the batch
 * dimension: [h, w, c] for a feature map, [n] for a flat vector.
 */
export const backboneCutPointSchema = z
  .object({
    layer: z.string().min(1),
    outputShape: z.array(z.number().int().positive()).min(1).max(3),
  })
  .strict()
export type BackboneCutPoint = z.infer<typeof backboneCutPointSchema>

/** One file of a catalogue backbone with the SHA-256 (lower-case hex) its bytes must have. */
export const backboneFileSchema = z
  .object({
    path: z.string().min(1),
    sha256: z.string().regex(/^[0-9a-f]{64}$/),
    bytes: z.number().int().nonnegative(),
  })
  .strict()
export type BackboneFile = z.infer<typeof backboneFileSchema>

/** backbone.json: what the engine needs to load a backbone and what the UI shows of it. */
export const backboneInfoSchema = z.object({
  /** Folder name under <data>/backbones: lower-case letters, digits and dashes. */
  id: z.string().regex(/^[a-z0-9][a-z0-9-]{0,63}$/),
  /** Name shown to people; can be renamed. */
  name: z.string().min(1).max(200),
  source: z.enum(BACKBONE_SOURCES),
  /** What it was made from, in words: the catalogue entry's origin, the file picked, or the run's name. */
  origin: z.string().max(500).optional(),
  /** Input size the backbone expects, [height, width, channels], without the batch dimension. */
  inputShape: z.tuple([
    z.number().int().positive(),
    z.number().int().positive(),
    z.number().int().positive(),
  ]),
  normalisation: backboneNormalisationSchema,
  /** Layers usable as feature outputs, from the input towards the output; the last is the deepest. */
  cutPoints: z.array(backboneCutPointSchema).min(1),
  /**
   * How many blocks can be fine-tuned, counted from the output: "last k blocks" takes k in 0..this.
   * A block is a run of layers ending at a cut point.
   */
  fineTunableBlocks: z.number().int().nonnegative(),
  /** Catalogue backbones: every file with its pinned checksum. Absent for imported ones. */
  files: z.array(backboneFileSchema).optional(),
  /** Bytes on disk of the model files (model.json + weights). */
  sizeBytes: z.number().int().nonnegative(),
  /** ISO time it was added. */
  createdAt: z.string(),
})
export type BackboneInfo = z.infer<typeof backboneInfoSchema>

/**
 * How the pixels of an imported model's training images were scaled, in words a person can choose from:
 * 'unit' [0, 1] (NAS Studio's own runs, most Keras tutorials), 'symmetric' [-1, 1] (MobileNet, Inception),
 * 'raw' [0, 255].
 */
export const BACKBONE_PIXEL_SCALES = {
  unit: { scale: 1 / 255, offset: 0 },
  symmetric: { scale: 1 / 127.5, offset: -1 },
  raw: { scale: 1, offset: 0 },
} as const satisfies Record<string, BackboneNormalisation>
export type BackbonePixelScale = keyof typeof BACKBONE_PIXEL_SCALES
const PIXEL_SCALE_NAMES = Object.keys(BACKBONE_PIXEL_SCALES) as [BackbonePixelScale, ...BackbonePixelScale[]]

/** "Use a model of mine": a model.json, or the folder holding it, with its weight files beside it. */
export const backboneImportRequestSchema = z
  .object({
    /** model.json or its folder, on the machine running NAS Studio (web mode: the upload's folder). */
    path: z.string().min(1).max(4096),
    /** Default: the folder's name. */
    name: z.string().trim().min(1).max(200).optional(),
    /** Default 'unit'. */
    pixels: z.enum(PIXEL_SCALE_NAMES).optional(),
  })
  .strict()
export type BackboneImportRequest = z.infer<typeof backboneImportRequestSchema>

/** A NAS Studio run's final model (default: the one exports.create would pick) as a backbone. */
export const backboneFromRunRequestSchema = z
  .object({
    runId: z.string().min(1),
    trialId: z.string().min(1).optional(),
    name: z.string().trim().min(1).max(200).optional(),
  })
  .strict()
export type BackboneFromRunRequest = z.infer<typeof backboneFromRunRequestSchema>

/** One entry of the catalogue of well-known backbones, as the UI lists it. */
export const backboneCatalogueEntrySchema = z.object({
  id: z.string(),
  name: z.string(),
  description: z.string(),
  /** Where the files come from (the host), shown when asking for consent. */
  source: z.string(),
  /** Bytes to download; null when not known. */
  sizeBytes: z.number().int().nonnegative().nullable(),
  /** False when this build cannot download it safely; `unavailableReason` says why. */
  downloadable: z.boolean(),
  unavailableReason: z.string().nullable(),
  /** The backbone's id once it is downloaded (then it works offline). */
  installedId: z.string().nullable(),
})
export type BackboneCatalogueEntry = z.infer<typeof backboneCatalogueEntrySchema>

export const BACKBONE_DOWNLOAD_STATES = ['downloading', 'done', 'failed', 'cancelled'] as const
export type BackboneDownloadState = (typeof BACKBONE_DOWNLOAD_STATES)[number]

/** A catalogue download in progress or finished; pushed as 'backbone.download' events. */
export const backboneDownloadJobSchema = z.object({
  jobId: z.string(),
  catalogueId: z.string(),
  state: z.enum(BACKBONE_DOWNLOAD_STATES),
  receivedBytes: z.number().int().nonnegative(),
  totalBytes: z.number().int().nonnegative(),
  /** The backbone, once done. */
  backboneId: z.string().nullable(),
  /** Why it failed, in plain words. */
  error: z.string().nullable(),
})
export type BackboneDownloadJob = z.infer<typeof backboneDownloadJobSchema>

/** Starting a catalogue download needs the person's consent, given after seeing its size and source. */
export const backboneDownloadRequestSchema = z
  .object({ catalogueId: z.string().min(1).max(100), consent: z.literal(true) })
  .strict()
