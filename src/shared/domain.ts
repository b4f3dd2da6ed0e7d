import { z } from 'zod'

/**
 * Domain types and their zod schemas. Everything here is JSON-safe (no Dates, Maps or class instances):
 * times are ISO-8601 strings, durations are milliseconds.
 */

export const RUN_STATUSES = ['queued', 'running', 'completed', 'failed', 'cancelled', 'interrupted'] as const
export type RunStatus = (typeof RUN_STATUSES)[number]
export const runStatusSchema = z.enum(RUN_STATUSES)

export const TRIAL_STATUSES = ['queued', 'running', 'completed', 'failed', 'cancelled'] as const
export type TrialStatus = (typeof TRIAL_STATUSES)[number]
export const trialStatusSchema = z.enum(TRIAL_STATUSES)

export const ACTIVATIONS = ['relu', 'elu', 'selu', 'tanh', 'sigmoid', 'swish', 'linear'] as const
export type Activation = (typeof ACTIVATIONS)[number]
const activationSchema = z.enum(ACTIVATIONS)

const idSchema = z.string().min(1).max(200)
const isoTime = z.string()

// ---------------------------------------------------------------- datasets

export const datasetSchema = z.object({
  id: idSchema,
  name: z.string(),
  /** Where the data came from: the bundled sample, IDX files, an image folder or a CSV. */
  source: z.enum(['bundled', 'idx', 'image-folder', 'csv']),
  /** Source path on disk (folder or file) the dataset was read from. */
  path: z.string(),
  /** Content hash (sha256 hex) of the decoded samples and labels. */
  hash: z.string(),
  /** Input shape of one sample, [height, width, channels] for images or [features] for tables. */
  inputShape: z.array(z.number().int().positive()).min(1),
  classNames: z.array(z.string()).min(2),
  numTrain: z.number().int().nonnegative(),
  numTest: z.number().int().nonnegative(),
  createdAt: isoTime,
})
export type Dataset = z.infer<typeof datasetSchema>

// ---------------------------------------------------------------- search spaces

/** A choice point: the search picks one of `values`. */
const choice = <T extends z.ZodTypeAny>(item: T) => z.array(item).min(1)

export const opChoiceSchema = z.discriminatedUnion('op', [
  z.object({
    op: z.literal('dense'),
    units: choice(z.number().int().positive().max(65536)),
    activation: choice(activationSchema),
  }),
  z.object({
    op: z.literal('conv2d'),
    filters: choice(z.number().int().positive().max(4096)),
    kernelSize: choice(z.number().int().positive().max(15)),
    activation: choice(activationSchema),
  }),
  z.object({ op: z.literal('maxPool2d'), poolSize: choice(z.number().int().min(2).max(8)) }),
  z.object({ op: z.literal('dropout'), rate: choice(z.number().min(0).max(0.95)) }),
  z.object({ op: z.literal('batchNorm') }),
])
export type OpChoice = z.infer<typeof opChoiceSchema>
export type OpKind = OpChoice['op']

/**
 * Sequential layer-wise space: a number of layers in [minLayers, maxLayers]; each layer picks one of `ops`,
 * then each of that op's hyperparameters. A softmax classifier head is always appended.
 */
export const sequentialSpaceSchema = z
  .object({
    family: z.literal('sequential'),
    version: z.literal(1),
    minLayers: z.number().int().min(1).max(64),
    maxLayers: z.number().int().min(1).max(64),
    ops: z.array(opChoiceSchema).min(1),
  })
  .refine((s) => s.minLayers <= s.maxLayers, {
    message: 'minLayers must not exceed maxLayers',
    path: ['maxLayers'],
  })
export type SequentialSpace = z.infer<typeof sequentialSpaceSchema>

/** Any search space definition. Issue-driven families (chain, cell, NAS-Bench-201, MLP) extend this union. */
export const searchSpaceDefSchema = sequentialSpaceSchema
export type SearchSpaceDef = z.infer<typeof searchSpaceDefSchema>

export const searchSpaceSchema = z.object({
  id: idSchema,
  name: z.string().min(1).max(200),
  description: z.string(),
  /** True for the presets shipped in resources/presets (read-only). */
  preset: z.boolean(),
  def: searchSpaceDefSchema,
  createdAt: isoTime,
})
export type SearchSpace = z.infer<typeof searchSpaceSchema>

// ---------------------------------------------------------------- architectures

