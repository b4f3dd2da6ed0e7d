import type {
  Dataset,
  RunConfig,
  SearchSpaceDef,
  SeedCheck,
  SeedCheckCandidate,
  Trial,
} from '../../../shared'
import { toErrorData } from '../../../shared'
import { proxyArchitecture } from '../../evaluate/proxy'
import { judgeSeedCheck } from '../../evaluate/seed-noise'
import type { Logger } from '../../ports'
import type { TrialRunner } from '../types'

/** What the seed re-check needs from the search around it. */
export interface SeedCheckArgs {
  runId: string
  config: RunConfig
  /** The best fully trained candidates, best first (SearchResults.top). */
  top: Trial[]
  space: SearchSpaceDef
  dataset: Dataset
  runner: TrialRunner
  /** The second seed of the i-th candidate (distinct from every trial's seed). */
  seedFor: (i: number) => number
  /**
   * Milliseconds the re-check may take (what is left of the search's share of the budget); undefined = no
   * limit. With too little for the expected time it is skipped, and it is stopped when the time runs out.
   */
  timeLeftMs?: number
  /** Expected ms of one candidate's training (the search's mean); null when unknown. */
  trialMs: number | null
  signal?: AbortSignal
  logger: Logger
  /** Called with a 'running' check before the first retraining and after each one, for the run view. */
  onProgress?: (check: SeedCheck) => void
}

/** Seconds in words, a decimal under ten so that "3 s left" never stands against "takes 3 s". */
const inSeconds = (ms: number): string => {
  const s = Math.max(0, ms) / 1000
  return `${s < 10 ? s.toFixed(1) : Math.round(s)} s`
}

const skipped = (reason: string): SeedCheck => ({
  status: 'skipped',
  reason,
  candidates: [],
  noise: null,
  lead: null,
  lucky: false,
  pickedTrialId: null,
})

/**
 * Trains the best few candidates again with a second seed, each on exactly the settings it was scored with in
 * the search (the same quick score: epochs, data share, proxy network), up to the run's concurrency at once,
 * and judges the winner's lead against the seed noise (judgeSeedCheck). Returns null when there is nothing to
 * check (fewer than two candidates) or it was cancelled; 'skipped' with a reason when the time left is too
 * short for it or a retraining failed.
 */
export async function runSeedCheck(args: SeedCheckArgs): Promise<SeedCheck | null> {
  const { config, top, dataset } = args
  if (top.length < 2) return null
  const rounds = Math.ceil(top.length / Math.max(1, config.concurrency))
  if (args.timeLeftMs !== undefined && args.trialMs !== null && args.timeLeftMs < args.trialMs * rounds)
    return skipped(
      `the time budget had about ${inSeconds(args.timeLeftMs)} left for it, and training ${top.length} candidates again takes about ${inSeconds(args.trialMs * rounds)}`,
    )
  const ctl = new AbortController()
  const onAbort = (): void => ctl.abort()
  args.signal?.addEventListener('abort', onAbort, { once: true })
  let timedOut = false
  const timer =
    args.timeLeftMs === undefined
      ? undefined
      : setTimeout(
          () => {
            timedOut = true
            ctl.abort()
          },
          Math.max(1, args.timeLeftMs),
        )
  const numClasses = dataset.classNames.length
  const seconds: Array<number | null> = top.map(() => null)
  const progress = (): void =>
    args.onProgress?.({
      status: 'running',
      planned: top.length,
      candidates: pairs(top, seconds),
      noise: null,
      lead: null,
      lucky: false,
      pickedTrialId: null,
    })
  let next = 0
  const worker = async (): Promise<void> => {
    while (next < top.length && !ctl.signal.aborted) {
      const i = next++
      const t = top[i]!
      const train = config.train
      const outcome = await args.runner.run(
        {
          trialId: `${t.id}-seed2`,
          runId: args.runId,
          architecture: proxyArchitecture(t.architecture, train, args.space, dataset.inputShape, numClasses),
          dataset,
          train,
          seed: args.seedFor(i),
        },
        () => {},
        ctl.signal,
      )
      seconds[i] = outcome.valAccuracy
      progress()
    }
  }
  try {
    args.logger.info('Training the best candidates again with a second seed', {
      runId: args.runId,
      candidates: top.length,
    })
    progress()
    await Promise.all(Array.from({ length: Math.min(config.concurrency, top.length) }, worker))
  } catch (err) {
    if (timedOut) return skipped('the time budget ran out before the candidates were trained again')
    if (args.signal?.aborted) return null
    const message = toErrorData(err).message
    args.logger.warn('Seed re-check failed', { runId: args.runId, error: message })
    return skipped(`training a candidate again failed (${message})`)
  } finally {
    clearTimeout(timer)
    args.signal?.removeEventListener('abort', onAbort)
  }
  if (timedOut) return skipped('the time budget ran out before the candidates were trained again')
  if (args.signal?.aborted || seconds.some((s) => s === null)) return null
  const candidates = pairs(top, seconds)
  return { status: 'done', candidates, ...judgeSeedCheck(candidates) }
}

/** The candidates trained again so far with both seeds' validation accuracy, best first by the search's score. */
function pairs(top: Trial[], seconds: Array<number | null>): SeedCheckCandidate[] {
  return top.flatMap((t, i) => {
    const second = seconds[i]
    return second === null || second === undefined
      ? []
      : [{ trialId: t.id, index: t.index, first: t.valAccuracy ?? 0, second }]
  })
}
