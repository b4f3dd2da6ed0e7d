import type { EventMessage, Run, Trial } from '../../shared'
import { describeSeedCheck, searchScoreName, seedCheckTitle } from '../../shared'
import { describeArchitecture, formatTrialLine } from './format'

const num = (v: number | null | undefined, digits = 4): string =>
  v === null || v === undefined ? '-' : v.toFixed(digits)
const minutes = (ms: number): string => `${(ms / 60000).toFixed(1)} min`

/**
 * What `nas-studio search` and `resume` print while a run goes: one line per finished search trial, numbered
 * by its trial number (the one `export --trial N` takes) with a count of results that never exceeds the
 * budget; the final training as such, epoch by epoch with the time left, then its test accuracy; and the
 * signal check's warning once.
 */
export class SearchPrinter {
  private done: number
  private finalId: string | null = null
  private warned = false

  private readonly runId: string
  private readonly maxTrials: number
  /** Epochs the final training is set to; 0 = unknown. */
  private readonly finalEpochs: number

  constructor(
    private readonly out: (text: string) => void,
    run: Pick<Run, 'id' | 'config' | 'trialsCompleted' | 'trialsFailed'>,
  ) {
    this.runId = run.id
    this.maxTrials = run.config.maxTrials
    this.finalEpochs = run.config.finalTraining?.epochs ?? 0
    // a resumed run counts on from the results it had
    this.done = Math.min(this.maxTrials, run.trialsCompleted + run.trialsFailed)
  }

  onEvent(msg: EventMessage): void {
    if (msg.event === 'run.updated' && msg.payload.id === this.runId) {
      if (msg.payload.signalWarning && !this.warned) {
        this.warned = true
        this.out(`Warning: ${msg.payload.signalWarning}\n`)
      }
      return
    }
    if (msg.event === 'trial.epoch' && msg.payload.trialId === this.finalId) {
      this.out(formatFinalEpoch(msg.payload, this.finalEpochs))
      return
    }
    if (msg.event !== 'trial.updated' || msg.payload.runId !== this.runId) return
    const trial = msg.payload
    if (trial.isFinal) {
      if (trial.status === 'running' && this.finalId !== trial.id) {
        this.finalId = trial.id
        this.out(
          `Final training of the winner (retrained on train + validation): ${describeArchitecture(trial.architecture)}\n`,
        )
      } else if (trial.status !== 'running' && trial.status !== 'queued')
        this.out(`${formatFinalLine(trial)}\n`)
      return
    }
    if (trial.status === 'completed' || trial.status === 'failed') {
      this.done = Math.min(this.maxTrials, this.done + 1)
      this.out(`${formatTrialLine(trial, this.maxTrials, this.done)}\n`)
    }
  }
}

/** "final training epoch  3/15  loss 0.4123  train_acc 0.8712  about 4.2 min left". */
export function formatFinalEpoch(
  e: { epoch: number; loss: number; accuracy: number; timeMs: number; epochs?: number },
  epochsSet: number,
): string {
  // the training's own count (a time limit re-plans it), else the epochs set
  const of = e.epochs ?? epochsSet
  const left = of > e.epoch ? `  about ${minutes((of - e.epoch) * e.timeMs)} left` : ''
  return `final training epoch ${String(e.epoch).padStart(String(of || e.epoch).length)}/${of || '?'}  loss ${num(e.loss)}  train_acc ${num(e.accuracy)}${left}\n`
}

/** The final model's line: its test accuracy and what it trained, never a "validation" figure. */
export function formatFinalLine(trial: Trial): string {
  if (trial.status !== 'completed')
    return `final model  ${trial.status}${trial.error ? `  ${trial.error}` : ''}`
  const epochs = trial.proxy?.epochs
  return `final model  completed  test_acc ${num(trial.testAccuracy)}  train_acc(last epoch) ${num(trial.valAccuracy)}  params ${trial.params.toLocaleString('en-US')}  ${minutes(trial.trainTimeMs ?? 0)}${epochs !== undefined ? `  (stopped after ${epochs} epochs: time budget)` : ''}`
}

/** The closing lines of a search: the best candidate (named by what its score measured) and the final model. */
export function searchSummary(run: Run, best: Trial | null, finalTrial: Trial | null): string {
  const lines: string[] = []
  lines.push(
    best
      ? `Best candidate: trial ${best.index + 1}, ${searchScoreName(run.config)} ${num(best.valAccuracy)}, ${best.params.toLocaleString('en-US')} params (run ${run.status}: ${run.trialsCompleted} completed, ${run.trialsFailed} failed)`
      : `No trial completed (run ${run.status}${run.error ? `: ${run.error}` : ''})`,
  )
  if (finalTrial) {
    const epochs = finalTrial.proxy?.epochs ?? run.config.finalTraining?.epochs
    lines.push(
      finalTrial.testAccuracy !== undefined
        ? `Final model (trial ${finalTrial.index + 1}): test accuracy ${finalTrial.testAccuracy.toFixed(4)} on the test split, never used for search or training (winner retrained on train + validation, ${epochs} epochs, ${minutes(finalTrial.trainTimeMs ?? 0)})`
        : `Final training ${finalTrial.status}${finalTrial.error ? `: ${finalTrial.error}` : ''}`,
    )
  } else if (best) {
    lines.push(
      'No final training: the best candidate was trained for the search only (add "finalTraining" to --settings).',
    )
  }
  if (run.seedCheck) lines.push(`${seedCheckTitle(run.seedCheck)}. ${describeSeedCheck(run.seedCheck, run)}`)
  if (run.signalWarning) lines.push(`Warning: ${run.signalWarning}`)
  return `${lines.join('\n')}\n`
}