/** One concrete op in an architecture graph. `params` holds the chosen hyperparameters. */
export const archNodeSchema = z.discriminatedUnion('op', [
  z.object({ id: z.string(), op: z.literal('input') }),
  z.object({ id: z.string(), op: z.literal('flatten') }),
  z.object({
    id: z.string(),
    op: z.literal('dense'),
    units: z.number().int().positive(),
    activation: z.union([activationSchema, z.literal('softmax')]),
  }),
  z.object({
    id: z.string(),
    op: z.literal('conv2d'),
    filters: z.number().int().positive(),
    kernelSize: z.number().int().positive(),
    activation: activationSchema,
  }),
  z.object({ id: z.string(), op: z.literal('maxPool2d'), poolSize: z.number().int().min(2) }),
  z.object({ id: z.string(), op: z.literal('dropout'), rate: z.number().min(0).max(0.95) }),
  z.object({ id: z.string(), op: z.literal('batchNorm') }),
])
export type ArchNode = z.infer<typeof archNodeSchema>
export type ArchOp = ArchNode['op']

/**
 * A concrete network: a DAG of ops. `edges` are [from, to] node ids; the node with op `input` is the
 * single source and `output` names the sink (the classifier).
 */
export const architectureSchema = z.object({
  version: z.literal(1),
  nodes: z.array(archNodeSchema).min(2),
  edges: z.array(z.tuple([z.string(), z.string()])),
  output: z.string(),
})
export type Architecture = z.infer<typeof architectureSchema>

// ---------------------------------------------------------------- runs and trials

export const STRATEGIES = ['random'] as const
export type StrategyName = (typeof STRATEGIES)[number]

/** Train-from-scratch settings; epochs and batch size are per trial. */
export const trainSettingsSchema = z.object({
  epochs: z.number().int().min(1).max(1000),
  batchSize: z.number().int().min(1).max(4096),
  learningRate: z.number().positive().max(10),
  /** Fraction of the training data held out for validation (the score the search sees). */
  validationFraction: z.number().min(0.05).max(0.5),
})
export type TrainSettings = z.infer<typeof trainSettingsSchema>

export const runConfigSchema = z.object({
  name: z.string().min(1).max(200),
  datasetId: idSchema,
  spaceId: idSchema,
  strategy: z.enum(STRATEGIES),
  /** Budget: the number of candidates to train. */
  maxTrials: z.number().int().min(1).max(100000),
  /** Trials trained at once (worker threads). */
  concurrency: z.number().int().min(1).max(64),
  seed: z
    .number()
    .int()
    .min(0)
    .max(2 ** 31 - 1),
  train: trainSettingsSchema,
})
export type RunConfig = z.infer<typeof runConfigSchema>

export const runSchema = z.object({
  id: idSchema,
  config: runConfigSchema,
  status: runStatusSchema,
  createdAt: isoTime,
  startedAt: isoTime.nullable(),
  finishedAt: isoTime.nullable(),
  trialsCompleted: z.number().int().nonnegative(),
  trialsFailed: z.number().int().nonnegative(),
  bestTrialId: idSchema.nullable(),
  bestValAccuracy: z.number().nullable(),
  /** Compute backend the trials ran on, e.g. "wasm" or "tensorflow (GPU)". */
  backend: z.string().nullable(),
  error: z.string().nullable(),
})
export type Run = z.infer<typeof runSchema>

export const trialSchema = z.object({
  id: idSchema,
  runId: idSchema,
  /** 0-based position in the run's proposal order. */
  index: z.number().int().nonnegative(),
  status: trialStatusSchema,
  architecture: architectureSchema,
  /** Stable hash of the architecture (same network -> same hash). */
  archHash: z.string(),
  params: z.number().int().nonnegative(),
  valAccuracy: z.number().nullable(),
  valLoss: z.number().nullable(),
  trainTimeMs: z.number().nonnegative().nullable(),
  error: z.string().nullable(),
  startedAt: isoTime.nullable(),
  finishedAt: isoTime.nullable(),
})
export type Trial = z.infer<typeof trialSchema>

export const trialEpochSchema = z.object({
  trialId: idSchema,
  runId: idSchema,
  /** 1-based epoch number. */
  epoch: z.number().int().positive(),
  loss: z.number(),
  accuracy: z.number(),
  valLoss: z.number(),
  valAccuracy: z.number(),
  timeMs: z.number().nonnegative(),
})
export type TrialEpoch = z.infer<typeof trialEpochSchema>

export const appInfoSchema = z.object({
  name: z.string(),
  version: z.string(),
  /** Which shell serves the UI: the Electron window or web mode in a browser. */
  mode: z.enum(['electron', 'web']),
  /** Why this mode (e.g. "Electron binary not installed: serving web mode"). */
  modeReason: z.string(),
  backend: z.object({ name: z.string(), detail: z.string() }),
  dataDir: z.string(),
})
export type AppInfo = z.infer<typeof appInfoSchema>
