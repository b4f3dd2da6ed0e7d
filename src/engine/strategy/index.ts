import type { BlackBoxStrategyName, StrategyName } from '../../shared'
import { NasError } from '../../shared'
import { Bananas, type BananasOptions } from './bananas'
import { BayesOpt } from './bo'
import { RegularizedEvolution } from './evolution'
import { Asha } from './asha'
import { LocalSearch } from './local-search'
import { RandomSearch } from './random'
import { Reinforce } from './reinforce'
import { Tpe } from './tpe'
import type { SearchStrategy, StrategyContext } from './types'

// The list of strategies lives in src/shared (the schema, CLI and UI read it too); createStrategy builds
// the black-box ones.
export { BLACK_BOX_STRATEGIES, isBlackBox, type BlackBoxStrategyName } from '../../shared'

/** Extra settings; each strategy's defaults are documented in its file. */
export interface StrategySettings {
  /** The sampler ASHA wraps (default random). */
  ashaSampler?: Exclude<BlackBoxStrategyName, 'asha'>
  /** Regularized evolution: population and tournament size. */
  populationSize?: number
  sampleSize?: number
  /** BANANAS: predictor, candidate pool and acquisition (bananas.ts). */
  bananas?: Omit<BananasOptions, keyof StrategyContext>
}

/** Builds the black-box strategy `name` for `ctx`; NasError('invalid_request') for a one-shot or unknown name. */
export function createStrategy(
  name: StrategyName | BlackBoxStrategyName,
  ctx: StrategyContext,
  settings: StrategySettings = {},
): SearchStrategy {
  switch (name) {
    case 'random':
      return new RandomSearch(ctx)
    case 'evolution':
      return new RegularizedEvolution({
        ...ctx,
        populationSize: settings.populationSize,
        sampleSize: settings.sampleSize,
      })
    case 'local':
      return new LocalSearch(ctx)
    case 'tpe':
      return new Tpe(ctx)
    case 'bo':
      return new BayesOpt(ctx)
    case 'bananas':
      return new Bananas({ ...ctx, ...settings.bananas })
    case 'reinforce':
      return new Reinforce(ctx)
    case 'asha':
      return new Asha({ sampler: createStrategy(settings.ashaSampler ?? 'random', ctx) })
    default:
      throw new NasError('bad_request', `Strategy "${name}" is not a propose/observe strategy`)
  }
}

export type { Proposal, SearchStrategy, StrategyContext, TrialObservation } from './types'
