export { planSearch, planRunConfig, minCandidates, finalShare, PLAN_VALIDATION_FRACTION } from './planner'
export type { PlanInput, PlanData } from './planner'
export { candidateMs, loadMs, archWork, sampledWork, meanWork, DEFAULT_SPEED, COST_SAMPLES } from './cost'
export type { MachineSpeed, CandidateWork, ArchWork } from './cost'
