import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import * as engine from '../../../src/engine'
import { runCli } from '../../../src/main/cli/commands'
import { presetSpaceId } from '../../../src/main/services'
import type { DatasetImportJob, EventMessage } from '../../../src/shared'
import { makeImageFolder } from '../../helpers/bad-data'
import { makeServices } from '../../helpers/services'
import { makeTempDir } from '../../helpers/temp-dir'

/**
 * Imports through the services (real engine, real SQLite): progress events, cancel, the dataset row with its
 * check, a real search whose trial worker loads the decoded cache, and the `nas-studio import` command.
 */
let ctx: Awaited<ReturnType<typeof makeServices>>
const src = makeTempDir('nas-import-src-')
const events: EventMessage[] = []

beforeAll(async () => {
  ctx = await makeServices(engine)
  ctx.services.events((m) => events.push(m))
  await makeImageFolder(path.join(src.dir, 'small'), 12)
  await makeImageFolder(path.join(src.dir, 'big'), 150)
})
afterAll(async () => {
  await ctx?.dispose()
  src.cleanup()
})

describe('dataset import service', () => {
  let datasetId = ''

  it('imports a folder in the background with progress events and stores the dataset', async () => {
    const job = await ctx.services.handlers['datasets.import']({
      path: path.join(src.dir, 'small'),
      inputSize: 12,
    })
    expect(job.state).toBe('running')
    const done = await ctx.services.whenImported(job.jobId)
    expect(done).toMatchObject({ state: 'done', fromCache: false, error: null })
    datasetId = done.datasetId!
    const progress = events
      .filter((e) => e.event === 'dataset.importProgress')
      .map((e) => e.payload as DatasetImportJob)
    expect(progress.map((p) => p.phase)).toEqual(
      expect.arrayContaining(['Reading files', 'Decoding images', 'Done']),
    )
    expect(progress.at(-1)).toMatchObject({ state: 'done', datasetId })
    const dataset = await ctx.services.handlers['datasets.get']({ datasetId })
    expect(dataset).toMatchObject({
      source: 'image-folder',
      inputShape: [12, 12, 3],
      classNames: ['circles', 'squares'],
    })
    expect(dataset.check?.classCounts.map((c) => c.train + c.test)).toEqual([12, 12])
    expect((await ctx.services.handlers['datasets.list']({})).some((d) => d.id === datasetId)).toBe(true)
    const preview = await ctx.services.handlers['datasets.preview']({ datasetId, perClass: 3 })
    expect(preview.classes.map((c) => c.thumbnails.length)).toEqual([3, 3])
  })

  it('cancels an import and adds nothing', async () => {
    const before = (await ctx.services.handlers['datasets.list']({})).length
    const job = await ctx.services.handlers['datasets.import']({
      path: path.join(src.dir, 'big'),
      inputSize: 64,
    })
    await ctx.services.handlers['datasets.cancelImport']({ jobId: job.jobId })
    const done = await ctx.services.whenImported(job.jobId)
    expect(done.state).toBe('cancelled')
    expect((await ctx.services.handlers['datasets.list']({})).length).toBe(before)
  })

  it('searches on the imported dataset: the trial worker loads the decoded cache', async () => {
    const run = await ctx.services.handlers['runs.start']({
      name: 'imported',
      datasetId,
      spaceId: presetSpaceId('quick-mlp'),
      strategy: 'random',
      maxTrials: 1,
      concurrency: 1,
      seed: 1,
      train: { epochs: 1, batchSize: 8, learningRate: 0.01, validationFraction: 0.2 },
    })
    const final = await ctx.services.whenFinished(run.id)
    expect(final.error).toBeNull()
    expect(final).toMatchObject({ status: 'completed', trialsCompleted: 1 })
  })

  it('imports from the command line, then reuses the cache', async () => {
    let out = ''
    const io = {
      stdout: (t: string) => (out += t),
      stderr: () => undefined,
      signal: new AbortController().signal,
    }
    const args = ['import', path.join(src.dir, 'small'), '--input-size', '12', '--data-dir', ctx.dataDir]
    expect(await runCli(args, io)).toBe(0)
    expect(out).toContain('source   image-folder:')
    expect(out).toContain('(decoded data reused from the cache)')
    expect(out).toMatch(/circles\s+\d+\s+0\s+\d+/)
    expect(await runCli(['import', '--data-dir', ctx.dataDir], io)).toBe(2)
  })
})
