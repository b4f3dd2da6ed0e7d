/**
 * When the one-shot strategies are worth choosing, from what bench:darts-vs-search measured with a few minutes
 * of CPU on a small cell space: PC-DARTS's cells were as good as evolution's, DARTS's weaker.
 */
const DARTS_WHEN =
  'Only for cell spaces. On a CPU with minutes, prefer PC-DARTS or evolution: DARTS picked weaker cells there; it is worth it with a GPU and an hour or more.'
const PC_DARTS_WHEN =
  'Only for cell spaces. On a CPU with minutes it found cells as good as evolution; for any other space choose evolution.'

/** Plain words for each strategy; one the schema gains later still shows, with a generic sentence. */
const STRATEGY_TEXT: Record<string, { label: string; text: string }> = {
  random: {
    label: 'Random search',
    text: 'Tries candidates picked at random: simple, unbiased and a strong baseline.',
  },
  evolution: {
    label: 'Evolution',
    text: 'Keeps the best candidates and tries small changes of them, like breeding.',
  },
  local: {
    label: 'Local search',
    text: 'Starts from one network and keeps the best of its close neighbours.',
  },
  tpe: { label: 'Bayesian (TPE)', text: 'Learns which choices scored well and proposes more like them.' },
  bo: {
    label: 'Bayesian optimisation',
    text: 'Learns which choices scored well and proposes more like them.',
  },
  bananas: {
    label: 'BANANAS (predictor-guided)',
    text: 'Trains a small ensemble of predictors on the scores so far and tries the changes of the best networks they rate highest.',
  },
  reinforce: {
    label: 'Reinforcement learning',
    text: 'A controller learns to propose networks that score well.',
  },
  asha: {
    label: 'ASHA (early stopping)',
    text: 'Trains many candidates briefly and gives more time only to the promising ones.',
  },
  darts: {
    label: 'DARTS (one-shot, cell spaces)',
    text: `Trains one network holding every choice at once, then reads the best cell off it. ${DARTS_WHEN}`,
  },
  'pc-darts': {
    label: 'PC-DARTS (one-shot, cell spaces)',
    text: `DARTS with less memory: only part of the channels go through every choice. ${PC_DARTS_WHEN}`,
  },
}
/** The label and one-sentence explanation of a strategy (RunConfig['strategy']). */
export const strategyInfo = (s: string): { label: string; text: string } =>
  STRATEGY_TEXT[s] ?? { label: s, text: 'Another way to choose which candidates to try.' }
