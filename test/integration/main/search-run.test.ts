import { afterAll, describe, expect, it } from 'vitest'
import * as engine from '../../../src/engine'
import { openAppDb } from '../../../src/main/db'
import { presetSpaceId } from '../../../src/main/services'
import type { EventMessage } from '../../../src/shared'
import { makeServices } from '../../helpers/services'

let dispose = async (): Promise<void> => {}
afterAll(() => dispose())

describe('a search through the services', () => {
  it('trains 2 tiny trials, stores them with their epochs, and finds them after reopening the database', async () => {
    const made = await makeServices(engine, { poolSize: 2 })
    const { services, dataDir } = made
    dispose = made.dispose
    const seen: EventMessage[] = []
    services.events((m) => seen.push(m))
    const dataset = (await services.handlers['datasets.list']({})).find((d) => d.source === 'bundled')!
    const run = await services.handlers['runs.start']({
      name: 'two tiny trials',
      datasetId: dataset.id,
      spaceId: presetSpaceId('quick-mlp'),
      strategy: 'random',
      maxTrials: 2,
      concurrency: 2,
      seed: 7,
      train: { epochs: 1, batchSize: 64, learningRate: 0.01, validationFraction: 0.1 },
    })
    expect(run.status).toBe('queued')
    const final = await services.whenFinished(run.id)
    expect(final).toMatchObject({ status: 'completed', trialsCompleted: 2, trialsFailed: 0 })
    expect(final.bestValAccuracy).toBeGreaterThan(0)
    expect(seen.some((m) => m.event === 'trial.epoch')).toBe(true)
    expect(seen.filter((m) => m.event === 'run.updated').at(-1)?.payload).toEqual(final)
    await made.close()

    const reopened = openAppDb(dataDir)
    try {
      expect(reopened.interruptedRunIds).toEqual([])
      expect(reopened.runs.require(run.id)).toEqual(final)
      const trials = reopened.trials.listByRun(run.id)
      expect(trials.map((t) => t.status)).toEqual(['completed', 'completed'])
      for (const t of trials) {
        expect(t.valAccuracy).not.toBeNull()
        expect(reopened.trials.listEpochs(t.id)).toHaveLength(1)
      }
      expect(trials.map((t) => t.id)).toContain(final.bestTrialId)
    } finally {
      reopened.close()
    }
  })
})
