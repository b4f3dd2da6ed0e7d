import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { presetSpaceId, type Services } from '../../../src/main/services'
import type { Run, RunConfig } from '../../../src/shared'
import { createFakeEngine } from '../../helpers/fake-engine'
import { makeServices } from '../../helpers/services'

/** runs.pause / runs.resume / runs.cancel rules of the services, over a real SQLite file. */
let ctx: Awaited<ReturnType<typeof makeServices>>
let config: RunConfig

beforeAll(async () => {
  ctx = await makeServices(createFakeEngine({ trialDelayMs: 20 }))
  config = {
    name: 'resumable',
    datasetId: ctx.db.datasets.list()[0]!.id,
    spaceId: presetSpaceId('tiny'),
    strategy: 'random',
    maxTrials: 30,
    concurrency: 1,
    seed: 1,
    train: { epochs: 1, batchSize: 8, learningRate: 0.01, validationFraction: 0.1 },
  }
})
afterAll(() => ctx.dispose())

/** Stores a run as a stopped process would have left it. */
function storedRun(status: Run['status'], patch: Partial<RunConfig> = {}): Run {
  const run: Run = {
    id: `stored-${status}-${patch.strategy ?? 'random'}`,
    config: { ...config, ...patch },
    status,
    createdAt: '2026-01-01T00:00:00.000Z',
    startedAt: '2026-01-01T00:00:00.000Z',
    finishedAt: '2026-01-01T00:01:00.000Z',
    trialsCompleted: 0,
    trialsFailed: 0,
    bestTrialId: null,
    bestValAccuracy: null,
    backend: null,
    error: null,
  }
  ctx.db.runs.insert(run, null, null)
  return run
}

/** Resolves once `count` trials of `runId` have completed: waits on events, not on time. */
function trialsCompleted(services: Services, runId: string, count: number): Promise<void> {
  return new Promise((resolve) => {
    let done = 0
    const stop = services.events((msg) => {
      if (msg.event !== 'trial.updated' || msg.payload.runId !== runId) return
      if (msg.payload.status === 'completed' && ++done >= count) {
        stop()
        resolve()
      }
    })
  })
}

describe('pause and resume through the services', () => {
  it('pauses a running search, keeps its trials, and resumes it to the end', async () => {
    const { handlers } = ctx.services
    const run = await handlers['runs.start'](config)
    await trialsCompleted(ctx.services, run.id, 2)
    const paused = await handlers['runs.pause']({ runId: run.id })
    expect(paused.status).toBe('paused')
    expect(paused.trialsCompleted).toBeGreaterThan(0)
    expect(paused.trialsCompleted).toBeLessThan(30)
    expect(ctx.db.runs.require(run.id).status).toBe('paused')
    // pausing again answers with the paused run
    expect((await handlers['runs.pause']({ runId: run.id })).status).toBe('paused')

    const resumed = await handlers['runs.resume']({ runId: run.id })
    expect(resumed).toMatchObject({ id: run.id, status: 'queued', finishedAt: null, error: null })
    await expect(handlers['runs.resume']({ runId: run.id })).rejects.toMatchObject({
      code: 'conflict',
      message: 'Run "resumable" is already running.',
    })
    const final = await ctx.services.whenFinished(run.id)
    expect(final).toMatchObject({ status: 'completed', trialsCompleted: 30 })
    expect(ctx.db.trials.listByRun(run.id)).toHaveLength(30)
  })

  it('refuses to resume a finished run, and to pause one that is not running', async () => {
    const done = storedRun('completed')
    await expect(ctx.services.handlers['runs.resume']({ runId: done.id })).rejects.toMatchObject({
      code: 'conflict',
      message:
        'Run "resumable" is completed; only a paused or interrupted search can be resumed. Use "Run again with these settings" to start a new one.',
    })
    await expect(ctx.services.handlers['runs.pause']({ runId: done.id })).rejects.toMatchObject({
      code: 'conflict',
      message: 'Run "resumable" is completed; only a running search can be paused.',
    })
    await expect(ctx.services.handlers['runs.resume']({ runId: 'nope' })).rejects.toMatchObject({
      code: 'not_found',
    })
  })

  it('refuses to resume a DARTS search with the reason and what to do instead', async () => {
    const darts = storedRun('interrupted', { strategy: 'darts' })
    await expect(ctx.services.handlers['runs.resume']({ runId: darts.id })).rejects.toMatchObject({
      code: 'conflict',
      message:
        'Run "resumable" cannot be resumed: a DARTS search keeps its weight-sharing network only in memory, so it must start over. Use "Run again with these settings".',
    })
    expect(ctx.db.runs.require(darts.id).status).toBe('interrupted')
  })

  it('stops a paused search for good with runs.cancel', async () => {
    const paused = storedRun('paused')
    const cancelled = await ctx.services.handlers['runs.cancel']({ runId: paused.id })
    expect(cancelled.status).toBe('cancelled')
    expect(ctx.db.runs.require(paused.id).status).toBe('cancelled')
    await expect(ctx.services.handlers['runs.resume']({ runId: paused.id })).rejects.toMatchObject({
      code: 'conflict',
    })
  })

  it('resumes an interrupted run left by another process', async () => {
    const left = storedRun('interrupted', { maxTrials: 3 })
    const resumed = await ctx.services.handlers['runs.resume']({ runId: left.id })
    expect(resumed.status).toBe('queued')
    const final = await ctx.services.whenFinished(left.id)
    expect(final).toMatchObject({ status: 'completed', trialsCompleted: 3 })
  })
})

describe('closing the services', () => {
  it('pauses the searches still running, so they can be resumed at the next start', async () => {
    const local = await makeServices(createFakeEngine({ trialDelayMs: 20 }))
    try {
      const run = await local.services.handlers['runs.start']({
        ...config,
        datasetId: local.db.datasets.list()[0]!.id,
      })
      await trialsCompleted(local.services, run.id, 1)
      await local.services.close()
      expect(local.db.runs.require(run.id).status).toBe('paused')
    } finally {
      await local.dispose()
    }
  })
})
