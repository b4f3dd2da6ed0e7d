import { z } from 'zod'
import { datasetCheckSchema, datasetImportOptionsSchema } from './datasets'

/**
 * Domain types and their zod schemas. Everything here is JSON-safe (no Dates, Maps or class instances):
 * times are ISO-8601 strings, durations are milliseconds.
 */

/** 'paused': stopped on request with nothing in flight; 'interrupted': the process stopped mid-run. Both resume. */
export const RUN_STATUSES = [
  'queued',
  'running',
  'paused',
  'completed',
  'failed',
  'cancelled',
  'interrupted',
] as const
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
  /**
   * Content hash (sha256 hex): of the decoded samples and labels (bundled), or of the source files' bytes plus
   * the import options (imports); it names the decoded cache, <dataDir>/cache/<hash>/.
   */
  hash: z.string(),
  /** Input shape of one sample, [height, width, channels] for images or [features] for tables. */
  inputShape: z.array(z.number().int().positive()).min(1),
  classNames: z.array(z.string()).min(2),
  numTrain: z.number().int().nonnegative(),
  numTest: z.number().int().nonnegative(),
  /** Samples of a validation split the data came with; 0 (or absent) = carved from train per run. */
  numValidation: z.number().int().nonnegative().optional(),
  /** 'fixed' = the split the data came with; 'stratified' = made at import with the seed. */
  split: z.enum(['fixed', 'stratified']).optional(),
  /** The dataset check made at import (class counts, skipped files, findings). */
  check: datasetCheckSchema.optional(),
  importOptions: datasetImportOptionsSchema.optional(),
  /** Folder of the decoded cache; set by main when handing the dataset to the engine, never stored. */
  cacheDir: z.string().optional(),
  createdAt: isoTime,
})
export type Dataset = z.infer<typeof datasetSchema>

// ---------------------------------------------------------------- search spaces

/** A choice point: the search picks one of `values`. */
const choice = <T extends z.ZodTypeAny>(item: T) => z.array(item).min(1)

const strideChoice = choice(z.number().int().min(1).max(4))

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
    /** Stride choices ('same' padding: the map shrinks to ceil(size / stride)); default [1]. */
    strides: strideChoice.optional(),
  }),
  z.object({
    op: z.literal('sepConv2d'),
    filters: choice(z.number().int().positive().max(4096)),
    kernelSize: choice(z.number().int().positive().max(15)),
    activation: choice(activationSchema),
    strides: strideChoice.optional(),
  }),
  z.object({ op: z.literal('maxPool2d'), poolSize: choice(z.number().int().min(2).max(8)) }),
  z.object({ op: z.literal('avgPool2d'), poolSize: choice(z.number().int().min(2).max(8)) }),
  z.object({ op: z.literal('globalAvgPool') }),
  z.object({ op: z.literal('dropout'), rate: choice(z.number().min(0).max(0.95)) }),
  z.object({ op: z.literal('batchNorm') }),
])
export type OpChoice = z.infer<typeof opChoiceSchema>
export type OpKind = OpChoice['op']

/** One position of an ordered sequential space: [min, max] layers here, each one of `ops` (a subset of the space's ops). */
export const sequentialSlotSchema = z.object({
  ops: z.array(opChoiceSchema).min(1),
  min: z.number().int().min(0).max(64),
  max: z.number().int().min(1).max(64),
})
export type SequentialSlot = z.infer<typeof sequentialSlotSchema>

/**
 * Sequential layer-wise space: a number of layers in [minLayers, maxLayers]; each layer picks one of `ops`,
 * then each of that op's hyperparameters. A softmax classifier head is always appended. With `slots` the
 * order is fixed: the layers are slot 1's, then slot 2's, ... (each slot [min, max] layers of its own ops);
 * minLayers / maxLayers are then the slots' sums (minLayers at least 1).
 */
export const sequentialSpaceSchema = z
  .object({
    family: z.literal('sequential'),
    version: z.literal(1),
    minLayers: z.number().int().min(1).max(64),
    maxLayers: z.number().int().min(1).max(64),
    ops: z.array(opChoiceSchema).min(1),
    slots: z.array(sequentialSlotSchema).min(1).max(64).optional(),
  })
  .refine((s) => s.minLayers <= s.maxLayers, {
    message: 'minLayers must not exceed maxLayers',
    path: ['maxLayers'],
  })
