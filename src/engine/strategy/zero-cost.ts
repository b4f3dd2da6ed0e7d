import type { Architecture, Dataset, RunConfig, ZeroCostSettings } from '../../shared'
import { createZeroCostScorer, type ZeroCostScorer } from '../evaluate/zero-cost'
import type { Logger } from '../ports'
import type { Proposal, SearchStrategy, TrialObservation } from './types'

/** Options of ZeroCostPreRank: the strategy it wraps, how to score, and the round sizes. */
export interface ZeroCostPreRankOptions extends Omit<ZeroCostSettings, 'proxy'> {
  /** Proposes the candidates to score (any black-box strategy). */
  sampler: SearchStrategy
  /** Scores a round of candidates at initialisation, higher = more promising; NaN = could not be scored. */
  scoreAll: (archs: readonly Architecture[]) => number[]
  /** Told when `scoreAll` threw (the round then goes unscored, in the sampler's order). */
  onScoreError?: (err: unknown) => void
}

interface Queued {
  architecture: Architecture
  archHash: string
  fidelity: number
  zeroCostScore: number | null
}

interface ZeroCostState {
  strategy: 'zero-cost'
  sampler: unknown
  queue: Queued[]
  known: string[]
}

/**
 * Zero-cost pre-ranking around any sampler: when its queue is empty it draws `candidates` proposals, scores them
 * all at once at initialisation (no training) and queues the `keep` best, best first; the others are never
 * trained (nor observed). Each queued proposal carries its score (null when the proxy could not compute one).
 * A proposal of a network this wrapper has already passed on (an ASHA promotion) is not re-scored: it goes
 * straight through. Results go to the sampler unchanged. Callers that can wait should `await prepare()` before
 * `propose()`: it scores the round without blocking the event loop; `propose()` alone scores synchronously.
 */
export class ZeroCostPreRank implements SearchStrategy {
  readonly name = 'zero-cost'
  private readonly sampler: SearchStrategy
  private readonly scoreAll: (archs: readonly Architecture[]) => number[]
  private readonly onScoreError: ((err: unknown) => void) | undefined
  private readonly candidates: number
  private readonly keep: number
  private queue: Queued[] = []
  private known = new Set<string>()
  private preparing: Promise<void> | null = null

  constructor(opts: ZeroCostPreRankOptions) {
    if (!(opts.keep >= 1 && opts.candidates >= opts.keep))
      throw new RangeError(
        `ZeroCostPreRank: keep (${opts.keep}) must be in 1..candidates (${opts.candidates})`,
      )
    this.sampler = opts.sampler
    this.scoreAll = opts.scoreAll
    this.onScoreError = opts.onScoreError
    this.candidates = opts.candidates
    this.keep = opts.keep
  }

  propose(): Proposal {
    if (this.queue.length === 0) this.refill()
    return this.queue.shift()!
  }

  /**
   * Fills an empty queue without blocking the event loop for long: scores the round one candidate at a time,
   * yielding between them (the scheduler awaits this before each proposal, so the app stays responsive while a
   * round is scored). Concurrent calls share one round.
   */
  prepare(): Promise<void> {
    if (this.queue.length > 0) return Promise.resolve()
    this.preparing ??= (async () => {
      const { passThrough, fresh } = this.drawRound()
      const scores: number[] = []
      for (const p of fresh) {
        await new Promise<void>((resolve) => setImmediate(resolve))
        scores.push(this.scoreSafely([p.architecture])[0]!)
      }
      this.enqueue(passThrough, fresh, scores)
    })().finally(() => {
      this.preparing = null
    })
    return this.preparing
  }

  private refill(): void {
    const { passThrough, fresh } = this.drawRound()
    this.enqueue(
      passThrough,
      fresh,
      fresh.length > 0 ? this.scoreSafely(fresh.map((p) => p.architecture)) : [],
    )
  }

  /**
   * Scores a round; a scorer that throws (whatever the reason) leaves those candidates unscored (NaN), so
   * they keep the sampler's order and the search goes on: pre-ranking only ever reorders.
   */
  private scoreSafely(archs: readonly Architecture[]): number[] {
    try {
      const scores = this.scoreAll(archs)
      return archs.map((_, i) => (typeof scores[i] === 'number' ? scores[i] : NaN))
    } catch (err) {
      this.onScoreError?.(err)
      return archs.map(() => NaN)
    }
  }

