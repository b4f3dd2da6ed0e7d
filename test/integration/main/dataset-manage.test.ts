import { existsSync } from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { presetSpaceId } from '../../../src/main/services'
import { toErrorData } from '../../../src/shared'
import { createFakeEngine } from '../../helpers/fake-engine'
import { makeServices } from '../../helpers/services'
import { makeTempDir } from '../../helpers/temp-dir'
import { makeTenClassFolder } from '../../helpers/ten-classes'

/** Renaming and deleting datasets through the services (real SQLite, real import of a real folder). */
let ctx: Awaited<ReturnType<typeof makeServices>>
const src = makeTempDir('nas-manage-src-')

beforeAll(async () => {
  ctx = await makeServices(createFakeEngine())
  await makeTenClassFolder(path.join(src.dir, 'drawings'), 2)
})
afterAll(async () => {
  await ctx?.dispose()
  src.cleanup()
})

async function importDrawings(): Promise<string> {
  const job = await ctx.services.handlers['datasets.import']({ path: path.join(src.dir, 'drawings') })
  const done = await ctx.services.whenImported(job.jobId)
  expect(done.state).toBe('done')
  return done.datasetId!
}

const failure = (p: Promise<unknown>) =>
  p.then(
    () => null,
    (err: unknown) => toErrorData(err),
  )

describe('rename and delete a dataset', () => {
  it('renames, refusing an empty name', async () => {
    const id = await importDrawings()
    expect(
      (await ctx.services.handlers['datasets.rename']({ datasetId: id, name: '  My drawings ' })).name,
    ).toBe('My drawings')
    expect((await ctx.services.handlers['datasets.get']({ datasetId: id })).name).toBe('My drawings')
  })

  it('refuses to delete a dataset a run used, naming the run; deletes it with its copy once the run is gone', async () => {
    const id = await importDrawings()
    const run = await ctx.services.handlers['runs.start']({
      name: 'drawings first try',
      datasetId: id,
      spaceId: presetSpaceId('tiny'),
      strategy: 'random',
      maxTrials: 1,
      concurrency: 1,
      seed: 1,
      train: { epochs: 1, batchSize: 8, learningRate: 0.01, validationFraction: 0.2 },
    })
    await ctx.services.whenFinished(run.id)
    const refused = await failure(ctx.services.handlers['datasets.delete']({ datasetId: id }))
    expect(refused).toEqual({
      code: 'conflict',
      message: '"My drawings" is used by the run "drawings first try". Delete that run in History first.',
      details: { runIds: [run.id] },
    })
    const cache = path.join(ctx.dataDir, 'cache')
    const hash = (await ctx.services.handlers['datasets.get']({ datasetId: id })).hash
    expect(existsSync(path.join(cache, hash))).toBe(true)

    await ctx.services.handlers['runs.delete']({ runId: run.id })
    expect(await ctx.services.handlers['datasets.delete']({ datasetId: id })).toEqual({ deleted: true, id })
    expect((await ctx.services.handlers['datasets.list']({})).some((d) => d.id === id)).toBe(false)
    expect(existsSync(path.join(cache, hash))).toBe(false)
    expect(await failure(ctx.services.handlers['datasets.delete']({ datasetId: id }))).toMatchObject({
      code: 'not_found',
    })
  })

  it('keeps the bundled sample', async () => {
    const sample = (await ctx.services.handlers['datasets.list']({})).find((d) => d.source === 'bundled')!
    const refused = await failure(ctx.services.handlers['datasets.delete']({ datasetId: sample.id }))
    expect(refused?.code).toBe('conflict')
    expect(refused?.message).toContain('comes with NAS Studio')
  })
})
