import type {
  BackboneInfo,
  Dataset,
  RunConfig,
  SearchSpace,
  SearchSpaceDef,
  TrainSettings,
} from '../../shared'
import { backboneProposal } from './backbone-proposal'
import type { SearchPlan } from '../../shared/plan'
import {
  candidateMs,
  DEFAULT_SPEED,
  loadMs,
  meanWork,
  sampledWork,
  scaleSpeed,
  type ArchWork,
  type MachineSpeed,
} from './cost'

/** What the planner needs to know about the data. */
export type PlanData = Pick<Dataset, 'inputShape' | 'classNames' | 'numTrain'> &
  Partial<Pick<Dataset, 'numValidation' | 'numTest'>>

/** The planner's inputs: the data, the time and the spaces it may choose from (presets only are considered). */
export interface PlanInput {
  data: PlanData
  /** Wall-clock minutes the whole run may take, final training included. */
  minutes: number
  spaces: ReadonlyArray<Pick<SearchSpace, 'id' | 'name' | 'preset' | 'def'>>
  /** Candidates trained at once; default 1. */
  workers?: number
  /** This machine's speed; default DEFAULT_SPEED. */
  speed?: MachineSpeed
  /**
   * Speeds measured on candidates of particular spaces (by space id), for those spaces: the speed model's error
   * differs from space to space, so a speed timed on one space's candidates holds for that space.
   */
  spaceSpeeds?: Readonly<Record<string, MachineSpeed>>
  /** Backbones on this computer: for small image datasets the plan proposes searching heads on one. */
  backbones?: ReadonlyArray<
    Pick<BackboneInfo, 'id' | 'name' | 'inputShape' | 'cutPoints' | 'fineTunableBlocks'>
  >
}

/** Validation share carved from the training data when the data has no validation split of its own. */
export const PLAN_VALIDATION_FRACTION = 0.2
/** Batch size of every planned training. */
export const PLAN_BATCH_SIZE = 64
/** Shares of the training data a candidate may learn from, largest first (the New Search form offers these). */
const FRACTIONS = [1, 0.5, 0.25, 0.1, 0.05]
/** Fewest training samples a candidate learns from when the data share is cut. */
const MIN_CANDIDATE_SAMPLES = 1000
/** Fewest epochs of the final training worth planning for: a space that leaves fewer is too slow. */
const MIN_FINAL_EPOCHS = 3
/** Time (ms) the scheduler keeps after the final training for scoring the test split (its margin). */
const SCORING_MARGIN_MS = 15_000
/**
 * Largest share of the search's time one candidate of the space may take: the costliest of the drawn
 * candidates must fit this many times, so that one expensive network cannot eat the search.
 */
const COSTLIEST_FITS = 3

/** Candidates the seed re-check trains again, when the search has at least SEED_CHECK_MIN_CANDIDATES. */
const SEED_CHECK_CANDIDATES = 3
/** Fewest candidates a search must fit to spend some of them on the seed re-check. */
const SEED_CHECK_MIN_CANDIDATES = 10

/** Fewest candidates worth a search of `minutes`: a short search compares a few, a long one many. */
export function minCandidates(minutes: number): number {
  if (minutes <= 5) return 6
  if (minutes <= 15) return 10
  if (minutes <= 60) return 20
  return 40
}

/** Share of the time kept for the final training: larger for short runs, where the winner needs it most. */
export function finalShare(minutes: number): number {
  if (minutes <= 5) return 0.4
  if (minutes <= 15) return 0.35
  return 0.3
}

/** Epochs per candidate while searching: 2 for short runs, 3 (with early stopping) for an hour or more. */
function searchEpochs(minutes: number): number {
  return minutes >= 60 ? 3 : 2
}

function hasConvolution(def: SearchSpaceDef): boolean {
  if (def.family === 'sequential') return def.ops.some((o) => o.op === 'conv2d' || o.op === 'sepConv2d')
  return def.family !== 'mlp'
}

/**
 * Cell spaces (DARTS / NASNet cells, NAS-Bench-201) train every candidate as a deep stack of cells: many
 * minutes per candidate on a CPU, so the planner leaves them to the Advanced choices.
 */
