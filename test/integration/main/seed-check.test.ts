import { afterAll, describe, expect, it } from 'vitest'
import * as engine from '../../../src/engine'
import { openAppDb } from '../../../src/main/db'
import { presetSpaceId } from '../../../src/main/services'
import { makeServices } from '../../helpers/services'

let dispose = async (): Promise<void> => {}
afterAll(() => dispose())

describe('the seed re-check of a real search', () => {
  it('trains the best candidates again with a second seed, stores the verdict and final-trains the pick', async () => {
    const made = await makeServices(engine, { poolSize: 2 })
    const { services, dataDir } = made
    dispose = made.dispose
    const dataset = (await services.handlers['datasets.list']({})).find((d) => d.source === 'bundled')!
    const run = await services.handlers['runs.start']({
      name: 'seed re-check',
      datasetId: dataset.id,
      spaceId: presetSpaceId('quick-mlp'),
      strategy: 'random',
      maxTrials: 3,
      concurrency: 2,
      seed: 11,
      train: { epochs: 1, batchSize: 64, learningRate: 0.01, validationFraction: 0.1 },
      finalTraining: { epochs: 1 },
      seedCheck: { candidates: 2 },
    })
    const final = await services.whenFinished(run.id)
    expect(final).toMatchObject({ status: 'completed', trialsCompleted: 3 })
    await made.close()

    const reopened = openAppDb(dataDir)
    try {
      const stored = reopened.runs.require(run.id)
      expect(stored).toEqual(final)
      const check = stored.seedCheck!
      expect(check.status).toBe('done')
      const trials = reopened.trials.listByRun(run.id)
      const search = trials
        .filter((t) => !t.isFinal)
        .sort((a, b) => b.valAccuracy! - a.valAccuracy! || (a.valLoss ?? 0) - (b.valLoss ?? 0))
      // the two best of the search, winner first, with their search score as the first seed
      expect(check.candidates.map((c) => c.trialId)).toEqual([stored.bestTrialId, search[1]!.id])
      for (const c of check.candidates) {
        expect(c.first).toBe(trials.find((t) => t.id === c.trialId)!.valAccuracy)
        expect(c.second).toBeGreaterThan(0)
        expect(c.second).toBeLessThanOrEqual(1)
      }
      const [a, b] = check.candidates
      expect(check.noise).toBeCloseTo(
        Math.sqrt(((a!.first - a!.second) ** 2 + (b!.first - b!.second) ** 2) / 2),
        10,
      )
      expect(check.lead).toBeCloseTo(a!.first - b!.first, 10)
      expect(check.lucky).toBe(check.lead! <= check.noise!)
      const picked = a!.first + a!.second >= b!.first + b!.second ? a! : b!
      expect(check.pickedTrialId).toBe(picked.trialId)
      // the final training trains the pick
      const finalTrial = trials.find((t) => t.isFinal)!
      expect(finalTrial.archHash).toBe(trials.find((t) => t.id === picked.trialId)!.archHash)
      // the retrainings are not trials of the run
      expect(trials).toHaveLength(4)
    } finally {
      reopened.close()
    }
  })
})