export type SequentialSpace = z.infer<typeof sequentialSpaceSchema>

/** One branch op of a chain block; convs output the block's filters, pools and identity keep the channels. */
export const chainOpChoiceSchema = z.discriminatedUnion('op', [
  z.object({
    op: z.literal('conv2d'),
    kernelSize: choice(z.number().int().positive().max(15)),
    activation: choice(activationSchema),
  }),
  z.object({
    op: z.literal('sepConv2d'),
    kernelSize: choice(z.number().int().positive().max(15)),
    activation: choice(activationSchema),
  }),
  z.object({ op: z.literal('maxPool2d'), poolSize: choice(z.number().int().min(1).max(8)) }),
  z.object({ op: z.literal('avgPool2d'), poolSize: choice(z.number().int().min(1).max(8)) }),
  z.object({ op: z.literal('identity') }),
])
export type ChainOpChoice = z.infer<typeof chainOpChoiceSchema>

export const MERGE_KINDS = ['add', 'concat'] as const
export const SKIP_KINDS = ['none', 'add', 'concat'] as const

/**
 * Chain-structured space: a conv stem, then [minBlocks, maxBlocks] blocks. Each block picks filters, a stride,
 * a number of parallel branches (each one op of `ops`, merged by add or concat), optional batch norm, and a
 * skip connection from the block input (none, add or concat; shapes are aligned automatically with a 1x1
 * projection or pooling). Head: global average pooling and a softmax classifier.
 */
export const chainSpaceSchema = z
  .object({
    family: z.literal('chain'),
    version: z.literal(1),
    stemFilters: choice(z.number().int().positive().max(4096)),
    minBlocks: z.number().int().min(1).max(64),
    maxBlocks: z.number().int().min(1).max(64),
    filters: choice(z.number().int().positive().max(4096)),
    strides: strideChoice,
    branches: choice(z.number().int().min(1).max(4)),
    merge: choice(z.enum(MERGE_KINDS)),
    skip: choice(z.enum(SKIP_KINDS)),
    batchNorm: choice(z.boolean()),
    ops: z.array(chainOpChoiceSchema).min(1),
  })
  .refine((s) => s.minBlocks <= s.maxBlocks, {
    message: 'minBlocks must not exceed maxBlocks',
    path: ['maxBlocks'],
  })
export type ChainSpace = z.infer<typeof chainSpaceSchema>

/** Cell ops: the DARTS set plus NASNet extras. ReLU-conv-BN composites are expanded into primitive nodes. */
export const CELL_OPS = [
  'none',
  'skip_connect',
  'sep_conv_3x3',
  'sep_conv_5x5',
  'sep_conv_7x7',
  'dil_conv_3x3',
  'dil_conv_5x5',
  'max_pool_3x3',
  'avg_pool_3x3',
  'conv_1x1',
  'conv_3x3',
] as const
export type CellOp = (typeof CELL_OPS)[number]

/**
 * Cell-based space (NASNet / DARTS): a normal and a reduction cell, each a DAG with 2 inputs (the outputs of
 * the two previous cells) and `nodes` intermediate nodes; each node picks 2 inputs and 2 ops of `ops` and sums
 * them. `stages` stages of N normal cells (N from `cellsPerStage`), a reduction cell (stride 2, channels x2)
 * between stages; initial channels from `initChannels`. The cell output concatenates all intermediate nodes
 * (DARTS) or only those no other node uses (NASNet).
 */
export const cellSpaceSchema = z.object({
  family: z.literal('cell'),
  version: z.literal(1),
  nodes: z.number().int().min(1).max(8),
  ops: z.array(z.enum(CELL_OPS)).min(1),
  initChannels: choice(z.number().int().positive().max(1024)),
  cellsPerStage: choice(z.number().int().min(1).max(20)),
  stages: z.number().int().min(1).max(5),
  /** Stem channels = stemMultiplier x initial channels (DARTS uses 3). */
  stemMultiplier: z.number().int().min(1).max(8),
  concat: z.enum(['all', 'unused']),
})
export type CellSpace = z.infer<typeof cellSpaceSchema>

export const NB201_OPS = ['none', 'skip_connect', 'nor_conv_1x1', 'nor_conv_3x3', 'avg_pool_3x3'] as const
export type Nb201Op = (typeof NB201_OPS)[number]

