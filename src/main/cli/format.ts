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

/** The line `nas-studio search` prints when a trial finishes. */
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

export function formatTrialLine(trial: Trial, maxTrials: number): string {
  const head = `trial ${String(trial.index + 1).padStart(String(maxTrials).length)}/${maxTrials}  ${trial.status.padEnd(9)}`
  if (trial.status !== 'completed') return `${head}  ${trial.error ?? ''}`.trimEnd()
  const secs = trial.trainTimeMs === null ? '-' : `${(trial.trainTimeMs / 1000).toFixed(1)}s`
  const notes = [
    trial.isFinal ? `FINAL test_acc ${num(trial.testAccuracy ?? null)}` : '',
    trial.proxy ? `proxy ${describeProxy(trial.proxy)}` : '',
    trial.stoppedEarly ? `stopped early (predicted ${num(trial.predictedAccuracy ?? null)})` : '',
  ]
    .filter((t) => t !== '')
    .map((t) => `  [${t}]`)
    .join('')
  return `${head}  val_acc ${num(trial.valAccuracy)}  val_loss ${num(trial.valLoss)}  params ${trial.params.toLocaleString('en-US').padStart(9)}  ${secs.padStart(6)}${notes}  ${describeArchitecture(trial.architecture)}`
}

/** A fixed-width text table of runs, newest first, for `nas-studio runs`. */
export function formatRunsTable(runs: Run[]): string {
  const header = ['ID', 'NAME', 'STATUS', 'TRIALS', 'BEST VAL ACC', 'BACKEND', 'CREATED']
  const rows = runs.map((r) => [
    r.id.slice(0, 8),
    r.config.name.length > 28 ? `${r.config.name.slice(0, 27)}…` : r.config.name,
    r.status,
    `${r.trialsCompleted}/${r.config.maxTrials}${r.trialsFailed > 0 ? ` (${r.trialsFailed} failed)` : ''}`,
    num(r.bestValAccuracy),
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
