import { DEFAULT_ONE_SHOT } from '../../strategy/darts'
import type { OneShotSettings } from '../../strategy/darts'

/**
 * Share of the search's time the supernet may train under a time budget: the architecture it derives is then
 * trained as the run's one trial, within the rest.
 */
const SUPERNET_SHARE = 0.6
/** Epochs of the supernet without a time budget. */
const EPOCHS_WITHOUT_BUDGET = 6

/**
 * The settings a DARTS / PC-DARTS run trains its supernet with: those `npm run bench:darts-vs-search` measured
 * (where PC-DARTS matched evolution on Fashion-MNIST). Alpha learns at 0.03, not the paper's 3e-4, because these
 * searches take about a hundred steps instead of twenty thousand; weight decay 1e-3 on alpha and two warm-up
 * epochs (at most a third of the epochs) as in the papers. Under a time budget the supernet trains for its
 * share of the time left (`searchLeftMs`) instead of a number of epochs. `overrides` (tests, smaller sizes)
 * win.
 */
export function oneShotRecipe(
  method: 'darts' | 'pc-darts',
  searchLeftMs: number,
  overrides: Partial<OneShotSettings> = {},
): Partial<OneShotSettings> {
  const timed = Number.isFinite(searchLeftMs)
  const s: Partial<OneShotSettings> = {
    images: 1000,
    archLr: 0.03,
    archWeightDecay: 1e-3,
    warmupEpochs: 2,
    epochs: timed ? 1000 : EPOCHS_WITHOUT_BUDGET,
    ...(timed ? { timeLimitMs: Math.max(10_000, Math.floor(searchLeftMs * SUPERNET_SHARE)) } : {}),
    ...(method === 'pc-darts' ? { channels: 8, partialChannels: 4 } : {}),
    ...overrides,
  }
  if (overrides.warmupEpochs === undefined) {
    const epochs = s.epochs ?? DEFAULT_ONE_SHOT.epochs
    s.warmupEpochs = Math.min(s.warmupEpochs ?? 0, Math.floor(epochs / 3))
  }
  return s
}