/**
 * NAS-Bench-201 cell space: 4 nodes, 6 edges (j <- i for i < j), each edge one of `ops`. Macro skeleton as in
 * the benchmark: conv stem, 3 stages of N cells with C, 2C, 4C channels joined by residual reduction blocks,
 * then BN-ReLU, global average pooling and a classifier. The benchmark itself is ops = all 5, C = 16, N = 5.
 */
export const nb201SpaceSchema = z.object({
  family: z.literal('nb201'),
  version: z.literal(1),
  ops: z.array(z.enum(NB201_OPS)).min(1),
  channels: choice(z.number().int().positive().max(1024)),
  cellsPerStage: choice(z.number().int().min(1).max(20)),
})
export type Nb201Space = z.infer<typeof nb201SpaceSchema>

/**
 * MLP space for tables: [minBlocks, maxBlocks] dense blocks, each dense(units, activation), optional batch
 * norm, then dropout (a rate of 0 means none); input flattened first; softmax head.
 */
export const mlpSpaceSchema = z
  .object({
    family: z.literal('mlp'),
    version: z.literal(1),
    minBlocks: z.number().int().min(1).max(64),
    maxBlocks: z.number().int().min(1).max(64),
    units: choice(z.number().int().positive().max(65536)),
    activation: choice(activationSchema),
    dropout: choice(z.number().min(0).max(0.95)),
    batchNorm: choice(z.boolean()),
  })
  .refine((s) => s.minBlocks <= s.maxBlocks, {
    message: 'minBlocks must not exceed maxBlocks',
    path: ['maxBlocks'],
  })
export type MlpSpace = z.infer<typeof mlpSpaceSchema>

/** How much of a backbone trains: none of it, the last k blocks before the cut (a number), or all of it. */
export const fineTuneSchema = z.union([z.enum(['frozen', 'all']), z.number().int().min(1).max(64)])
export type FineTune = z.infer<typeof fineTuneSchema>

/** How a backbone's feature map becomes a vector for the head (ignored when the features are already flat). */
export const HEAD_POOLINGS = ['globalAvg', 'flatten'] as const

/**
 * Pretrained-backbone space: one of `backbones` (each with the layers it may be cut at), how much of it is
 * fine-tuned (fine-tuned layers learn at `fineTuneRate` x the learning rate), then a searchable head: pooling,
 * [minBlocks, maxBlocks] dense blocks (units, activation, dropout; a rate of 0 means none) and a softmax
 * classifier. Input size and normalisation follow the backbone.
 */
export const backboneSpaceSchema = z
  .object({
    family: z.literal('backbone'),
    version: z.literal(1),
    backbones: z
      .array(z.object({ id: z.string().min(1).max(64), cuts: choice(z.string().min(1).max(200)) }))
      .min(1),
    fineTune: choice(fineTuneSchema),
    fineTuneRate: z.number().positive().max(1).optional(),
    pooling: choice(z.enum(HEAD_POOLINGS)),
    minBlocks: z.number().int().min(0).max(8),
    maxBlocks: z.number().int().min(0).max(8),
    units: choice(z.number().int().positive().max(65536)),
    activation: choice(activationSchema),
    dropout: choice(z.number().min(0).max(0.95)),
  })
  .refine((s) => s.minBlocks <= s.maxBlocks, {
    message: 'minBlocks must not exceed maxBlocks',
    path: ['maxBlocks'],
  })
export type BackboneSpace = z.infer<typeof backboneSpaceSchema>

/** Any search space definition, by `family`. Each keeps its own `version` so files can evolve per family. */
export const searchSpaceDefSchema = z.discriminatedUnion('family', [
  sequentialSpaceSchema,
  chainSpaceSchema,
  cellSpaceSchema,
  nb201SpaceSchema,
  mlpSpaceSchema,
  backboneSpaceSchema,
])
export type SearchSpaceDef = z.infer<typeof searchSpaceDefSchema>
export type SpaceFamilyName = SearchSpaceDef['family']

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

const nodeBase = {
  id: z.string().min(1),
  /** Optional group (e.g. a cell) this node belongs to, so a viewer can collapse it; see Architecture.groups. */
  group: z.string().optional(),
}
const kernel = z.number().int().positive()
const stride = z.number().int().positive().optional()
const convPadding = z.enum(['same', 'valid']).optional()

