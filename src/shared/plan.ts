import { z } from 'zod'
import { backboneSpaceSchema } from './domain'

/**
 * The time-first search plan: from the data and the time a person allows, the planner picks the search space,
 * strategy, proxy and the share of the time for the final training, and estimates what fits. JSON-safe.
 */

/** The time choices the New Search form offers first, in minutes ('overnight' = 10 hours). */
export const TIME_CHOICES = [
  { key: '5m', label: '5 minutes', minutes: 5 },
  { key: '15m', label: '15 minutes', minutes: 15 },
  { key: '1h', label: '1 hour', minutes: 60 },
  { key: 'overnight', label: 'Overnight', minutes: 600 },
] as const

export const planRequestSchema = z
  .object({
    datasetId: z.string().min(1).max(200),
    /** Wall-clock minutes the whole run may take, final training included. */
    minutes: z.number().min(1).max(100000),
    /** Candidates trained at once; default 1. */
    workers: z.number().int().min(1).max(64).optional(),
  })
  .strict()
export type PlanRequest = z.infer<typeof planRequestSchema>

export const searchPlanSchema = z.object({
  minutes: z.number(),
  spaceId: z.string(),
  spaceName: z.string(),
  strategy: z.enum(['random', 'evolution']),
  /** Epochs each candidate trains while searching. */
  epochs: z.number().int().positive(),
  /** Share of the training data each candidate learns from (1 = all). */
  dataFraction: z.number(),
  /** Share of the time kept for training the winner on all the data. */
  finalShare: z.number(),
  /** Upper bound on the candidates (the time limit normally ends the search first). */
  maxTrials: z.number().int().positive(),
  /** Epochs cap of the final training; its time limit cuts them to what fits. */
  finalEpochs: z.number().int().positive(),
  estimate: z.object({
    /** Candidates expected to finish in the search's share of the time. */
    candidates: z.number().int().nonnegative(),
    /** Seconds one candidate is expected to take. */
    candidateSeconds: z.number(),
    /** Epochs of the final training expected to fit. */
    finalEpochs: z.number().int().nonnegative(),
    /** Minutes the final training is expected to take. */
    finalMinutes: z.number(),
    /** Minutes the whole run is expected to take (search + final training). */
    totalMinutes: z.number(),
  }),
  /**
   * Candidates trained again with a second seed at the end of the search, to check the winner's lead against
   * seed noise (their time comes out of the search's share); absent or 0 = no re-check (too few candidates).
   */
  seedCheck: z.number().int().nonnegative().optional(),
  /**
   * A search over heads on a pretrained backbone, proposed for small image datasets when a backbone fits the
   * images; `spaceId` stays the from-scratch choice for when the person declines it.
   */
  backbone: z.object({ id: z.string(), name: z.string(), space: backboneSpaceSchema }).optional(),
  /**
   * How this machine trained when the plan was made, against the planner's reference speed (2 = half as
   * fast): a few training steps of a typical candidate of each space in `spaceFactors` (by space id) were timed
   * then; `factor` is the last one timed, used for the other spaces. The estimate counts with them. Absent when
   * nothing was timed (the estimate is then at the reference speed).
   */
  speed: z
    .object({ factor: z.number().positive(), spaceFactors: z.record(z.string(), z.number().positive()) })
    .optional(),
  /** Why these choices, in plain words, one sentence each. */
  reasons: z.array(z.string()),
})
export type SearchPlan = z.infer<typeof searchPlanSchema>