function isDeepCellSpace(def: SearchSpaceDef): boolean {
  return def.family === 'cell' || def.family === 'nb201'
}

/** Training and validation samples of one candidate epoch at data share `fraction`. */
function samplesOf(data: PlanData, fraction: number): { train: number; val: number; all: number } {
  const fixedVal = data.numValidation ?? 0
  const all = data.numTrain + fixedVal
  const val = fixedVal > 0 ? fixedVal : Math.round(data.numTrain * PLAN_VALIDATION_FRACTION)
  const train = Math.max(1, Math.round((all - val) * fraction))
  return { train, val, all }
}

interface SpaceOption {
  space: PlanInput['spaces'][number]
  /** The work of the space's average candidate (the mean over the drawn ones). */
  work: ArchWork
  fraction: number
  /** Mean ms of a candidate over the drawn ones: what the search's time is divided by. */
  candidateMs: number
  /** Ms of the costliest drawn candidate. */
  costliestMs: number
  candidates: number
  /** The speed its candidates are costed at. */
  speed: MachineSpeed
}

/** Everything `planSearch` chooses for one space: the largest data share that fits, and what it costs. */
function optionFor(
  space: PlanInput['spaces'][number],
  works: ArchWork[],
  data: PlanData,
  ctx: { epochs: number; wanted: number; searchMs: number; workers: number; speed: MachineSpeed },
): SpaceOption | null {
  const full = samplesOf(data, 1)
  let best: SpaceOption | null = null
  for (const fraction of FRACTIONS) {
    const s = samplesOf(data, fraction)
    // fewer samples than this teach a candidate too little to rank it: take a cheaper space instead
    if (fraction < 1 && s.train < Math.min(full.train, MIN_CANDIDATE_SAMPLES)) break
    const costs = works.map((work) =>
      candidateMs({ work, trainSamples: s.train, valSamples: s.val, epochs: ctx.epochs }, ctx.speed),
    )
    const mean = costs.reduce((a, b) => a + b, 0) / costs.length
    const costliest = Math.max(...costs)
    // candidates are drawn at random, so the search's time divided by the mean candidate's is how many finish
    const candidates = Math.floor((ctx.searchMs / mean) * ctx.workers)
    best = {
      space,
      work: meanWork(works),
      fraction,
      candidateMs: mean,
      costliestMs: costliest,
      candidates,
      speed: ctx.speed,
    }
    if (candidates >= ctx.wanted && costliest * COSTLIEST_FITS <= ctx.searchMs * ctx.workers) break
  }
  return best
}

/**
 * Plans a search that ends within the chosen time: picks a space that suits the data (convolutions for
 * images, dense networks for tables; among those the most capable one that still leaves enough candidates, so
 * never by name), the data share per candidate (a proxy: candidates learn from a subset of the training split,
 * the winner from all of it in the final training) so that enough candidates fit and the costliest one cannot
 * eat the search, the strategy (evolution once there are many candidates, else random), and the final
 * training's share of the time. A space is priced by the spread of its candidates (COST_SAMPLES draws, each
 * costed by its own multiply-adds, element-wise work and layers), not by one typical candidate. The estimate
 * counts candidates and final-training epochs with `speed`; the run itself is held to the time by the
 * scheduler's budget, so a slower or faster machine changes the counts, not the end.
 * Throws when no space can take this data.
 */
