import type { Architecture, SearchSpaceDef, SpaceFamilyName } from '../../shared'
import { NasError, searchSpaceDefSchema } from '../../shared'
import type { Rng } from '../rng'
import { backboneFamily } from './backbone'
import { cellFamily } from './cell'
import { chainFamily } from './chain'
import type { SpaceFamily, SpaceSize } from './family'
import { mlpFamily } from './mlp'
import { nb201Family } from './nb201'
import { sequentialFamily } from './sequential'

/**
 * The search-space IR's public face: every operation dispatches on the definition's `family` to one module
 * (sequential.ts, chain.ts, cell.ts, nb201.ts, mlp.ts), all implementing SpaceFamily.
 */

type FamilyTable = { [K in SpaceFamilyName]: SpaceFamily<Extract<SearchSpaceDef, { family: K }>> }

const FAMILIES: FamilyTable = {
  sequential: sequentialFamily,
  chain: chainFamily,
  cell: cellFamily,
  nb201: nb201Family,
  mlp: mlpFamily,
  backbone: backboneFamily,
}

/** The family module of `def` (its schema must already be valid). */
function familyOf(def: SearchSpaceDef): SpaceFamily<SearchSpaceDef> {
  return FAMILIES[def.family] as SpaceFamily<SearchSpaceDef>
}

/**
 * Checks a search space definition, throwing NasError('invalid_space') with a precise message naming the
 * field: the zod schema first (family, version, bounds, non-empty choice lists), then the family's meaning
 * checks; with `inputShape`, also whether the space fits that data.
 */
export function validateSpace(def: SearchSpaceDef, inputShape?: number[]): void {
  const parsed = searchSpaceDefSchema.safeParse(def)
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!
    const where = issue.path.length > 0 ? issue.path.join('.') : 'space'
    throw new NasError('invalid_space', `Search space is invalid at ${where}: ${issue.message}`)
  }
  familyOf(parsed.data).validate(parsed.data, inputShape)
}

/**
 * Draws one architecture uniformly over the space's choices (see each family), with a softmax head of
 * `numClasses` units. Deterministic given the rng state.
 */
export function sampleArchitecture(
  def: SearchSpaceDef,
  rng: Rng,
  inputShape: number[],
  numClasses = 10,
): Architecture {
  validateSpace(def, inputShape)
  return familyOf(def).sample(def, rng, inputShape, numClasses)
}

/** A neighbour of `arch` in `def`: exactly one choice changed to another value (rebuilt as a new graph). */
export function mutateArchitecture(
  def: SearchSpaceDef,
  arch: Architecture,
  rng: Rng,
  inputShape: number[],
  numClasses = 10,
): Architecture {
  return familyOf(def).mutate(def, arch, rng, inputShape, numClasses)
}

/** Fixed-length numeric vector (values in [0, 1]) of `arch` in `def`, for model-based strategies. */
export function encodeArchitecture(def: SearchSpaceDef, arch: Architecture): number[] {
  return familyOf(def).encode(def, arch)
}

/** Length of encodeArchitecture's vectors for `def`. */
export function encodingLength(def: SearchSpaceDef): number {
  return familyOf(def).encodingLength(def)
}

/** Number of choice combinations of `def` and its log10 (count is approximate or Infinity for huge spaces). */
export function spaceSizeInfo(def: SearchSpaceDef): SpaceSize {
  return familyOf(def).size(def)
}

/** Number of choice combinations of `def` (an upper bound on distinct architectures; may be Infinity). */
export function spaceSize(def: SearchSpaceDef): number {
  return spaceSizeInfo(def).count
}

export type { SpaceFamily, SpaceSize } from './family'
export { archHash, dagSignature, nb201Hash } from './hash'
export {
  activationMemory,
  countFlops,
  countParams,
  inferShapes,
  topoOrder,
  inputsOf,
  validateArchitecture,
} from './shapes'
export { buildBackboneArch, DEFAULT_FINE_TUNE_RATE } from './backbone'
export {
  BACKBONE_NODE_PREFIX,
  backboneById,
  findBackbone,
  forgetBackbone,
  registerBackbone,
} from './backbones'
export type { BackboneWeights, LoadedBackbone } from './backbones'
export {
  NB201_EDGES,
  buildNb201,
  encodeNb201,
  nb201CanonicalForm,
  nb201FromString,
  nb201ToString,
} from './nb201'
