import type { EventMessage, Run, Trial } from '../../../shared'
import type { EventSink, RunStore } from '../../ports'

/**
 * The run's journal: every store write is followed by emitting the same object ('run.updated',
 * 'trial.updated'), so the UI sees what is stored. Holds the run as last written.
 */
export class RunJournal {
  constructor(
    private readonly store: RunStore,
    private readonly emit: EventSink,
    public run: Run,
  ) {}

  /** Writes `patch` onto the run and announces it. */
  saveRun(patch: Partial<Run>): void {
    this.run = { ...this.run, ...patch }
    this.store.updateRun(this.run)
    this.emit({ event: 'run.updated', payload: this.run })
  }

  /** Inserts or updates a trial and announces it. */
  saveTrial(trial: Trial, insert = false): void {
    if (insert) this.store.insertTrial(trial)
    else this.store.updateTrial(trial)
    this.emit({ event: 'trial.updated', payload: trial })
  }

  /** Runs `fn` as one store transaction; the events it queues go out only once it has committed. */
  transaction(fn: (queue: (m: EventMessage) => void) => void): void {
    const queued: EventMessage[] = []
    const body = (): void => fn((m) => queued.push(m))
    if (this.store.transaction) this.store.transaction(body)
    else body()
    for (const m of queued) this.emit(m)
  }

  /** Inside a transaction: writes `patch` onto the run and queues its event. */
  updateRunIn(queue: (m: EventMessage) => void, patch: Partial<Run>): void {
    this.run = { ...this.run, ...patch }
    this.store.updateRun(this.run)
    queue({ event: 'run.updated', payload: this.run })
  }

  /** Inside a transaction: writes a trial and queues its event. */
  updateTrialIn(queue: (m: EventMessage) => void, trial: Trial, insert = false): void {
    if (insert) this.store.insertTrial(trial)
    else this.store.updateTrial(trial)
    queue({ event: 'trial.updated', payload: trial })
  }
}
