/**
 * Undo / redo over JSON-safe snapshots: `push` records the state after a change, `undo` / `redo` step
 * through them. Snapshots are deep copies, so later edits cannot reach into the history.
 */
export class UndoHistory<T> {
  private past: string[] = []
  private future: string[] = []

  constructor(
    initial: T,
    private readonly limit = 200,
  ) {
    this.past.push(JSON.stringify(initial))
  }

  /** The current state (a fresh copy). */
  get current(): T {
    return JSON.parse(this.past[this.past.length - 1]!) as T
  }

  get canUndo(): boolean {
    return this.past.length > 1
  }

  get canRedo(): boolean {
    return this.future.length > 0
  }

  /** Records `state` as the newest step (ignored when equal to the current one); clears redo. */
  push(state: T): void {
    const text = JSON.stringify(state)
    if (text === this.past[this.past.length - 1]) return
    this.past.push(text)
    if (this.past.length > this.limit) this.past.shift()
    this.future = []
  }

  /** Steps back; returns the state to show, or null when there is nothing to undo. */
  undo(): T | null {
    if (!this.canUndo) return null
    this.future.push(this.past.pop()!)
    return this.current
  }

  /** Steps forward again; null when there is nothing to redo. */
  redo(): T | null {
    const next = this.future.pop()
    if (next === undefined) return null
    this.past.push(next)
    return this.current
  }

  /** Forgets every step and starts again from `state`. */
  reset(state: T): void {
    this.past = [JSON.stringify(state)]
    this.future = []
  }
}
