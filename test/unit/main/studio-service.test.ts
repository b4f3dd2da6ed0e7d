import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { presetSpaceId } from '../../../src/main/services'
import { analyzeSpace } from '../../../src/main/services/studio-service'
import type { RunConfig, SearchSpaceDef } from '../../../src/shared'
import { createFakeEngine, TINY_SPACE } from '../../helpers/fake-engine'
import { makeServices } from '../../helpers/services'

/** The studio's methods over real SQLite: space analysis, the user's spaces, run notes/tags and deletion. */
let ctx: Awaited<ReturnType<typeof makeServices>>
let config: RunConfig

beforeAll(async () => {
  ctx = await makeServices(createFakeEngine({ trialDelayMs: 5 }))
  config = {
    name: 'r',
    datasetId: ctx.db.datasets.list()[0]!.id,
    spaceId: presetSpaceId('tiny'),
    strategy: 'random',
    maxTrials: 2,
    concurrency: 1,
    seed: 1,
    train: { epochs: 1, batchSize: 8, learningRate: 0.01, validationFraction: 0.1 },
  }
})
afterAll(() => ctx.dispose())

const seq: SearchSpaceDef = {
  family: 'sequential',
  version: 1,
  minLayers: 1,
  maxLayers: 2,
  ops: [{ op: 'dense', units: [8, 16], activation: ['relu'] }],
}

describe('spaces.analyze', () => {
  it('gives the size and estimated parameter / FLOP ranges of a valid space', () => {
    const a = analyzeSpace(seq, { inputShape: [4], numClasses: 3, samples: 40 })
    expect(a.valid).toBe(true)
    expect(a.size).toBe(2 + 4)
    // smallest: one dense of 8 units (4*8+8) + head (8*3+3); largest: 16 -> 16 -> head
    expect(a.minParams).toBe(4 * 8 + 8 + 8 * 3 + 3)
    expect(a.maxParams).toBe(4 * 16 + 16 + 16 * 16 + 16 + 16 * 3 + 3)
    expect(a.sampled).toBe(40)
    expect(a.estimated).toBe(true)
  })

  it('reports schema problems by field, and meaning problems as a message', () => {
    const bad = analyzeSpace({ ...seq, ops: [{ op: 'dense', units: [], activation: ['relu'] }] })
    expect(bad.valid).toBe(false)
    expect(bad.errors[0]!.path).toBe('ops.0.units')
    const twice = analyzeSpace({ ...seq, ops: [seq.ops[0]!, seq.ops[0]!] })
    expect(twice.valid).toBe(false)
    expect(twice.errors[0]!.message).toMatch(/twice/)
    expect(analyzeSpace('not a space').valid).toBe(false)
  })
})

describe('the user spaces, notes, tags and deleting runs', () => {
  it('saves, updates and deletes a space of the user; presets stay read-only', async () => {
    const h = ctx.services.handlers
    const saved = await h['spaces.save']({ name: 'Mine', description: 'd', def: TINY_SPACE })
    expect(saved.preset).toBe(false)
    const updated = await h['spaces.save']({
      id: saved.id,
      name: 'Mine 2',
      description: 'd',
      def: TINY_SPACE,
    })
    expect(updated.name).toBe('Mine 2')
    await expect(
      h['spaces.save']({ id: presetSpaceId('tiny'), name: 'x', description: '', def: TINY_SPACE }),
    ).rejects.toMatchObject({ code: 'conflict' })
    await expect(h['spaces.delete']({ spaceId: presetSpaceId('tiny') })).rejects.toMatchObject({
      code: 'conflict',
    })
    expect(await h['spaces.delete']({ spaceId: saved.id })).toEqual({ deleted: true, id: saved.id })
    expect(ctx.db.spaces.get(saved.id)).toBeNull()
  })

  it('keeps notes and tags on a run, and deletes a finished run with its trials', async () => {
    const h = ctx.services.handlers
    const run = await h['runs.start'](config)
    await expect(h['runs.delete']({ runId: run.id })).rejects.toMatchObject({ code: 'conflict' })
    await ctx.services.whenFinished(run.id)
    const noted = await h['runs.annotate']({ runId: run.id, notes: 'baseline', tags: ['a', 'a', 'b'] })
    expect([noted.notes, noted.tags]).toEqual(['baseline', ['a', 'b']])
    // omitted fields are kept
    expect((await h['runs.annotate']({ runId: run.id, tags: ['c'] })).notes).toBe('baseline')
    const summary = (await h['runs.summaries']({})).find((s) => s.runId === run.id)!
    expect(summary.trials).toBe(2)
    expect(await h['runs.delete']({ runId: run.id })).toEqual({ deleted: true, id: run.id })
    expect(ctx.db.trials.listByRun(run.id)).toEqual([])
    await expect(h['runs.get']({ runId: run.id })).rejects.toMatchObject({ code: 'not_found' })
  })
})
