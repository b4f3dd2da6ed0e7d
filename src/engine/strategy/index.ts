import type { StrategyName } from '../../shared'
import { NasError } from '../../shared'
import { BayesOpt } from './bo'
import { RegularizedEvolution } from './evolution'
import { Asha } from './asha'
import { LocalSearch } from './local-search'
import { RandomSearch } from './random'
import { Reinforce } from './reinforce'
import { Tpe } from './tpe'
import type { SearchStrategy, StrategyContext } from './types'

/** The black-box strategies (propose/observe); 'darts' and 'pc-darts' are one-shot and run separately. */
export const BLACK_BOX_STRATEGIES = [
  'random',
  'evolution',
  'local',
  'tpe',
  'bo',
  'reinforce',
  'asha',
] as const
export type BlackBoxStrategyName = (typeof BLACK_BOX_STRATEGIES)[number]

/** True for the strategies createStrategy builds. */
export function isBlackBox(name: string): name is BlackBoxStrategyName {
  return (BLACK_BOX_STRATEGIES as readonly string[]).includes(name)
}

/** Extra settings; each strategy's defaults are documented in its file. */
export interface StrategySettings {
  /** The sampler ASHA wraps (default random). */
  ashaSampler?: Exclude<BlackBoxStrategyName, 'asha'>
  /** Regularized evolution: population and tournament size. */
  populationSize?: number
  sampleSize?: number
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
    case 'reinforce':
      return new Reinforce(ctx)
    case 'asha':
      return new Asha({ sampler: createStrategy(settings.ashaSampler ?? 'random', ctx) })
    default:
      throw new NasError('bad_request', `Strategy "${name}" is not a propose/observe strategy`)
  }
}

export type { Proposal, SearchStrategy, StrategyContext, TrialObservation } from './types'
