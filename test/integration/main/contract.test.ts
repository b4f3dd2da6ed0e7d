import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import * as engine from '../../../src/engine'
import { registerIpc } from '../../../src/main/ipc'
import { startWebServer, type WebServer } from '../../../src/main/server'
import { presetSpaceId } from '../../../src/main/services'
import {
  IPC_INVOKE_CHANNEL,
  METHODS,
  api,
  type Method,
  type Result,
  type RunConfig,
} from '../../../src/shared'
import { FakeIpcMain } from '../../helpers/fake-ipc'
import { postApi } from '../../helpers/http'
import { makeServices } from '../../helpers/services'
import { join } from 'node:path'
import sharp from 'sharp'
import { findAppRoot } from '../../../src/main/paths'
import { makeTempDir } from '../../helpers/temp-dir'
import { writeTinyBackbone } from '../../helpers/tiny-backbone'

/**
 * THE CONTRACT TEST: every method of the contract is served by both transports over the real services
 * (real engine, real SQLite), and both answer with the same envelope.
 */
let ctx: Awaited<ReturnType<typeof makeServices>>
let server: WebServer
const ipc = new FakeIpcMain()
const APP_URL = 'file:///app/out/renderer/index.html'

const viaIpc = (method: string, request: unknown) =>
  ipc.invoke(IPC_INVOKE_CHANNEL, APP_URL, method, request) as Promise<Result<unknown>>
const viaHttp = async (method: string, request: unknown) =>
  (await postApi(server.port, server.token, method, request)).json as Result<unknown>

/** The same envelope: same ok, same error code, and for data the same kind of value with the same keys. */
function shapeOf(res: Result<unknown>): unknown {
  if (!res.ok) return { ok: false, code: res.error.code }
  const d = res.data
  const keys = (v: unknown) => (v && typeof v === 'object' ? Object.keys(v).sort() : typeof v)
  return { ok: true, data: Array.isArray(d) ? { array: d.length > 0 ? keys(d[0]) : 'empty' } : keys(d) }
}

async function both(method: string, request: unknown): Promise<[Result<unknown>, Result<unknown>]> {
  const a = await viaIpc(method, request)
  const b = await viaHttp(method, request)
  expect(shapeOf(b), `${method} answers differently over HTTP than over IPC`).toEqual(shapeOf(a))
  return [a, b]
}

let config: RunConfig
let runA = ''
let runB = ''
let runC = ''
let trialId = ''
let importJobId = ''
let importedId = ''
const SAMPLE_DIR = join(findAppRoot(), 'resources', 'sample', 'fashion-mnist')
const models = makeTempDir('nas-studio-contract-models-')
const TINY_DIR = join(models.dir, 'tiny backbone')
let backboneId = ''

beforeAll(async () => {
  ctx = await makeServices(engine)
  registerIpc(ipc, ctx.services.handlers, { isTrustedSender: (e) => e.senderFrame?.url === APP_URL })
  server = await startWebServer({
    handlers: ctx.services.handlers,
    events: ctx.services.events,
    port: 0,
    rendererDir: '/nonexistent',
  })
  const dataset = ctx.db.datasets.list().find((d) => d.source === 'bundled')
  if (!dataset) throw new Error('The bundled dataset was not registered')
  bundledId = dataset.id
  const job = await ctx.services.handlers['datasets.import']({ path: SAMPLE_DIR, kind: 'idx' })
  const finished = await ctx.services.whenImported(job.jobId)
  if (finished.state !== 'done')
    throw new Error(`The sample import ended ${finished.state}: ${finished.error}`)
  importJobId = finished.jobId
  importedId = finished.datasetId!
  config = {
    name: 'contract',
    datasetId: dataset.id,
    spaceId: presetSpaceId('quick-mlp'),
    strategy: 'random',
    maxTrials: 1,
    concurrency: 1,
    seed: 3,
    train: { epochs: 1, batchSize: 64, learningRate: 0.01, validationFraction: 0.1 },
  }
})
afterAll(async () => {
  await server?.close()
  await ctx?.dispose()
  models.cleanup()
})

