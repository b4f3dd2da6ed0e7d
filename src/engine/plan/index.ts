export {
  planSearch,
  planRunConfig,
  minCandidates,
  finalShare,
  atMeasuredSpeed,
  PLAN_VALIDATION_FRACTION,
} from './planner'
export type { PlanInput, PlanData, MeasuredSpeed } from './planner'
export { candidateMs, loadMs, archWork, sampledWork, meanWork, DEFAULT_SPEED, COST_SAMPLES } from './cost'
export type { MachineSpeed, CandidateWork, ArchWork } from './cost'
export { scaleSpeed, stepMs, sampledArchitectures } from './cost'
