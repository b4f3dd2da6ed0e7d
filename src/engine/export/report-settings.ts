import type { Run, TrainSettings, Trial } from '../../shared'

const esc = (s: string): string =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;')

/** A training recipe in words: optimizer, learning rate and schedule, batch size, label smoothing. */
function recipe(t: TrainSettings): string {
  return [
    `${t.optimizer ?? 'adam'}, learning rate ${t.learningRate}`,
    t.schedule === 'cosine'
      ? `cosine schedule${t.warmupEpochs ? ` after ${t.warmupEpochs} warm-up epochs` : ''}`
      : 'constant rate',
    `batches of ${t.batchSize}`,
    t.labelSmoothing ? `label smoothing ${t.labelSmoothing}` : '',
  ]
    .filter((x) => x !== '')
    .join(', ')
}

/** The proxy of the search's candidates in words, or "none (full data and size)". */
function proxy(t: TrainSettings): string {
  const cuts = [
    t.dataFraction !== undefined && t.dataFraction < 1
      ? `${Math.round(t.dataFraction * 1000) / 10}% of the training data`
      : '',
    t.resolution !== undefined && t.resolution < 1 ? `images at ${t.resolution}x resolution` : '',
    t.widthMultiplier !== undefined && t.widthMultiplier < 1 ? `layers at ${t.widthMultiplier}x width` : '',
    t.maxCellsPerStage !== undefined ? `at most ${t.maxCellsPerStage} cells per stage` : '',
  ].filter((x) => x !== '')
  return cuts.length ? cuts.join(', ') : 'none (all the training data, full size)'
}

function augmentation(t: TrainSettings): string {
  if (!t.augment || (t.augment.shift === 0 && !t.augment.flip)) return 'none'
  return [
    t.augment.shift > 0 ? `random shifts up to ${t.augment.shift} px` : '',
    t.augment.flip ? 'left-right mirroring' : '',
  ]
    .filter((x) => x !== '')
    .join(', ')
}

/**
 * The report's "Settings that shaped it": the search (strategy, budget, proxy, recipe, augmentation, early
 * stopping, seed) and, for the final model, the final training (epochs set and trained, its recipe and
 * augmentation); `epochsTrained` is the number of per-epoch rows stored for the trial. Values are HTML.
 */
export function settingsRows(
  run: Run,
  trial: Trial,
  epochsTrained: number,
  spaceName: string,
  backend: string,
): Array<[string, string]> {
  const c = run.config
  const ft = c.finalTraining
  const finalTrain = ft ? { ...(ft.train ?? c.train), epochs: ft.epochs } : null
  const rows: Array<[string, string]> = [
    ['Strategy', c.strategy],
    ['Search space', spaceName],
    [
      'Candidates (budget)',
      `${c.maxTrials.toLocaleString('en-US')}${c.budgetMinutes ? `, at most ${c.budgetMinutes} min` : ''}`,
    ],
    ['Candidates completed / failed', `${Math.min(run.trialsCompleted, c.maxTrials)} / ${run.trialsFailed}`],
    ['Search: epochs per candidate', String(c.train.epochs)],
    ['Search: proxy', esc(proxy(c.train))],
    ['Search: recipe', esc(recipe(c.train))],
    ['Search: augmentation', esc(augmentation(c.train))],
    ['Validation fraction', String(c.train.validationFraction)],
    [
      'Early stopping',
      c.earlyStop
        ? `from epoch ${c.earlyStop.minEpochs}, when the predicted score cannot reach the top ${c.earlyStop.topK}${c.earlyStop.margin ? ` (margin ${c.earlyStop.margin})` : ''}; never while scores are at chance`
        : 'off',
    ],
    [
      'Final training',
      finalTrain
        ? `${finalTrain.epochs} epochs set${trial.isFinal ? `, ${trial.proxy?.epochs ?? (epochsTrained || finalTrain.epochs)} trained` : ''} on train + validation; ${esc(recipe(finalTrain))}; augmentation: ${esc(augmentation(finalTrain))}`
        : 'off (the best candidate is the result)',
    ],
    ['Concurrency', String(c.concurrency)],
    ['Seed', String(c.seed)],
    ['Compute backend', backend],
  ]
  if (run.signalWarning) rows.push(['Signal check', esc(run.signalWarning)])
  return rows
}
