import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createServices, presetSpaceId } from '../../../src/main/services'
import type { RunConfig } from '../../../src/shared'
import { createFakeEngine } from '../../helpers/fake-engine'
import { makeServices } from '../../helpers/services'

let ctx: Awaited<ReturnType<typeof makeServices>>
let config: RunConfig

beforeAll(async () => {
  ctx = await makeServices(createFakeEngine({ trialDelayMs: 20 }))
  config = {
    name: 'r',
    datasetId: ctx.db.datasets.list()[0]!.id,
    spaceId: presetSpaceId('tiny'),
    strategy: 'random',
    maxTrials: 50,
    concurrency: 1,
    seed: 1,
    train: { epochs: 1, batchSize: 8, learningRate: 0.01, validationFraction: 0.1 },
  }
})
afterAll(() => ctx.dispose())

describe('services', () => {
  it('registers the bundled dataset and presets once, however often it starts', async () => {
    const again = await createServices({
      db: ctx.db,
      engine: createFakeEngine(),
      dataDir: ctx.dataDir,
      resourcesDir: '/r',
      mode: 'web',
      modeReason: 'test',
    })
    await again.close()
    expect(ctx.db.datasets.list()).toHaveLength(1)
    expect(ctx.db.spaces.list().map((s) => [s.id, s.preset])).toEqual([[presetSpaceId('tiny'), true]])
  })

  it('reports app info with mode, version and the cached backend', async () => {
    const info = await ctx.services.handlers['app.info']({})
    expect(info).toMatchObject({
      mode: 'web',
      modeReason: 'test',
      version: '0.0.0-test',
      backend: { name: 'fake' },
      dataDir: ctx.dataDir,
    })
  })

  it('refuses a run on an unknown dataset or space with not_found', async () => {
    await expect(ctx.services.handlers['runs.start']({ ...config, datasetId: 'nope' })).rejects.toMatchObject(
      { code: 'not_found' },
    )
    await expect(ctx.services.handlers['runs.start']({ ...config, spaceId: 'nope' })).rejects.toMatchObject({
      code: 'not_found',
    })
  })

  it('returns a queued run at once, and cancels it', async () => {
    const run = await ctx.services.handlers['runs.start'](config)
    expect(run.status).toBe('queued')
    expect(ctx.db.runs.require(run.id).status).not.toBe('completed')
    await ctx.services.handlers['runs.cancel']({ runId: run.id })
    const final = await ctx.services.whenFinished(run.id)
    expect(final.status).toBe('cancelled')
    expect(final.trialsCompleted).toBeLessThan(50)
    expect(await ctx.services.handlers['runs.cancel']({ runId: run.id })).toEqual(final)
  })

  it('marks a run failed when the engine throws', async () => {
    const engine = { ...createFakeEngine(), runSearch: async () => Promise.reject(new Error('boom')) }
    const local = await createServices({
      db: ctx.db,
      engine,
      dataDir: ctx.dataDir,
      resourcesDir: '/r',
      mode: 'web',
      modeReason: 't',
    })
    const run = await local.handlers['runs.start'](config)
    const final = await local.whenFinished(run.id)
    expect(final).toMatchObject({ status: 'failed', error: 'boom' })
    await local.close()
  })
})

describe('search.plan', () => {
  it("plans at the engine's measured speed, one timing at a time", async () => {
    const fake = createFakeEngine()
    const events: string[] = []
    let calls = 0
    const engine = {
      ...fake,
      planAtMachineSpeed: async (input: Parameters<typeof fake.planSearch>[0]) => {
        const n = ++calls
        events.push(`start ${n}`)
        // a timing takes a while: the next request must wait for it, not run beside it
        await new Promise((r) => setTimeout(r, 20))
        events.push(`end ${n}`)
        return { plan: { ...fake.planSearch(input), speed: { factor: n + 1, spaceFactors: {} } } }
      },
    }
    const local = await createServices({
      db: ctx.db,
      engine,
      dataDir: ctx.dataDir,
      resourcesDir: '/r',
      mode: 'web',
      modeReason: 't',
    })
    try {
      const datasetId = ctx.db.datasets.list()[0]!.id
      const [a, b] = await Promise.all([
        local.handlers['search.plan']({ datasetId, minutes: 5 }),
        local.handlers['search.plan']({ datasetId, minutes: 15 }),
      ])
      expect([a.speed?.factor, b.speed?.factor]).toEqual([2, 3])
      expect([a.minutes, b.minutes]).toEqual([5, 15])
      expect(events).toEqual(['start 1', 'end 1', 'start 2', 'end 2'])
    } finally {
      await local.close()
    }
  })
})