/**
 * One concrete op in an architecture graph. Convolutions default to 'same' padding (the map becomes
 * ceil(size / stride)); 'valid' (no padding: floor((size - kernel) / stride) + 1) comes with imported backbones.
 * maxPool2d/avgPool2d default to 'valid' padding with stride = poolSize (floor(size / poolSize)).
 * `strides`/`dilation` default to 1 and `useBias` to true. add/concat merge several inputs (concat on channels);
 * zero outputs zeros (a pruned 'none' edge), shaped like its input with optional stride. zeroPad adds
 * [top, bottom, left, right] rows/columns of zeros; relu is max(x, 0), capped at `maxValue` when given (ReLU6).
 */
export const archNodeSchema = z.discriminatedUnion('op', [
  z.object({
    ...nodeBase,
    op: z.literal('input'),
    /** The network's own input [h, w, c] when it is not the data's (a pretrained backbone's input size). */
    shape: z.array(z.number().int().positive()).optional(),
  }),
  z.object({ ...nodeBase, op: z.literal('flatten') }),
  z.object({
    ...nodeBase,
    op: z.literal('dense'),
    units: z.number().int().positive(),
    activation: z.union([activationSchema, z.literal('softmax')]),
  }),
  z.object({
    ...nodeBase,
    op: z.literal('conv2d'),
    filters: z.number().int().positive(),
    kernelSize: kernel,
    activation: activationSchema,
    strides: stride,
    useBias: z.boolean().optional(),
    padding: convPadding,
  }),
  z.object({
    ...nodeBase,
    op: z.literal('sepConv2d'),
    filters: z.number().int().positive(),
    kernelSize: kernel,
    activation: activationSchema,
    strides: stride,
    useBias: z.boolean().optional(),
    padding: convPadding,
  }),
  z.object({
    ...nodeBase,
    op: z.literal('depthwiseConv2d'),
    kernelSize: kernel,
    activation: activationSchema,
    strides: stride,
    /** Dilation rate (atrous convolution); built as a sum of shifted taps so it also trains on TF.js. */
    dilation: z.number().int().positive().optional(),
    useBias: z.boolean().optional(),
    padding: convPadding,
  }),
  z.object({
    ...nodeBase,
    op: z.literal('maxPool2d'),
    poolSize: z.number().int().min(1),
    strides: stride,
    padding: z.enum(['valid', 'same']).optional(),
  }),
  z.object({
    ...nodeBase,
    op: z.literal('avgPool2d'),
    poolSize: z.number().int().min(1),
    strides: stride,
    padding: z.enum(['valid', 'same']).optional(),
  }),
  z.object({ ...nodeBase, op: z.literal('globalAvgPool') }),
  z.object({ ...nodeBase, op: z.literal('dropout'), rate: z.number().min(0).max(0.95) }),
  z.object({ ...nodeBase, op: z.literal('batchNorm') }),
  z.object({ ...nodeBase, op: z.literal('activation'), activation: activationSchema }),
  z.object({ ...nodeBase, op: z.literal('relu'), maxValue: z.number().positive().optional() }),
  z.object({
    ...nodeBase,
    op: z.literal('zeroPad'),
    padding: z.tuple([
      z.number().int().min(0),
      z.number().int().min(0),
      z.number().int().min(0),
      z.number().int().min(0),
    ]),
  }),
  z.object({ ...nodeBase, op: z.literal('identity') }),
  z.object({ ...nodeBase, op: z.literal('zero'), strides: stride }),
  z.object({ ...nodeBase, op: z.literal('add') }),
  z.object({ ...nodeBase, op: z.literal('concat') }),
])
export type ArchNode = z.infer<typeof archNodeSchema>
export type ArchOp = ArchNode['op']

/** A named group of nodes (a cell, a block, the stem) that a viewer may draw as one collapsible box. */
export const archGroupSchema = z.object({
  id: z.string().min(1),
  label: z.string(),
  kind: z.enum(['stem', 'block', 'normal', 'reduction', 'cell', 'head', 'backbone']),
})
export type ArchGroup = z.infer<typeof archGroupSchema>

const cellNodeGeneSchema = z.object({
  /** Input of each of the 2 edges: 0 = cell k-2, 1 = cell k-1, 2 + m = intermediate node m. */
  inputs: z.tuple([z.number().int().nonnegative(), z.number().int().nonnegative()]),
  ops: z.tuple([z.enum(CELL_OPS), z.enum(CELL_OPS)]),
})
const chainBranchGeneSchema = z.object({
  op: z.enum(['conv2d', 'sepConv2d', 'maxPool2d', 'avgPool2d', 'identity']),
  kernelSize: z.number().int().positive().optional(),
  poolSize: z.number().int().positive().optional(),
  activation: activationSchema.optional(),
})

