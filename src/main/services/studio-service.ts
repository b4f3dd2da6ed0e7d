import {
  NasError,
  searchSpaceDefSchema,
  toErrorData,
  type ApiHandlers,
  type Architecture,
  type ArchAnalysis,
  type SearchSpace,
  type SpaceAnalysis,
} from '../../shared'
import {
  countFlops,
  countParams,
  inferShapes,
  sampleArchitecture,
  spaceSizeInfo,
  validateSpace,
} from '../../engine/space'
import { inputsByNode, nodeFlops, nodeParams } from '../../engine/space/shapes'
import { createRng } from '../../engine/rng'
import type { AppDb } from '../db'

/**
 * The studio's analysis and library methods: live space analysis for the designer, per-node shapes for the
 * architecture viewer, saving / deleting the user's spaces, deleting and annotating runs. Space maths is the
 * engine's pure space module (no TensorFlow), so it runs in the main process directly.
 */

const DEFAULT_INPUT = [28, 28, 1]
const DEFAULT_SAMPLES = 64
/** Sampling stops after this long so a live analysis never stalls the main process. */
const SAMPLE_BUDGET_MS = 250

/** Validity, size and estimated parameter / FLOP ranges of any JSON as a space definition. */
export function analyzeSpace(
  raw: unknown,
  opts: { inputShape?: number[]; numClasses?: number; samples?: number } = {},
): SpaceAnalysis {
  const empty: SpaceAnalysis = {
    valid: false,
    errors: [],
    size: null,
    sizeLog10: null,
    minParams: null,
    maxParams: null,
    minFlops: null,
    maxFlops: null,
    sampled: 0,
    estimated: true,
  }
  const parsed = searchSpaceDefSchema.safeParse(raw)
  if (!parsed.success) {
    return {
      ...empty,
      errors: parsed.error.issues.map((i) => ({ path: i.path.map(String).join('.'), message: i.message })),
    }
  }
  const def = parsed.data
  const inputShape = opts.inputShape ?? DEFAULT_INPUT
  const numClasses = opts.numClasses ?? 10
  try {
    validateSpace(def, inputShape)
  } catch (err) {
    return { ...empty, errors: [{ path: '', message: toErrorData(err).message }] }
  }
  const size = spaceSizeInfo(def)
  const rng = createRng(7)
  const started = Date.now()
  let minParams = Infinity
  let maxParams = -Infinity
  let minFlops = Infinity
  let maxFlops = -Infinity
  let sampled = 0
  const wanted = opts.samples ?? DEFAULT_SAMPLES
  while (sampled < wanted && (sampled < 4 || Date.now() - started < SAMPLE_BUDGET_MS)) {
    const arch = sampleArchitecture(def, rng, inputShape, numClasses)
    const p = countParams(arch, inputShape)
    const f = countFlops(arch, inputShape)
    minParams = Math.min(minParams, p)
    maxParams = Math.max(maxParams, p)
    minFlops = Math.min(minFlops, f)
    maxFlops = Math.max(maxFlops, f)
    sampled++
  }
  return {
    valid: true,
    errors: [],
    size: Number.isFinite(size.count) ? size.count : null,
    sizeLog10: Number.isFinite(size.log10) ? size.log10 : null,
    minParams,
    maxParams,
    minFlops,
    maxFlops,
    sampled,
    estimated: true,
  }
}

/** Output shape, weights and multiply-adds of every node of `arch` for samples of `inputShape`. */
export function analyzeArchitecture(arch: Architecture, inputShape: number[]): ArchAnalysis {
  const shapes = inferShapes(arch, inputShape)
  const ins = inputsByNode(arch)
  const nodes = arch.nodes.map((node) => {
    const shape = shapes.get(node.id) ?? []
    if (node.op === 'input') return { id: node.id, shape, params: 0, flops: 0 }
    const input = shapes.get(ins.get(node.id)![0]!)!
    return { id: node.id, shape, params: nodeParams(node, input), flops: nodeFlops(node, input, shape) }
  })
  return { inputShape, nodes, params: countParams(arch, inputShape), flops: countFlops(arch, inputShape) }
}

type StudioMethods =
  | 'spaces.analyze'
  | 'spaces.save'
  | 'spaces.delete'
  | 'runs.annotate'
  | 'runs.summaries'
  | 'trials.runEpochs'
  | 'trials.analyze'

/** Handlers of the studio methods; `runs.delete` stays with the run lifecycle in services/index.ts. */
export function createStudioHandlers(opts: {
  db: AppDb
  nowIso: () => string
  newId: () => string
  /** Loads the backbones a space on pretrained backbones uses (their graphs are sampled); absent in fakes. */
  loadBackbones?: (ids: readonly string[]) => Promise<void>
}): Pick<ApiHandlers, StudioMethods> {
  const { db } = opts
  return {
    'spaces.analyze': async ({ def, inputShape, numClasses, samples }) => {
      const d = def as { family?: unknown; backbones?: unknown }
      // a backbone that cannot be loaded is reported by the analysis itself, in plain words
      if (d.family === 'backbone' && Array.isArray(d.backbones) && opts.loadBackbones)
        await opts.loadBackbones(d.backbones.map((b) => String((b as { id?: unknown }).id))).catch(() => {})
      return analyzeSpace(def, {
        ...(inputShape ? { inputShape } : {}),
        ...(numClasses ? { numClasses } : {}),
        ...(samples ? { samples } : {}),
      })
    },
    'spaces.save': async ({ id, name, description, def }) => {
      validateSpace(def)
      if (id !== undefined) {
        const existing = db.spaces.require(id)
        if (existing.preset) {
          throw new NasError(
            'conflict',
            `"${existing.name}" is a built-in space and cannot be changed; save a copy.`,
          )
        }
        db.spaces.updateOwn(id, { name, description, def })
        return db.spaces.require(id)
      }
      const space: SearchSpace = {
        id: opts.newId(),
        name,
        description,
        preset: false,
        def,
        createdAt: opts.nowIso(),
      }
      db.spaces.insert(space)
      return space
    },
    'spaces.delete': async ({ spaceId }) => {
      const space = db.spaces.require(spaceId)
      if (space.preset)
        throw new NasError('conflict', `"${space.name}" is a built-in space and cannot be deleted.`)
      const used = db.spaces.runCount(spaceId)
      if (used > 0) {
        throw new NasError(
          'conflict',
          `"${space.name}" was searched by ${used} run${used === 1 ? '' : 's'}; delete ${used === 1 ? 'that run' : 'those runs'} first.`,
        )
      }
      db.spaces.deleteOwn(spaceId)
      return { deleted: true as const, id: spaceId }
    },
    'runs.annotate': async ({ runId, notes, tags }) => {
      db.runs.annotate(runId, notes, tags === undefined ? undefined : [...new Set(tags.map((t) => t.trim()))])
      return db.runs.require(runId)
    },
    'runs.summaries': async () => db.runs.summaries(),
    'trials.runEpochs': async ({ runId }) => {
      db.runs.require(runId)
      return db.trials.listRunEpochs(runId)
    },
    'trials.analyze': async ({ trialId }) => {
      const trial = db.trials.require(trialId)
      const run = db.runs.require(trial.runId)
      const dataset = db.datasets.get(run.config.datasetId)
      const inputShape = dataset?.inputShape ?? DEFAULT_INPUT
      return analyzeArchitecture(trial.architecture, inputShape)
    },
  }
}
