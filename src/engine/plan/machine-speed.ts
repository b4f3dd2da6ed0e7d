import type { Architecture, SearchPlan } from '../../shared'
import { archWork, DEFAULT_SPEED, sampledArchitectures, scaleSpeed, stepMs } from './cost'
import { planSearch, PLAN_BATCH_SIZE, type PlanInput } from './planner'
import { probeSpeed, type SpeedProbe } from './speed-probe'

/** The measured factor is held within these bounds: a probe disturbed by a burst of other work stays sane. */
const FACTOR_RANGE = [0.05, 50] as const

/**
 * The drawn candidate of the space `plan` chose whose training step the planner rates in the middle of the
 * space's draws: what a typical candidate of this search trains like. Null when the space is not a preset
 * that takes the data.
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

/** Said with every plan counted at the measured speed. */
export const MEASURED_SPEED_REASON =
  'The counts are for this computer as fast as it is right now: a few training steps were timed just now. If it gets busier or quieter during the search, fewer or more candidates are trained; the search still ends on time.'

/**
 * planSearch at this machine's speed of the moment: plans once at the reference speed to know the space,
 * times a few training steps of its typical candidate on the real data shape and backend (well under a
 * second on an idle machine), scales the planner's speed by what it found and plans again. Each call measures
 * anew, so a plan recomputed after the load changed counts with the new speed. `probe` is null when nothing
 * could be timed (then the plan is at the reference speed). `probe` (the function) is injectable for tests.
 */
export async function planAtMachineSpeed(
  input: PlanInput,
  probe: typeof probeSpeed = probeSpeed,
): Promise<{ plan: SearchPlan; probe: SpeedProbe | null }> {
  const base = input.speed ?? DEFAULT_SPEED
  const first = planSearch({ ...input, speed: base })
  const arch = typicalCandidate(input, first)
  if (!arch) return { plan: first, probe: null }
  const measured = await probe(arch, input.data.inputShape, input.data.classNames.length, {
    batchSize: PLAN_BATCH_SIZE,
    speed: base,
  })
  if (!Number.isFinite(measured.factor) || measured.factor <= 0) return { plan: first, probe: null }
  const factor = Math.min(FACTOR_RANGE[1], Math.max(FACTOR_RANGE[0], measured.factor))
  const plan = planSearch({ ...input, speed: scaleSpeed(base, factor) })
  return {
    plan: { ...plan, speedFactor: factor, reasons: [...plan.reasons, MEASURED_SPEED_REASON] },
    probe: measured,
  }
}