export function planSearch(input: PlanInput): SearchPlan {
  const { data, minutes } = input
  const speed = input.speed ?? DEFAULT_SPEED
  const workers = Math.max(1, input.workers ?? 1)
  const isImage = data.inputShape.length === 3
  const numClasses = data.classNames.length
  const totalMs = minutes * 60_000
  const share = finalShare(minutes)
  const numTest = data.numTest ?? 0
  const sampleSize = data.inputShape.reduce((a, b) => a * b, 1)
  // each worker loads the whole dataset before its first candidate: on large data a good part of a short search
  const loadingMs = loadMs(data.numTrain + (data.numValidation ?? 0) + numTest, sampleSize, speed)
  const searchMs = Math.max(0, totalMs * (1 - share) - loadingMs)
  const epochs = searchEpochs(minutes)
  const wanted = minCandidates(minutes)

  const samples = samplesOf(data, 1)
  const finalEpochMs = (work: ArchWork, at: MachineSpeed): number =>
    candidateMs({ work, trainSamples: samples.all, valSamples: 0, epochs: 1 }, at) - at.candidateOverheadMs
  const finalEpochsThatFit = (work: ArchWork, at: MachineSpeed): number =>
    Math.floor((totalMs * share - SCORING_MARGIN_MS - at.candidateOverheadMs) / finalEpochMs(work, at))

  const options: SpaceOption[] = []
  for (const space of input.spaces) {
    if (!space.preset) continue
    if (isDeepCellSpace(space.def)) continue
    const works = sampledWork(space.def, data.inputShape, numClasses)
    if (works === null) continue
    const option = optionFor(space, works, data, {
      epochs,
      wanted,
      searchMs,
      workers,
      speed: input.spaceSpeeds?.[space.id] ?? speed,
    })
    if (option) options.push(option)
  }
  // convolutions for images, dense networks for tables; any space that takes the data when none suits it
  if (options.length === 0) {
    throw new Error(
      `None of the search spaces fits data of shape ${data.inputShape.join('x')}; draw one in the designer.`,
    )
  }
  const suited = options.filter((o) => isImage === hasConvolution(o.space.def))
  const pool = suited.length > 0 ? suited : options
  // most capable (costliest per sample) among those leaving enough candidates; otherwise the cheapest
  const fits = (o: SpaceOption): boolean =>
    o.candidates >= wanted &&
    o.costliestMs * COSTLIEST_FITS <= searchMs * workers &&
    finalEpochsThatFit(o.work, o.speed) >= MIN_FINAL_EPOCHS
  const enough = pool.filter(fits)
  const chosen =
    enough.length > 0
      ? enough.reduce((a, b) => (b.work.macs > a.work.macs ? b : a))
      : pool.reduce((a, b) => (b.candidateMs < a.candidateMs ? b : a))

  // the re-check's retrainings come out of the search's share (the scheduler stops searching in time for
  // them), each about a mean candidate's time: so many fewer new candidates are trained
  const seedCheck = chosen.candidates >= SEED_CHECK_MIN_CANDIDATES ? SEED_CHECK_CANDIDATES : 0
  const recheckRounds = Math.ceil(seedCheck / workers)
  const newCandidates = chosen.candidates - recheckRounds * workers
  const strategy = newCandidates >= 30 ? 'evolution' : 'random'
  const estSearchMs = loadingMs + (chosen.candidates * chosen.candidateMs) / workers
  // the scheduler starts no candidate that would not finish in the search's share, and the final training
  // takes all the time then left (its epochs cut to fit), less the margin for scoring the test split
  const estFinalMs = totalMs - estSearchMs - SCORING_MARGIN_MS
  const finalEpochsFit = Math.max(
    1,
    Math.floor((estFinalMs - chosen.speed.candidateOverheadMs) / finalEpochMs(chosen.work, chosen.speed)),
  )
  const scoringMs =
    candidateMs({ work: chosen.work, trainSamples: 0, valSamples: numTest, epochs: 1 }, chosen.speed) -
    chosen.speed.epochOverheadMs

  const reasons = [
    suited.length === 0
      ? `${chosen.space.name}: the fastest of the installed spaces that take this data.`
      : isImage
        ? `${chosen.space.name}: your data are images, and this is the most capable image space that still leaves time for about ${newCandidates} candidates.`
        : `${chosen.space.name}: your data is a table, so the candidates are fully connected networks.`,
    chosen.fraction < 1
      ? `Each candidate learns from ${Math.round(chosen.fraction * 100)}% of the training data for ${epochs} epochs, so that enough of them fit; the winner then learns from all of it.`
      : `Each candidate learns from all the training data for ${epochs} epochs.`,
    strategy === 'evolution'
      ? 'Evolution: with this many candidates, changing the best ones finds better networks than chance.'
      : 'Random search: with few candidates, trying different ones at random is the most reliable.',
    `${Math.round(share * 100)}% of the time goes to training the winner again on all the data.`,
  ]
  if (seedCheck > 0)
    reasons.push(
      `At the end of the search the best ${seedCheck} are trained again with a second seed (about ${Math.round((recheckRounds * chosen.candidateMs) / 1000)} s), to tell a real lead from a lucky one.`,
    )
  const backbone = backboneProposal(data, input.backbones ?? [])
  if (backbone) reasons.unshift(backbone.reason)
  return {
    minutes,
    ...(backbone ? { backbone: { id: backbone.id, name: backbone.name, space: backbone.space } } : {}),
    spaceId: chosen.space.id,
    spaceName: chosen.space.name,
    strategy,
    epochs,
    dataFraction: chosen.fraction,
    finalShare: share,
    ...(seedCheck > 0 ? { seedCheck } : {}),
    // the time limit ends the search; this bound only stops a machine much faster than assumed from
    // running far more candidates than the strategy needs
    maxTrials: Math.min(100_000, Math.max(50, chosen.candidates * 10)),
    // the final training's time limit cuts the epochs to what fits; the cap is far above the estimate so
    // that on a machine faster than assumed, time, not the epoch count, still ends it
    finalEpochs: Math.min(1000, Math.max(20, finalEpochsFit * 10)),
    estimate: {
      candidates: newCandidates,
      candidateSeconds: chosen.candidateMs / 1000,
      finalEpochs: finalEpochsFit,
      finalMinutes: estFinalMs / 60_000,
      totalMinutes: (estSearchMs + estFinalMs + scoringMs) / 60_000,
    },
    reasons,
  }
}