/** One valid request per method (runs and trials refer to real started runs), so a new method fails here. */
const validRequests: Record<Method, () => unknown> = {
  'app.info': () => ({}),
  'settings.get': () => ({}),
  'settings.set': () => ({ trialsOn: 'this-machine', redisUrl: null }),
  'workers.list': () => ({}),
  'datasets.list': () => ({}),
  'datasets.get': () => ({ datasetId: importedId }),
  'datasets.import': () => ({ path: SAMPLE_DIR, kind: 'idx' }),
  'datasets.importStatus': () => ({ jobId: importJobId }),
  'datasets.cancelImport': () => ({ jobId: importJobId }),
  'datasets.preview': () => ({ datasetId: importedId, perClass: 2 }),
  'datasets.rename': () => ({ datasetId: importedId, name: 'Fashion sample, imported' }),
  // the bundled sample is refused (conflict): see the test of CHANGING methods below
  'datasets.delete': () => ({ datasetId: bundledId }),
  'spaces.list': () => ({}),
  'search.plan': () => ({ datasetId: importedId, minutes: 5 }),
  'runs.list': () => ({}),
  'runs.get': () => ({ runId: runA }),
  'runs.start': () => config,
  'runs.cancel': () => ({ runId: runB }),
  'runs.pause': () => ({ runId: runC }),
  'runs.resume': () => ({ runId: runC }),
  'runs.pareto': () => ({ runId: runA }),
  'runs.alphas': () => ({ runId: runA }),
  'trials.list': () => ({ runId: runA }),
  'trials.epochs': () => ({ trialId }),
  'spaces.analyze': () => ({ def: quickMlpDef(), inputShape: [28, 28, 1], numClasses: 10, samples: 4 }),
  'spaces.save': () => ({ name: 'My MLP', description: 'saved by the contract test', def: quickMlpDef() }),
  'spaces.delete': () => ({ spaceId: savedSpaceId }),
  'runs.delete': () => ({ runId: runB }),
  'runs.annotate': () => ({ runId: runA, notes: 'first try', tags: ['contract'] }),
  'trials.runEpochs': () => ({ runId: runA }),
  'runs.summaries': () => ({}),
  'trials.analyze': () => ({ trialId }),
  'exports.create': () => ({ runId: runA, format: 'onnx' }),
  'exports.list': () => ({ runId: runA }),
  'exports.archive': () => ({ exportId }),
  'exports.reveal': () => ({ exportId }),
  'exports.trials': () => ({ runId: runA }),
  'exports.predict': () => ({ trialId, imageBase64: pngBase64 }),
  'backbones.list': () => ({}),
  'backbones.import': () => ({ path: TINY_DIR }),
  'backbones.importRun': () => ({ runId: runA }),
  'backbones.rename': () => ({ backboneId, name: 'Tiny, renamed' }),
  'backbones.delete': () => ({ backboneId: 'tiny-backbone-2' }),
  'backbones.catalogue': () => ({}),
  // the built-in entries have no pinned checksums: refused (conflict), see the backbone test below
  'backbones.download': () => ({ catalogueId: 'mobilenet-v2-035-224', consent: true }),
  'backbones.downloadStatus': () => ({ jobId: 'no-such-download' }),
  'backbones.cancelDownload': () => ({ jobId: 'no-such-download' }),
}

/** Methods whose second call cannot answer like the first (they create or delete). */
const CHANGING: Method[] = [
  'runs.start',
  'runs.cancel',
  'runs.pause',
  'runs.resume',
  'datasets.import',
  'datasets.delete',
  'spaces.save',
  'spaces.delete',
  'runs.delete',
  'exports.create',
  'backbones.import',
  'backbones.importRun',
  'backbones.delete',
  'backbones.download',
  'backbones.downloadStatus',
  'backbones.cancelDownload',
]
let pngBase64 = ''
let exportId = ''
let bundledId = ''
let savedSpaceId = ''
const quickMlpDef = () => ctx.db.spaces.require(presetSpaceId('quick-mlp')).def