/**
 * The choices an architecture was built from, per family (the sequential family needs none: its nodes are the
 * choices). Strategies mutate and encode this; the graph is always rebuilt from it.
 */
export const genotypeSchema = z.discriminatedUnion('family', [
  z.object({
    family: z.literal('chain'),
    stemFilters: z.number().int().positive(),
    blocks: z.array(
      z.object({
        filters: z.number().int().positive(),
        strides: z.number().int().positive(),
        merge: z.enum(MERGE_KINDS),
        skip: z.enum(SKIP_KINDS),
        batchNorm: z.boolean(),
        branches: z.array(chainBranchGeneSchema).min(1),
      }),
    ),
  }),
  z.object({
    family: z.literal('cell'),
    channels: z.number().int().positive(),
    cellsPerStage: z.number().int().positive(),
    normal: z.array(cellNodeGeneSchema).min(1),
    reduce: z.array(cellNodeGeneSchema).min(1),
  }),
  z.object({
    family: z.literal('nb201'),
    /** The benchmark's canonical cell string, e.g. |nor_conv_3x3~0|+|none~0|skip_connect~1|+|...~2|. */
    cell: z.string(),
    channels: z.number().int().positive(),
    cellsPerStage: z.number().int().positive(),
  }),
  z.object({
    family: z.literal('mlp'),
    blocks: z.array(
      z.object({
        units: z.number().int().positive(),
        activation: activationSchema,
        dropout: z.number().min(0).max(0.95),
        batchNorm: z.boolean(),
      }),
    ),
  }),
  z.object({
    family: z.literal('backbone'),
    backbone: z.string().min(1),
    cut: z.string().min(1),
    fineTune: fineTuneSchema,
    /** Learning-rate factor of the fine-tuned backbone layers. */
    fineTuneRate: z.number().positive().max(1),
    pooling: z.enum(HEAD_POOLINGS),
    blocks: z.array(
      z.object({
        units: z.number().int().positive(),
        activation: activationSchema,
        dropout: z.number().min(0).max(0.95),
      }),
    ),
  }),
])
export type Genotype = z.infer<typeof genotypeSchema>

/**
 * A concrete network: a DAG of ops. `edges` are [from, to] node ids (a merge node's inputs in edge order); the
 * node with op `input` is the single source and `output` names the sink (the classifier). `groups` lists the
 * cells/blocks that nodes' `group` fields refer to; `genotype` records the choices it was built from.
 */
export const architectureSchema = z.object({
  version: z.literal(1),
  nodes: z.array(archNodeSchema).min(2),
  edges: z.array(z.tuple([z.string(), z.string()])),
  output: z.string(),
  groups: z.array(archGroupSchema).optional(),
  genotype: genotypeSchema.optional(),
})
export type Architecture = z.infer<typeof architectureSchema>

// ---------------------------------------------------------------- runs and trials

/**
 * Search strategies: black-box ones propose candidates and learn from their scores; 'asha' trains many
 * candidates briefly and only the promising ones fully; 'darts' and 'pc-darts' train one weight-sharing
 * network over a cell space, read the architecture off it, then train that one from scratch.
 */
export const BLACK_BOX_STRATEGIES = [
  'random',
  'evolution',
  'local',
  'tpe',
  'bo',
  'bananas',
  'reinforce',
  'asha',
] as const
/** The one-shot (weight-sharing) strategies; their supernet lives in memory, so a run cannot be resumed. */
export const ONE_SHOT_STRATEGIES = ['darts', 'pc-darts'] as const
/** Every strategy a run can use: the one list that the schema, engine, CLI and UI read. */
export const STRATEGIES = [...BLACK_BOX_STRATEGIES, ...ONE_SHOT_STRATEGIES] as const
export type StrategyName = (typeof STRATEGIES)[number]
export type BlackBoxStrategyName = (typeof BLACK_BOX_STRATEGIES)[number]

/** True for the strategies that propose and observe candidates one by one (not one-shot). */
export function isBlackBox(name: string): name is BlackBoxStrategyName {
  return (BLACK_BOX_STRATEGIES as readonly string[]).includes(name)
}

