import { z } from 'zod'
import { searchSpaceDefSchema } from './domain'

/**
 * Schemas of the studio's analysis and library methods (space designer, architecture viewer, run history).
 * JSON-safe like everything in the contract.
 */

/** One problem of a space definition: `path` is the field (e.g. "ops.1.filters"), empty for the whole space. */
export const spaceProblemSchema = z.object({ path: z.string(), message: z.string() })
export type SpaceProblem = z.infer<typeof spaceProblemSchema>

/** `spaces.analyze` request: any JSON (an invalid definition is reported, not rejected). */
export const spaceAnalyzeRequestSchema = z
  .object({
    def: z.unknown(),
    /** Shape of one sample the space is sized for; default [28, 28, 1]. */
    inputShape: z.array(z.number().int().positive()).min(1).max(3).optional(),
    numClasses: z.number().int().min(2).max(10000).optional(),
    /** Architectures sampled for the parameter and FLOP ranges; default 64. */
    samples: z.number().int().min(1).max(1000).optional(),
  })
  .strict()

/**
 * What the designer shows live: whether the space is valid (and why not), its size, and the range of
 * parameters and multiply-adds of its architectures. The ranges are estimated from `sampled` random
 * architectures (`estimated` is then true): the true extremes may lie a little outside.
 */
export const spaceAnalysisSchema = z.object({
  valid: z.boolean(),
  errors: z.array(spaceProblemSchema),
  /** Number of choice combinations (may be approximate; null when beyond doubles) and its log10. */
  size: z.number().nullable(),
  sizeLog10: z.number().nullable(),
  minParams: z.number().nullable(),
  maxParams: z.number().nullable(),
  minFlops: z.number().nullable(),
  maxFlops: z.number().nullable(),
  sampled: z.number().int().nonnegative(),
  estimated: z.boolean(),
})
export type SpaceAnalysis = z.infer<typeof spaceAnalysisSchema>

/** `spaces.save`: a new space (no id) or an update of one of the user's own spaces (with its id). */
export const spaceSaveRequestSchema = z
  .object({
    id: z.string().min(1).max(200).optional(),
    name: z.string().trim().min(1).max(200),
    description: z.string().max(2000),
    def: searchSpaceDefSchema,
  })
  .strict()

/** Output shape, weights and multiply-adds of one node of an architecture. */
export const archNodeInfoSchema = z.object({
  id: z.string(),
  shape: z.array(z.number()),
  params: z.number().int().nonnegative(),
  flops: z.number().nonnegative(),
})
export type ArchNodeInfo = z.infer<typeof archNodeInfoSchema>

/** `trials.analyze`: per-node shapes and parameter counts of a trial's network, for the dataset it ran on. */
export const archAnalysisSchema = z.object({
  inputShape: z.array(z.number().int().positive()),
  nodes: z.array(archNodeInfoSchema),
  params: z.number().int().nonnegative(),
  flops: z.number().nonnegative(),
})
export type ArchAnalysis = z.infer<typeof archAnalysisSchema>

/** `runs.annotate`: a person's notes and tags on a run; omitted fields are left as they are. */
export const runAnnotateRequestSchema = z
  .object({
    runId: z.string().min(1).max(200),
    notes: z.string().max(10000).optional(),
    tags: z.array(z.string().trim().min(1).max(40)).max(20).optional(),
  })
  .strict()

/** Answer of a delete: what was deleted. */
export const deletedSchema = z.object({ deleted: z.literal(true), id: z.string() })

/** `runs.summaries`: what History shows beside each run that the run row does not hold. */
export const runSummarySchema = z.object({
  runId: z.string(),
  /** Parameters of the run's best network; null before a candidate finished. */
  bestParams: z.number().int().nonnegative().nullable(),
  trials: z.number().int().nonnegative(),
})
export type RunSummary = z.infer<typeof runSummarySchema>
