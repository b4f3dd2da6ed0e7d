import { describe, expect, it } from 'vitest'
import { runSeedCheck } from '../../../src/engine/execution/search/seed-check'
import type { Trial } from '../../../src/shared'
import { TOY_SPACE, makeRun, stubRunner, toyDataset } from '../../helpers/scheduler-fixtures'

const trial = (index: number): Trial => ({
  id: `r-t${index}`,
  runId: 'r',
  index,
  status: 'completed',
  architecture: { nodes: [], edges: [] } as unknown as Trial['architecture'],
  archHash: `h${index}`,
  params: 10,
  valAccuracy: 0.8 - index / 100,
  valLoss: 0.5,
  trainTimeMs: 1500,
  error: null,
  startedAt: null,
  finishedAt: null,
})

describe('a seed re-check without the time for it', () => {
  it('is skipped before training anything, and says both times so that they never read alike', async () => {
    let trained = 0
    const check = await runSeedCheck({
      runId: 'r',
      config: makeRun({ concurrency: 2, seedCheck: { candidates: 3 } }).config,
      top: [trial(0), trial(1), trial(2)],
      space: TOY_SPACE,
      dataset: toyDataset(),
      runner: stubRunner(async () => {
        trained++
        return { valAccuracy: 0.8, valLoss: 0.5, params: 10, trainTimeMs: 1 }
      }),
      seedFor: (i) => 100 + i,
      // two rounds (3 candidates, 2 at a time) of 1.55 s: 3.1 s, with 2.6 s left
      timeLeftMs: 2_600,
      trialMs: 1_550,
      logger: { info: () => {}, warn: () => {}, error: () => {} },
    })
    expect(trained).toBe(0)
    expect(check?.status).toBe('skipped')
    expect(check?.reason).toBe(
      'the time budget had about 2.6 s left for it, and training 3 candidates again takes about 3.1 s',
    )
  })
})