/** True for DARTS and PC-DARTS. */
export function isOneShot(name: string): boolean {
  return (ONE_SHOT_STRATEGIES as readonly string[]).includes(name)
}

/** The second objective next to accuracy (smaller is better), and hard limits a candidate must respect. */
export const objectivesSchema = z.object({
  /** Kept on the Pareto front together with validation accuracy; default 'params'. */
  secondary: z.enum(['params', 'flops']).optional(),
  /** Candidates with more weights are never trained ("at most 200k parameters"). */
  maxParams: z.number().int().positive().optional(),
  /** Candidates with more floating-point operations per sample are never trained. */
  maxFlops: z.number().positive().optional(),
})
export type Objectives = z.infer<typeof objectivesSchema>

/**
 * Zero-cost proxies: scores of an untrained network on one minibatch (higher = expected to train better).
 * synflow (sum of |weight| x gradient of an all-ones forward pass), grad_norm (norm of the loss gradient),
 * snip (|weight x gradient| of the loss), jacob_cov (how differently the network reacts to different images),
 * naswot (how differently its ReLUs switch on different images); params and flops are naive baselines.
 */
export const ZERO_COST_PROXIES = [
  'synflow',
  'grad_norm',
  'snip',
  'jacob_cov',
  'naswot',
  'params',
  'flops',
] as const
export type ZeroCostProxy = (typeof ZERO_COST_PROXIES)[number]

/**
 * Zero-cost pre-ranking: score `candidates` proposals at initialisation with `proxy` and train only the `keep`
 * best of them (repeated while the trial budget lasts).
 */
export const zeroCostSettingsSchema = z
  .object({
    proxy: z.enum(ZERO_COST_PROXIES),
    /** How many candidates to score per round. */
    candidates: z.number().int().min(2).max(10000),
    /** How many of the best-scored candidates of a round to train. */
    keep: z.number().int().min(1).max(10000),
  })
  .refine((s) => s.keep <= s.candidates, {
    message: 'keep must not exceed candidates',
    path: ['keep'],
  })
export type ZeroCostSettings = z.infer<typeof zeroCostSettingsSchema>

/** Train-from-scratch settings; epochs and batch size are per trial. */
export const trainSettingsSchema = z.object({
  epochs: z.number().int().min(1).max(1000),
  batchSize: z.number().int().min(1).max(4096),
  learningRate: z.number().positive().max(10),
  /** Fraction of the training data held out for validation (the score the search sees). */
  validationFraction: z.number().min(0.05).max(0.5),
  /** Optimizer: 'adam' (default) or 'sgd' (SGD with Nesterov momentum 0.9). */
  optimizer: z.enum(['adam', 'sgd']).optional(),
  /** Learning rate over time: 'constant' (default) or 'cosine' (warm up, then glide down to zero). */
  schedule: z.enum(['constant', 'cosine']).optional(),
  /** Epochs of linear learning-rate warm-up before the cosine decay (may be fractional); default 0. */
  warmupEpochs: z.number().min(0).max(100).optional(),
  /** Image augmentation: random shifts by up to `shift` pixels (zero padded) and random left-right flips. */
  augment: z.object({ shift: z.number().int().min(0).max(8), flip: z.boolean() }).optional(),
  /** Label smoothing of the cross-entropy targets (0 = none, default). */
  labelSmoothing: z.number().min(0).max(0.5).optional(),
  /** Proxy: train on this share of the training split (same seeded subset for every trial); default 1. */
  dataFraction: z.number().min(0.001).max(1).optional(),
  /** Proxy: images scaled by this factor (0.5 = half the height and width); default 1. */
  resolution: z.number().min(0.1).max(1).optional(),
  /** Proxy: every layer's channels / units multiplied by this (rounded, at least 1); default 1. */
  widthMultiplier: z.number().min(0.05).max(1).optional(),
  /** Proxy: at most this many cells per stage (cell and NAS-Bench-201 spaces); default all. */
  maxCellsPerStage: z.number().int().min(1).max(20).optional(),
})
export type TrainSettings = z.infer<typeof trainSettingsSchema>

/**
 * Early stopping with learning-curve extrapolation: from epoch `minEpochs` on, a saturating curve is fitted
 * to a trial's validation accuracies and the trial is stopped when even its predicted final accuracy (plus
 * `margin`) cannot reach the `topK`-th best finished trial.
 */
