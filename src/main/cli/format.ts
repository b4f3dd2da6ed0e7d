import type { Architecture, Run, Trial, TrialProxy } from '../../shared'

/** One-line summary of an architecture: its ops in order, e.g. "conv2d(16,k3,relu) > dense(10,softmax)". */
export function describeArchitecture(arch: Architecture): string {
  return arch.nodes
    .filter((n) => n.op !== 'input' && n.op !== 'flatten')
    .map((n) => {
      switch (n.op) {
        case 'dense':
          return `dense(${n.units},${n.activation})`
        case 'conv2d':
          return `conv2d(${n.filters},k${n.kernelSize},${n.activation})`
        case 'maxPool2d':
          return `maxPool2d(${n.poolSize})`
        case 'dropout':
          return `dropout(${n.rate})`
        default:
          return n.op
      }
    })
    .join(' > ')
}

const num = (v: number | null, digits = 4): string => (v === null ? '-' : v.toFixed(digits))

/** "3 ep, 20% data, 0.5x res, 0.5x width": what a proxy cut down. */
export function describeProxy(p: TrialProxy): string {
  return [
    `${p.epochs} ep`,
    p.dataFraction !== undefined ? `${Math.round(p.dataFraction * 100)}% data` : '',
    p.resolution !== undefined ? `${p.resolution}x res` : '',
    p.widthMultiplier !== undefined ? `${p.widthMultiplier}x width` : '',
    p.maxCellsPerStage !== undefined ? `${p.maxCellsPerStage} cells/stage` : '',
  ]
    .filter((t) => t !== '')
    .join(', ')
}

/**
 * The line of one finished search trial: its trial number (what `export --trial N` takes), then `done` of
 * `maxTrials` results so far (absent: not shown), its validation score and weights, how it was scored.
 */
export function formatTrialLine(trial: Trial, maxTrials: number, done?: number): string {
  const width = Math.min(4, String(maxTrials).length)
  const count =
    done === undefined ? '' : `  [${String(Math.min(done, maxTrials)).padStart(width)}/${maxTrials}]`
  const head = `trial ${String(trial.index + 1).padStart(width)}${count}  ${trial.status.padEnd(9)}`
  if (trial.status !== 'completed') return `${head}  ${trial.error ?? ''}`.trimEnd()
  const secs = trial.trainTimeMs === null ? '-' : `${(trial.trainTimeMs / 1000).toFixed(1)}s`
  const notes = [
    trial.proxy ? `proxy ${describeProxy(trial.proxy)}` : '',
    trial.stoppedEarly ? `stopped early (predicted ${num(trial.predictedAccuracy ?? null)})` : '',
  ]
    .filter((t) => t !== '')
    .map((t) => `  [${t}]`)
    .join('')
  return `${head}  val_acc ${num(trial.valAccuracy)}  val_loss ${num(trial.valLoss)}  params ${trial.params.toLocaleString('en-US').padStart(9)}  ${secs.padStart(6)}${notes}  ${describeArchitecture(trial.architecture)}`
}

/**
 * A fixed-width text table of runs, newest first, for `nas-studio runs`: the dataset (named by `datasetName`),
 * the search's results (never more than its budget), its best validation score and the final model's test
 * accuracy ('-' without a final training).
 */
export function formatRunsTable(runs: Run[], datasetName: (id: string) => string = (id) => id): string {
  const header = [
    'ID',
    'NAME',
    'DATASET',
    'STATUS',
    'TRIALS',
    'BEST VAL (SEARCH)',
    'FINAL TEST ACC',
    'BACKEND',
    'CREATED',
  ]
  const cut = (text: string, n: number): string => (text.length > n ? `${text.slice(0, n - 1)}…` : text)
  const rows = runs.map((r) => [
    r.id.slice(0, 8),
    cut(r.config.name, 28),
    cut(datasetName(r.config.datasetId), 24),
    r.status,
    `${Math.min(r.trialsCompleted, r.config.maxTrials)}/${r.config.maxTrials}${r.trialsFailed > 0 ? ` (${r.trialsFailed} failed)` : ''}`,
    num(r.bestValAccuracy),
    num(r.finalTestAccuracy ?? null),
    r.backend ?? '-',
    r.createdAt.replace('T', ' ').slice(0, 19),
  ])
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)))
  return [header, ...rows]
    .map((row) =>
      row
        .map((cell, i) => cell.padEnd(widths[i]!))
        .join('  ')
        .trimEnd(),
    )
    .join('\n')
}
