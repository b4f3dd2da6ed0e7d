import type { Architecture, SearchPlan } from '../../shared'
import { archWork, DEFAULT_SPEED, sampledArchitectures, stepMs } from './cost'
import { atMeasuredSpeed, planSearch, PLAN_BATCH_SIZE, type MeasuredSpeed, type PlanInput } from './planner'
import { probeSpeed, type SpeedProbe } from './speed-probe'

/** The measured factor is held within these bounds: a probe disturbed by a burst of other work stays sane. */
const FACTOR_RANGE = [0.05, 50] as const
/** Spaces timed at most per plan (each probe takes about a second). */
const MAX_PROBES = 3
/** A probe step should take about this long at the reference speed (ms): its batch is cut to fit. */
const PROBE_STEP_MS = 20
/** Fewest samples in a probe's batch. */
const MIN_PROBE_BATCH = 8

/** Said with every plan counted at the measured speed. */
export const MEASURED_SPEED_REASON =
  'The counts are for this computer as fast as it is right now: a few training steps were timed just now. If it gets busier or quieter during the search, fewer or more candidates are trained; the search still ends on time.'

/**
 * The drawn candidate of space `plan.spaceId` whose training step the planner rates in the middle of the
 * space's draws: what a typical candidate of this search trains like. Null when the space is not one of the
 * input's or cannot take the data.
 */
export function typicalCandidate(input: PlanInput, plan: Pick<SearchPlan, 'spaceId'>): Architecture | null {
  const space = input.spaces.find((s) => s.id === plan.spaceId)
  if (!space) return null
  const { inputShape, classNames } = input.data
  const archs = sampledArchitectures(space.def, inputShape, classNames.length)
  if (!archs) return null
  const rated = archs
    .map((arch) => ({ arch, ms: stepMs(archWork(arch, inputShape), PLAN_BATCH_SIZE) }))
    .sort((a, b) => a.ms - b.ms)
  return rated[Math.floor(rated.length / 2)]!.arch
}

/**
 * The batch a probe of `arch` trains on: the planned 64, cut for a costly network so that a step takes about
 * PROBE_STEP_MS at the reference speed and the probe stays short.
 */
export function probeBatch(arch: Architecture, inputShape: number[]): number {
  const work = archWork(arch, inputShape)
  const fixed = stepMs(work, 0)
  const perSample = (stepMs(work, PLAN_BATCH_SIZE) - fixed) / PLAN_BATCH_SIZE
  const fits = Math.floor((PROBE_STEP_MS - fixed) / Math.max(1e-9, perSample))
  return Math.min(PLAN_BATCH_SIZE, Math.max(MIN_PROBE_BATCH, fits))
}

/**
 * planSearch at this machine's speed of the moment: plans at the reference speed to know the space, times a
 * few training steps of its typical candidate on the real data shape and backend (about a second), scales the
 * planner's speed for that space by what it found and plans again; when that plan takes another space, that
 * one is timed too (the speed model errs differently on different spaces), up to MAX_PROBES. Each call
 * measures anew, so a plan recomputed after the load changed counts with the new speed. `probe` is null when
 * nothing could be timed (the plan is then at the reference speed); else the last probe. The probe function is
 * injectable for tests.
 */
export async function planAtMachineSpeed(
  input: PlanInput,
  probe: typeof probeSpeed = probeSpeed,
): Promise<{ plan: SearchPlan; probe: SpeedProbe | null }> {
  const base = input.speed ?? DEFAULT_SPEED
  const { inputShape, classNames } = input.data
  let plan = planSearch({ ...input, speed: base })
  const measured: MeasuredSpeed = { factor: 1, spaceFactors: {} }
  let last: SpeedProbe | null = null
  for (let i = 0; i < MAX_PROBES && !(plan.spaceId in measured.spaceFactors); i++) {
    const arch = typicalCandidate(input, plan)
    if (!arch) break
    // a probe that fails (a backend that cannot train here) leaves the plan at the speeds timed so far:
    // planning must not fail for want of a timing
    const timed = await probe(arch, inputShape, classNames.length, {
      batchSize: probeBatch(arch, inputShape),
      speed: base,
    }).catch(() => null)
    if (timed === null || !Number.isFinite(timed.factor) || timed.factor <= 0) break
    last = timed
    measured.factor = Math.min(FACTOR_RANGE[1], Math.max(FACTOR_RANGE[0], timed.factor))
    measured.spaceFactors[plan.spaceId] = measured.factor
    plan = planSearch(atMeasuredSpeed(input, base, measured))
  }
  // nothing timed: the loop did not re-plan, so `plan` is the plan at the reference speed
  if (last === null) return { plan, probe: null }
  return {
    plan: { ...plan, speed: measured, reasons: [...plan.reasons, MEASURED_SPEED_REASON] },
    probe: last,
  }
}