export const earlyStopSchema = z.object({
  minEpochs: z.number().int().min(1).max(1000),
  topK: z.number().int().min(1).max(1000),
  /** Slack added to the prediction before comparing (accuracy units, e.g. 0.01); default 0. */
  margin: z.number().min(0).max(1).optional(),
})
export type EarlyStopSettings = z.infer<typeof earlyStopSchema>

/**
 * Final training: after the search, the best candidate is trained again from scratch with the full recipe
 * (no proxies) on train + validation for `epochs` and scored once on the test split. With a time budget,
 * `reserveMinutes` of it are kept for this step and the epochs are cut to what fits.
 */
export const finalTrainingSchema = z.object({
  epochs: z.number().int().min(1).max(1000),
  reserveMinutes: z.number().min(0).max(100000).optional(),
  /**
   * Workers that train it together (data parallel: each learns from part of every batch and they average
   * their gradients); at most the run's concurrency; default 1.
   */
  workers: z.number().int().min(1).max(64).optional(),
  /** The full recipe; absent = the search's settings without their proxies. */
  train: trainSettingsSchema.optional(),
})
export type FinalTrainingSettings = z.infer<typeof finalTrainingSchema>

/**
 * The seed re-check: after the search, the `candidates` best are trained again, on the same quick-score
 * settings, with a second seed, so the winner's lead can be compared with the noise of training itself.
 */
export const seedCheckSettingsSchema = z.object({
  /** How many of the best candidates to train again (the winner included). */
  candidates: z.number().int().min(2).max(10),
})
export type SeedCheckSettings = z.infer<typeof seedCheckSettingsSchema>

export const runConfigSchema = z.object({
  name: z.string().min(1).max(200),
  datasetId: idSchema,
  spaceId: idSchema,
  strategy: z.enum(STRATEGIES),
  /** Budget: the number of candidates to train. */
  maxTrials: z.number().int().min(1).max(100000),
  /** Budget: stop after this many minutes of wall-clock time (whichever budget ends first). */
  budgetMinutes: z.number().positive().max(100000).optional(),
  /** Multi-objective settings and hard constraints; absent = accuracy only. */
  objectives: objectivesSchema.optional(),
  /** Trials trained at once (worker threads). */
  concurrency: z.number().int().min(1).max(64),
  seed: z
    .number()
    .int()
    .min(0)
    .max(2 ** 31 - 1),
  train: trainSettingsSchema,
  /** Zero-cost pre-ranking of candidates before training; absent = every proposal is trained. */
  zeroCost: zeroCostSettingsSchema.optional(),
  /** Stop hopeless trials early (learning-curve extrapolation); absent = every trial trains all epochs. */
  earlyStop: earlyStopSchema.optional(),
  /** Retrain the winner on train + validation and score it on the test split; absent = no final training. */
  finalTraining: finalTrainingSchema.optional(),
  /** Train the best few again with a second seed when time allows; absent = no re-check. */
  seedCheck: seedCheckSettingsSchema.optional(),
})
export type RunConfig = z.infer<typeof runConfigSchema>

/** One candidate of the seed re-check: its validation accuracy with the search's seed and with a second one. */
export const seedCheckCandidateSchema = z.object({
  trialId: idSchema,
  /** 0-based trial index (the UI numbers trials from 1). */
  index: z.number().int().nonnegative(),
  /** Validation accuracy from the search (first seed). */
  first: z.number(),
  /** Validation accuracy trained again with a second seed, same quick-score settings. */
  second: z.number(),
})
export type SeedCheckCandidate = z.infer<typeof seedCheckCandidateSchema>

/**
 * What the seed re-check found: 'done' with the candidates (best first, by the search's score), the seed noise
 * (root mean square of the two seeds' difference, validation accuracy), the winner's lead over the runner-up
 * in the search, whether that lead is within the noise ('lucky'), and the candidate with the best mean over
 * both seeds, which the final training trains; 'skipped' with the reason when it did not run; 'running' while
 * the candidates train again, with those trained so far and how many are trained in all (`planned`).
 */
