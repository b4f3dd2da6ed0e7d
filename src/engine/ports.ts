import type { AlphaSnapshot, EventMessage, ParetoPoint, Run, Trial, TrialEpoch } from '../shared'

/**
 * What the engine needs from outside. The composition root (src/main) implements these; tests use real
 * implementations (a SQLite file) or the small ones in src/engine where they are pure.
 */

/**
 * The journal the scheduler writes to as things happen. Every call must be durable when it returns
 * (main implements it with SQLite in WAL mode), so a crash loses at most the trial in flight.
 */
export interface RunStore {
  insertTrial(trial: Trial): void
  updateTrial(trial: Trial): void
  insertEpoch(epoch: TrialEpoch): void
  updateRun(run: Run): void
  /** Saves the strategy's JSON state (RNG included) after each result, so a run can be resumed. */
  saveStrategyState?(runId: string, state: unknown): void
  /** Replaces the run's stored Pareto front. */
  savePareto?(runId: string, front: ParetoPoint[]): void
  /** Appends one epoch's architecture weights of a differentiable search. */
  insertAlphaSnapshot?(snapshot: AlphaSnapshot): void
  /**
   * Saves what a resume needs after each result, replacing the previous one (used instead of
   * saveStrategyState when present).
   */
  saveCheckpoint?(runId: string, checkpoint: RunCheckpoint): void
  /**
   * Runs `fn` (calls to this store) atomically: all of its writes are committed together or none are. Rows
   * that belong together (a finished trial, the run's counters, the strategy state) go through it.
   */
  transaction?<T>(fn: () => T): T
}

/** What a paused or interrupted run continues from, besides its stored trials. JSON-safe. */
export interface RunCheckpoint {
  /** The strategy's saveState() after the last result (RNG included); null before the first result. */
  strategy: unknown
  /** Wall-clock milliseconds the run has spent running; they count against its time budget. */
  budgetUsedMs: number
  /** Ids of completed trials trained with less than the full budget (multi-fidelity): never the best. */
  partialTrialIds: string[]
}

/** Wall-clock time, injectable so tests can control it. */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number
}

/** Structured logger; `data` must be JSON-safe. */
export interface Logger {
  info(message: string, data?: Record<string, unknown>): void
  warn(message: string, data?: Record<string, unknown>): void
  error(message: string, data?: Record<string, unknown>): void
}

/** Receives every event the engine emits (main forwards them to the windows / web clients). */
export type EventSink = (message: EventMessage) => void

export const systemClock: Clock = { now: () => Date.now() }

export const silentLogger: Logger = { info: () => {}, warn: () => {}, error: () => {} }
