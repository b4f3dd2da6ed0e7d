import type { SearchSpaceDef } from '../../src/shared'

/** NAS-Bench-201's cell space at its smallest (C = 8, one cell per stage): DARTS tests train its supernet. */
export const SMALL_NB201: SearchSpaceDef = {
  family: 'nb201',
  version: 1,
  ops: ['none', 'skip_connect', 'nor_conv_1x1', 'nor_conv_3x3', 'avg_pool_3x3'],
  channels: [8],
  cellsPerStage: [1],
}
