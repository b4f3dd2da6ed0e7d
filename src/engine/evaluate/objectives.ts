import type { Architecture, Objectives } from '../../shared'
import { countFlops, countParams } from '../space'

/** Weights and FLOPs of a candidate, counted from its graph before any training. */
export interface CandidateCost {
  params: number
  flops: number
}

/** Counts the candidate's weights and its floating-point operations per sample. */
export function candidateCost(arch: Architecture, inputShape: number[]): CandidateCost {
  return { params: countParams(arch, inputShape), flops: countFlops(arch, inputShape) }
}

/** Why a candidate breaks the hard limits of `objectives`, in words; null when it respects them. */
export function constraintViolation(cost: CandidateCost, objectives: Objectives | undefined): string | null {
  if (objectives?.maxParams !== undefined && cost.params > objectives.maxParams)
    return `${cost.params.toLocaleString('en-US')} parameters exceed the limit of ${objectives.maxParams.toLocaleString('en-US')}`
  if (objectives?.maxFlops !== undefined && cost.flops > objectives.maxFlops)
    return `${cost.flops.toLocaleString('en-US')} FLOPs exceed the limit of ${objectives.maxFlops.toLocaleString('en-US')}`
  return null
}