  /** One round of `candidates` proposals: new networks to score, and re-proposals to pass through. */
  private drawRound(): { passThrough: Queued[]; fresh: Proposal[] } {
    const passThrough: Queued[] = []
    const fresh: Proposal[] = []
    const inRound = new Set<string>()
    for (let i = 0; i < this.candidates; i++) {
      const p = this.sampler.propose()
      if (this.known.has(p.archHash)) passThrough.push({ ...p, zeroCostScore: null })
      else if (!inRound.has(p.archHash)) {
        inRound.add(p.archHash)
        fresh.push(p)
      }
    }
    return { passThrough, fresh }
  }

  private enqueue(passThrough: Queued[], fresh: Proposal[], scores: number[]): void {
    const ranked = fresh
      .map((p, i) => ({ p, score: scores[i]! }))
      // NaN (not scorable) ranks last; ties keep the sampler's order (sort is stable)
      .sort((a, b) => rankValue(b.score) - rankValue(a.score))
      .slice(0, this.keep)
      .map(({ p, score }) => ({
        architecture: p.architecture,
        archHash: p.archHash,
        fidelity: p.fidelity,
        zeroCostScore: Number.isFinite(score) ? score : null,
      }))
    for (const q of ranked) this.known.add(q.archHash)
    this.queue.push(...passThrough, ...ranked)
  }

  observe(result: TrialObservation): void {
    this.sampler.observe(result)
  }

  saveState(): ZeroCostState {
    return {
      strategy: 'zero-cost',
      sampler: this.sampler.saveState(),
      queue: this.queue.map((q) => ({ ...q })),
      known: [...this.known],
    }
  }

  restoreState(state: unknown): void {
    const s = state as Partial<ZeroCostState> | null
    if (s?.strategy !== 'zero-cost' || !Array.isArray(s.queue) || !Array.isArray(s.known))
      throw new TypeError('ZeroCostPreRank.restoreState: not a zero-cost pre-ranking state')
    this.sampler.restoreState(s.sampler)
    this.queue = s.queue.map((q) => ({ ...q }))
    this.known = new Set(s.known)
  }
}

/** Infinity and -Infinity are fine to rank by; NaN (no score) goes last. */
function rankValue(v: number): number {
  return Number.isNaN(v) ? -Infinity : v
}

/**
 * Wraps `strategy` in zero-cost pre-ranking when `config.zeroCost` is set (otherwise returns it unchanged):
 * scores with `config.zeroCost.proxy` on a minibatch of the training split, seeded with the run's seed.
 */
export async function withZeroCostPreRanking(
  strategy: SearchStrategy,
  config: RunConfig,
  dataset: Dataset,
  logger?: Logger,
): Promise<SearchStrategy> {
  const zc = config.zeroCost
  if (zc === undefined) return strategy
  let scorer: ZeroCostScorer | null = null
  try {
    scorer = await createZeroCostScorer(dataset, {
      proxy: zc.proxy,
      validationFraction: config.train.validationFraction,
      seed: config.seed,
      logger,
    })
  } catch (err) {
    // Pre-ranking only reorders candidates: without a scorer the search still runs, in the sampler's order.
    logger?.warn('Zero-cost pre-ranking is off for this run: the scorer could not start', {
      proxy: zc.proxy,
      error: err instanceof Error ? err.message : String(err),
    })
  }
  const ready = scorer
  return new ZeroCostPreRank({
    sampler: strategy,
    candidates: zc.candidates,
    keep: zc.keep,
    onScoreError: (err) =>
      logger?.warn('Zero-cost scoring failed; this round keeps the sampler order', {
        proxy: zc.proxy,
        error: err instanceof Error ? err.message : String(err),
      }),
    scoreAll: (archs) => {
      if (!ready) return archs.map(() => NaN)
      const t0 = performance.now()
      const scores = ready.scoreAll(archs)
      logger?.info('Zero-cost pre-ranking', {
        proxy: zc.proxy,
        scored: archs.length,
        keep: zc.keep,
        ms: Math.round(performance.now() - t0),
      })
      return scores
    },
  })
}
