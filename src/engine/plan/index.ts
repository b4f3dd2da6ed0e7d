export { planSearch, planRunConfig, minCandidates, finalShare, PLAN_VALIDATION_FRACTION } from './planner'
export type { PlanInput, PlanData } from './planner'
export { candidateMs, meanForwardMacs, DEFAULT_SPEED } from './cost'
export type { MachineSpeed, CandidateWork } from './cost'
