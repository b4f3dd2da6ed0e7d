import type { RunConfig } from './domain'

/**
 * What a search-time score measured, in words: "quick score: 3 epochs on 10% of the data" when candidates
 * were trained with proxies (fewer epochs than the final training, a data share, smaller images or narrower
 * layers), else "validation accuracy after 3 epochs". Always on the validation split.
 */
export function searchScoreName(config: RunConfig): string {
  const t = config.train
  const epochs = `${t.epochs} epoch${t.epochs === 1 ? '' : 's'}`
  const cuts = [
    t.dataFraction !== undefined && t.dataFraction < 1
      ? `on ${Math.round(t.dataFraction * 1000) / 10}% of the data`
      : '',
    t.resolution !== undefined && t.resolution < 1 ? `at ${t.resolution}x resolution` : '',
    t.widthMultiplier !== undefined && t.widthMultiplier < 1 ? `at ${t.widthMultiplier}x width` : '',
    t.maxCellsPerStage !== undefined ? `with at most ${t.maxCellsPerStage} cells per stage` : '',
  ].filter((c) => c !== '')
  const proxied =
    cuts.length > 0 || (config.finalTraining !== undefined && config.finalTraining.epochs > t.epochs)
  return proxied
    ? `quick score: ${[epochs, ...cuts].join(' ')} (validation split)`
    : `validation accuracy after ${epochs}`
}

/** How the final model's score is named: accuracy on the test split, never used for search or training. */
export const FINAL_SCORE_NAME = 'final model, test accuracy (data never used for search or training)'