describe('contract: IPC and HTTP serve every method alike', () => {
  it('covers exactly the methods of the contract', () => {
    expect(Object.keys(validRequests).sort()).toEqual([...METHODS].sort())
    expect(METHODS).toEqual(Object.keys(api))
  })

  it('starts real runs through both transports and cancels one', async () => {
    const [a, b] = await both('runs.start', validRequests['runs.start']())
    expect(a.ok && b.ok).toBe(true)
    runA = (a as { data: { id: string } }).data.id
    runB = (b as { data: { id: string } }).data.id
    const [c1, c2] = await both('runs.cancel', validRequests['runs.cancel']())
    expect(c1.ok && c2.ok).toBe(true)
    const finalA = await ctx.services.whenFinished(runA)
    const finalB = await ctx.services.whenFinished(runB)
    expect(finalA.status).toBe('completed')
    expect(finalB.status).toBe('cancelled')
    trialId = ctx.db.trials.listByRun(runA)[0]!.id
  })

  it('pauses a run over IPC and resumes it over HTTP; a second resume is a conflict', async () => {
    const started = await viaIpc('runs.start', { ...config, maxTrials: 2 })
    runC = (started as { data: { id: string } }).data.id
    const paused = await viaIpc('runs.pause', validRequests['runs.pause']())
    expect(paused).toEqual({ ok: true, data: expect.objectContaining({ id: runC, status: 'paused' }) })
    const resumed = await viaHttp('runs.resume', validRequests['runs.resume']())
    expect(resumed).toEqual({ ok: true, data: expect.objectContaining({ id: runC, status: 'queued' }) })
    const again = await viaIpc('runs.resume', validRequests['runs.resume']())
    expect(again).toEqual({ ok: false, error: expect.objectContaining({ code: 'conflict' }) })
    const final = await ctx.services.whenFinished(runC)
    expect(final).toMatchObject({ status: 'completed', trialsCompleted: 2 })
  })

  it('starts imports through both transports; the same content gives the same dataset', async () => {
    const [a, b] = await both('datasets.import', validRequests['datasets.import']())
    expect(a.ok && b.ok).toBe(true)
    const jobs = [a, b].map((r) => (r as { data: { jobId: string } }).data.jobId)
    expect(jobs[0]).not.toBe(jobs[1])
    const done = await Promise.all(jobs.map((id) => ctx.services.whenImported(id)))
    expect(done.map((j) => [j.state, j.datasetId, j.fromCache])).toEqual([
      ['done', importedId, true],
      ['done', importedId, true],
    ])
  })

  it('refuses to delete the bundled sample on both transports', async () => {
    const [a, b] = await both('datasets.delete', validRequests['datasets.delete']())
    expect(a).toEqual({ ok: false, error: expect.objectContaining({ code: 'conflict' }) })
    expect(b).toEqual(a)
  })

  it('saves a space, then deletes it and a finished run, through both transports', async () => {
    const [a, b] = await both('spaces.save', validRequests['spaces.save']())
    expect(a.ok && b.ok).toBe(true)
    savedSpaceId = (a as { data: { id: string } }).data.id
    // the first delete (IPC) deletes, the second (HTTP) finds nothing left
    const d1 = await viaIpc('spaces.delete', validRequests['spaces.delete']())
    const d2 = await viaHttp('spaces.delete', validRequests['spaces.delete']())
    expect(d1).toEqual({ ok: true, data: { deleted: true, id: savedSpaceId } })
    expect(d2).toEqual({ ok: false, error: expect.objectContaining({ code: 'not_found' }) })
    const r1 = await viaHttp('runs.delete', validRequests['runs.delete']())
    const r2 = await viaIpc('runs.delete', validRequests['runs.delete']())
    expect(r1).toEqual({ ok: true, data: { deleted: true, id: runB } })
    expect(r2).toEqual({ ok: false, error: expect.objectContaining({ code: 'not_found' }) })
  })

  it('exports the best trial through both transports, verified in onnxruntime', async () => {
    const [a, b] = await both('exports.create', validRequests['exports.create']())
    for (const r of [a, b]) {
      expect(r.ok, JSON.stringify(r)).toBe(true)
      expect((r as { data: { status: string; trialId: string } }).data).toMatchObject({
        status: 'verified',
        trialId,
      })
    }
    exportId = (a as { data: { id: string } }).data.id
    const png = await sharp({ create: { width: 30, height: 20, channels: 3, background: '#808080' } })
      .png()
      .toBuffer()
    pngBase64 = png.toString('base64')
  })

  it("keeps a model of mine and a run's final model as backbones through both transports", async () => {
    await writeTinyBackbone(TINY_DIR)
    const [a, b] = await both('backbones.import', validRequests['backbones.import']())
    expect([a, b].map((r) => r.ok && (r.data as { id: string }).id)).toEqual([
      'tiny-backbone',
      'tiny-backbone-2',
    ])
    backboneId = 'tiny-backbone'
    const [r1, r2] = await both('backbones.importRun', validRequests['backbones.importRun']())
    for (const r of [r1, r2]) {
      expect(r.ok, JSON.stringify(r)).toBe(true)
      expect((r as { data: object }).data).toMatchObject({ source: 'run', inputShape: [28, 28, 1] })
    }
    const d1 = await viaIpc('backbones.delete', validRequests['backbones.delete']())
    const d2 = await viaHttp('backbones.delete', validRequests['backbones.delete']())
    expect(d1).toEqual({ ok: true, data: { deleted: true, id: 'tiny-backbone-2' } })
    expect(d2).toEqual({ ok: false, error: expect.objectContaining({ code: 'not_found' }) })
    const [g1, g2] = await both('backbones.download', validRequests['backbones.download']())
    expect(g1).toEqual({ ok: false, error: expect.objectContaining({ code: 'conflict' }) })
    expect(g2).toEqual(g1)
  })

  it('search.plan answers ok on both, each counted at the speed it timed', async () => {
    const [a, b] = await both('search.plan', validRequests['search.plan']())
    for (const r of [a, b]) {
      expect(r.ok, JSON.stringify(r)).toBe(true)
      const plan = (r as { data: { minutes: number; speed?: { factor: number } } }).data
      expect(plan.minutes).toBe(5)
      // each plan times this machine anew, so the two may differ by the load of their moments
      expect(plan.speed?.factor).toBeGreaterThan(0)
    }
  })

  it.each(METHODS.filter((m) => !CHANGING.includes(m) && m !== 'search.plan'))(
    '%s answers ok and the same on both',
    async (method) => {
      const [a, b] = await both(method, validRequests[method]())
      expect(a.ok, JSON.stringify(a)).toBe(true)
      // Finished runs no longer change, so both transports must return identical data.
      expect(b).toEqual(a)
    },
  )

  it.each([
    ['runs.get', { runId: 'no-such-run' }],
    ['runs.cancel', { runId: 'no-such-run' }],
    ['trials.list', { runId: 'no-such-run' }],
    ['trials.epochs', { trialId: 'no-such-trial' }],
    ['datasets.get', { datasetId: 'no-such-dataset' }],
    ['datasets.importStatus', { jobId: 'no-such-job' }],
    ['datasets.cancelImport', { jobId: 'no-such-job' }],
    ['datasets.preview', { datasetId: 'no-such-dataset' }],
    ['backbones.rename', { backboneId: 'no-such-backbone', name: 'x' }],
    ['backbones.downloadStatus', { jobId: 'no-such-download' }],
    ['backbones.cancelDownload', { jobId: 'no-such-download' }],
  ] as const)('%s of an unknown id is not_found on both', async (method, request) => {
    const [a, b] = await both(method, request)
    expect(a).toEqual({ ok: false, error: expect.objectContaining({ code: 'not_found' }) })
    expect(b).toEqual(a)
  })

  it.each(METHODS)('%s rejects a malformed payload with bad_request on both', async (method) => {
    const [a] = await both(method, { definitelyNotAField: 1 })
    expect(a).toEqual({ ok: false, error: expect.objectContaining({ code: 'bad_request' }) })
  })

  it.each(METHODS)(
    '%s refuses an unknown field next to a valid request (every schema is strict)',
    async (method) => {
      const valid = validRequests[method]()
      const request = { ...(valid as object), definitelyNotAField: 1 }
      const before = ctx.db.runs.list().length
      const [a] = await both(method, request)
      expect(a).toEqual({
        ok: false,
        error: expect.objectContaining({
          code: 'bad_request',
          message: expect.stringContaining('definitelyNotAField'),
        }),
      })
      expect(ctx.db.runs.list()).toHaveLength(before)
    },
  )
})