/**
 * The run settings of `plan` for data of `inputShape` (the same recipe the New Search form builds from its
 * choices): warm-up and cosine learning rate, shifts and flips for images, the planned data share, early
 * stopping for 3-epoch candidates, the final training with its reserve of the time.
 */
export function planRunConfig(
  plan: SearchPlan,
  inputShape: readonly number[],
  base: Pick<RunConfig, 'name' | 'datasetId' | 'seed'>,
  workers = 1,
): RunConfig {
  const isImage = inputShape.length === 3
  const recipe = (epochs: number): TrainSettings => ({
    epochs,
    batchSize: PLAN_BATCH_SIZE,
    learningRate: 0.001,
    validationFraction: PLAN_VALIDATION_FRACTION,
    schedule: 'cosine',
    warmupEpochs: Math.min(1, epochs / 4),
    ...(isImage ? { augment: { shift: 2, flip: true } } : {}),
  })
  return {
    ...base,
    spaceId: plan.spaceId,
    strategy: plan.strategy,
    maxTrials: plan.maxTrials,
    budgetMinutes: plan.minutes,
    concurrency: workers,
    train: { ...recipe(plan.epochs), ...(plan.dataFraction < 1 ? { dataFraction: plan.dataFraction } : {}) },
    ...(plan.epochs >= 3 ? { earlyStop: { minEpochs: 2, topK: 3 } } : {}),
    ...(plan.seedCheck ? { seedCheck: { candidates: plan.seedCheck } } : {}),
    finalTraining: {
      epochs: plan.finalEpochs,
      reserveMinutes: plan.minutes * plan.finalShare,
      train: recipe(plan.finalEpochs),
    },
  }
}

/** What the plan was counted with: the factor of each timed space, and the last one for the others. */
export interface MeasuredSpeed {
  factor: number
  spaceFactors: Record<string, number>
}

/** The planner's input at `measured` speeds, from the reference `base`. */
export function atMeasuredSpeed(input: PlanInput, base: MachineSpeed, measured: MeasuredSpeed): PlanInput {
  const spaceSpeeds: Record<string, MachineSpeed> = {}
  for (const [id, f] of Object.entries(measured.spaceFactors)) spaceSpeeds[id] = scaleSpeed(base, f)
  return { ...input, speed: scaleSpeed(base, measured.factor), spaceSpeeds }
}