export const seedCheckSchema = z.object({
  status: z.enum(['running', 'done', 'skipped']),
  reason: z.string().optional(),
  planned: z.number().int().positive().optional(),
  candidates: z.array(seedCheckCandidateSchema),
  noise: z.number().nullable(),
  lead: z.number().nullable(),
  lucky: z.boolean(),
  pickedTrialId: idSchema.nullable(),
})
export type SeedCheck = z.infer<typeof seedCheckSchema>

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
  /** A person's notes and tags (History view); absent on runs never annotated. */
  notes: z.string().optional(),
  tags: z.array(z.string()).optional(),
  /** The final-training trial (winner retrained on train + validation); absent/null = none (yet). */
  finalTrialId: idSchema.nullable().optional(),
  /** Test-split accuracy of the final training, the only test score a run reports. */
  finalTestAccuracy: z.number().nullable().optional(),
  /**
   * The signal check's warning in plain words when the search's scores cannot tell candidates apart (mostly
   * at chance, or far below training accuracy); absent/null = no warning.
   */
  signalWarning: z.string().nullable().optional(),
  /** The seed re-check of the best candidates (config.seedCheck); absent/null = not run (yet). */
  seedCheck: seedCheckSchema.nullable().optional(),
})
export type Run = z.infer<typeof runSchema>

/** How a trial was scored when it was not full training: what was cut down (absent fields = not cut). */
export const trialProxySchema = z.object({
  epochs: z.number().int().positive(),
  dataFraction: z.number().optional(),
  resolution: z.number().optional(),
  widthMultiplier: z.number().optional(),
  maxCellsPerStage: z.number().int().optional(),
})
export type TrialProxy = z.infer<typeof trialProxySchema>

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
  /** Zero-cost proxy score it was pre-ranked with (run.config.zeroCost.proxy); absent or null = not scored. */
  zeroCostScore: z.number().nullable().optional(),
  /** The proxy it was scored with (epochs, data share, resolution, width, cells); absent = full training. */
  proxy: trialProxySchema.optional(),
  /** True when early stopping ended it before its last epoch (its valAccuracy is the last one seen). */
  stoppedEarly: z.boolean().optional(),
  /** Why it was stopped early, in words. */
  stopReason: z.string().optional(),
  /** Final validation accuracy predicted by learning-curve extrapolation (when it was stopped early). */
  predictedAccuracy: z.number().optional(),
  /** True for the final training of the run's winner (trained on train + validation). */
  isFinal: z.boolean().optional(),
  /** Test-split accuracy (only the final trial has one). */
  testAccuracy: z.number().optional(),
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
  /** Epochs the training plans in all as of this epoch (a time limit re-plans them); absent in older records. */
  epochs: z.number().int().positive().optional(),
})
export type TrialEpoch = z.infer<typeof trialEpochSchema>

export const appInfoSchema = z.object({
  name: z.string(),
  version: z.string(),
  /** Which shell serves the UI: the Electron window or web mode in a browser. */
  mode: z.enum(['electron', 'web']),
  /** Why this mode (e.g. "Electron binary not installed: serving web mode"). */
  modeReason: z.string(),
  /** Compute backend: tfjs name, why it was chosen, and the device (GPU name or CPU model + threads). */
  backend: z.object({ name: z.string(), detail: z.string(), device: z.string() }),
  dataDir: z.string(),
})
export type AppInfo = z.infer<typeof appInfoSchema>

/** One point of a run's Pareto front: a trial no other trial beats on both accuracy and the secondary cost. */
export const paretoPointSchema = z.object({
  trialId: idSchema,
  valAccuracy: z.number(),
  params: z.number().int().nonnegative(),
  flops: z.number().nonnegative(),
})
export type ParetoPoint = z.infer<typeof paretoPointSchema>

/**
 * Architecture weights of a differentiable search (DARTS, PC-DARTS) after one epoch of the supernet: for each
 * edge of the cell, softmax(alpha) over `ops`; `beta` holds PC-DARTS's edge-normalisation weights per node.
 */
export const alphaSnapshotSchema = z.object({
  runId: idSchema,
  epoch: z.number().int().nonnegative(),
  cell: z.enum(['nb201', 'normal', 'reduce']),
  ops: z.array(z.string()),
  /** Edge names, e.g. "1<-0" (NAS-Bench-201) or "node 2 <- input 0" (DARTS). */
  edges: z.array(z.string()),
  weights: z.array(z.array(z.number())),
  beta: z.array(z.array(z.number())).optional(),
})
export type AlphaSnapshot = z.infer<typeof alphaSnapshotSchema>
