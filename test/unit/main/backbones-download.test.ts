import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import * as engine from '../../../src/engine'
import { silentLogger } from '../../../src/engine/ports'
import { BUILTIN_CATALOGUE, createBackboneService, type CatalogueItem } from '../../../src/main/backbones'
import { api, type BackboneDownloadJob, type EventMessage } from '../../../src/shared'
import { makeTempDir } from '../../helpers/temp-dir'
import { TINY_CUT_POINTS, writeTinyBackbone, type TinyBackboneFiles } from '../../helpers/tiny-backbone'

/**
 * Catalogue downloads against a real HTTP server on 127.0.0.1 serving a small TF.js Layers model in the
 * catalogue's format; never the internet.
 */
const tmp = makeTempDir('nas-studio-backbone-dl-')
let model: TinyBackboneFiles

/** How the test server behaves; reset after each test. */
const behaviour = {
  ranges: true,
  /** Path -> bytes sent before the connection is cut, for the next `times` requests of that path. */
  cut: new Map<string, { after: number; times: number }>(),
  /** Path -> bytes served instead of the real ones. */
  replace: new Map<string, Buffer>(),
  /** Path -> bytes sent before the server stalls (sends nothing more, keeps the connection open). */
  stall: new Map<string, number>(),
}
const requests: Array<{ path: string; range: string | null; status: number }> = []
let server: Server
let base = ''

beforeAll(async () => {
  model = await writeTinyBackbone(join(tmp.dir, 'source'))
  server = createServer((req, res) => {
    const path = (req.url ?? '').replace(/^\/models\/tiny\//, '')
    const real = model.files.find((f) => f.path === path)?.bytes
    const bytes = behaviour.replace.get(path) ?? real
    const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? '')
    if (!bytes) {
      requests.push({ path, range: req.headers.range ?? null, status: 404 })
      res.writeHead(404).end()
      return
    }
    const start = behaviour.ranges && range ? Number(range[1]) : 0
    const status = start > 0 ? 206 : 200
    requests.push({ path, range: req.headers.range ?? null, status })
    res.writeHead(status, {
      'Content-Length': String(bytes.length - start),
      ...(status === 206 ? { 'Content-Range': `bytes ${start}-${bytes.length - 1}/${bytes.length}` } : {}),
      ...(behaviour.ranges ? { 'Accept-Ranges': 'bytes' } : {}),
    })
    const stall = behaviour.stall.get(path)
    if (stall !== undefined) {
      res.write(bytes.subarray(start, start + stall))
      return
    }
    const cut = behaviour.cut.get(path)
    if (cut && cut.times > 0) {
      cut.times -= 1
      // the server goes away mid-file: part of the body, then the connection is destroyed
      res.write(bytes.subarray(start, start + cut.after), () => res.socket?.destroy())
      return
    }
    res.end(bytes.subarray(start))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/models/tiny`
})
afterEach(() => {
  behaviour.ranges = true
  behaviour.cut.clear()
  behaviour.replace.clear()
  behaviour.stall.clear()
  requests.length = 0
})
afterAll(async () => {
  server.closeAllConnections()
  await new Promise((resolve) => server.close(resolve))
  tmp.cleanup()
})

/** The tiny model as a catalogue entry with its real (pinned) checksums. */
function entry(id: string): CatalogueItem {
  return {
    id,
    name: `Tiny ${id}`,
    description: 'A small model served by the test',
    inputShape: [8, 8, 3],
    normalisation: { scale: 1 / 127.5, offset: -1 },
    files: model.files.map((f) => ({
      path: f.path,
      url: `${base}/${f.path}`,
      sha256: f.sha256,
      bytes: f.bytes.length,
    })),
    missing: null,
  }
}

let dataCount = 0
/** A backbone service over a fresh (or the given) data folder, collecting its download events. */
function service(catalogue: CatalogueItem[], dataDir = join(tmp.dir, `data-${++dataCount}`)) {
  const events: BackboneDownloadJob[] = []
  const waiting: Array<{ until: (j: BackboneDownloadJob) => boolean; resolve: () => void }> = []
  /** Resolves at the first event (from now) that satisfies `until`. */
  const eventWhere = (until: (j: BackboneDownloadJob) => boolean): Promise<void> =>
    new Promise((resolve) => waiting.push({ until, resolve }))
  const svc = createBackboneService({
    dataDir,
    engine,
    publish: (m: EventMessage) => {
      if (m.event !== 'backbone.download') return
      events.push(m.payload)
      for (const w of waiting.filter((x) => x.until(m.payload))) w.resolve()
    },
    exportRunModel: () => Promise.reject(new Error('no runs here')),
    catalogue,
    nowIso: () => new Date().toISOString(),
    logger: silentLogger,
  })
  return { svc, events, dataDir, eventWhere }
}

async function download(svc: ReturnType<typeof service>['svc'], catalogueId: string) {
  const job = await svc.handlers['backbones.download']({ catalogueId, consent: true })
  return svc.whenDownloaded(job.jobId)
}

const totalBytes = () => model.files.reduce((n, f) => n + f.bytes.length, 0)
const shard = () => model.files[1]!

/** Everything under <dataDir>/backbones but empty work folders. */
function leftFiles(dataDir: string): string[] {
  const root = join(dataDir, 'backbones')
  if (!existsSync(root)) return []
  return (readdirSync(root, { recursive: true }) as string[]).filter((p) => statSync(join(root, p)).isFile())
}

describe('catalogue downloads', () => {
  it('downloads with progress events, checks every file and installs the backbone', async () => {
    const { svc, events, dataDir } = service([entry('tiny')])
    const done = await download(svc, 'tiny')
    expect(done).toMatchObject({
      state: 'done',
      backboneId: 'tiny',
      error: null,
      receivedBytes: totalBytes(),
    })
    // progress on the way: the first event at 0, some in between, the last complete
    expect(events[0]).toMatchObject({ state: 'downloading', receivedBytes: 0, totalBytes: totalBytes() })
    expect(events.some((e) => e.receivedBytes > 0 && e.receivedBytes < totalBytes())).toBe(true)
    expect(events.at(-1)).toMatchObject({ state: 'done' })
    const info = svc.store.require('tiny')
    expect(info).toMatchObject({ source: 'catalogue', inputShape: [8, 8, 3], cutPoints: TINY_CUT_POINTS })
    expect(info.files).toEqual(
      model.files.map((f) => ({ path: f.path, sha256: f.sha256, bytes: f.bytes.length })),
    )
    for (const f of model.files)
      expect(readFileSync(join(svc.store.dirOf('tiny'), f.path)).equals(f.bytes)).toBe(true)
    expect((await svc.handlers['backbones.catalogue']({}))[0]).toMatchObject({
      installedId: 'tiny',
      sizeBytes: totalBytes(),
      source: base.replace(/^http:\/\/|\/models\/tiny$/g, ''),
    })
    expect(leftFiles(dataDir).filter((p) => !p.startsWith('tiny/'))).toEqual([])
    await svc.close()
  })

  it('refuses a file whose bytes do not match the pinned checksum and keeps nothing', async () => {
    const tampered = Buffer.from(shard().bytes)
    tampered[0] = tampered[0]! ^ 0xff
    behaviour.replace.set(shard().path, tampered)
    const { svc, dataDir } = service([entry('tiny')])
    const failed = await download(svc, 'tiny')
    expect(failed.state).toBe('failed')
    expect(failed.error).toMatch(`${shard().path} did not match its pinned checksum`)
    expect(failed.error).toMatch(/Nothing was kept\.$/)
    expect(failed.backboneId).toBeNull()
    expect(await svc.handlers['backbones.list']({})).toEqual([])
    expect(leftFiles(dataDir)).toEqual([])
    await svc.close()
  })

  it('resumes a file cut off mid-way with an HTTP Range request, ending with the right bytes', async () => {
    const half = Math.floor(shard().bytes.length / 2)
    behaviour.cut.set(shard().path, { after: half, times: 1 })
    const { svc } = service([entry('tiny')])
    expect(await download(svc, 'tiny')).toMatchObject({ state: 'done' })
    const tries = requests.filter((r) => r.path === shard().path)
    expect(tries).toEqual([
      { path: shard().path, range: null, status: 200 },
      { path: shard().path, range: `bytes=${half}-`, status: 206 },
    ])
    expect(readFileSync(join(svc.store.dirOf('tiny'), shard().path)).equals(shard().bytes)).toBe(true)
    await svc.close()
  })

  it('restarts a cut-off file from the start when the server ignores Range', async () => {
    behaviour.ranges = false
    behaviour.cut.set(shard().path, { after: 100, times: 1 })
    const { svc } = service([entry('tiny')])
    expect(await download(svc, 'tiny')).toMatchObject({ state: 'done' })
    expect(requests.filter((r) => r.path === shard().path).map((r) => r.status)).toEqual([200, 200])
    expect(readFileSync(join(svc.store.dirOf('tiny'), shard().path)).equals(shard().bytes)).toBe(true)
    await svc.close()
  })

  it('keeps what arrived when every try is cut off, and continues from it on the next download', async () => {
    behaviour.cut.set(shard().path, { after: 64, times: 3 })
    const { svc, dataDir } = service([entry('tiny')])
    const failed = await download(svc, 'tiny')
    expect(failed.state).toBe('failed')
    expect(failed.error).toMatch(
      /stopped: .*What arrived is kept; downloading it again continues where it stopped/,
    )
    expect(await svc.handlers['backbones.list']({})).toEqual([])
    expect(leftFiles(dataDir)).toContain(join('.downloads', 'tiny', `${shard().path}.part`))
    requests.length = 0
    expect(await download(svc, 'tiny')).toMatchObject({ state: 'done' })
    // model.json was verified the first time and is not fetched again; the first shard continues after
    // 3 × 64 bytes; the second, never started, comes whole
    expect(requests).toEqual([
      { path: shard().path, range: 'bytes=192-', status: 206 },
      { path: model.files[2]!.path, range: null, status: 200 },
    ])
    expect(readFileSync(join(svc.store.dirOf('tiny'), shard().path)).equals(shard().bytes)).toBe(true)
    await svc.close()
  })

  it('cancels a download on request, keeping what arrived for the next try', async () => {
    // half the shard: far more than one of the 50 progress steps, so its event is published
    const half = Math.floor(shard().bytes.length / 2)
    behaviour.stall.set(shard().path, half)
    const { svc, dataDir, eventWhere } = service([entry('tiny')])
    // model.json whole, then half the shard, then the server stalls
    const stalled = eventWhere((j) => j.receivedBytes === model.files[0]!.bytes.length + half)
    const job = await svc.handlers['backbones.download']({ catalogueId: 'tiny', consent: true })
    await stalled
    const ended = await svc.handlers['backbones.cancelDownload']({ jobId: job.jobId })
    expect(ended).toMatchObject({ state: 'cancelled', backboneId: null })
    expect(ended.error).toMatch(/cancelled; downloading it again continues where it stopped/)
    expect(await svc.handlers['backbones.list']({})).toEqual([])
    expect(statSync(join(dataDir, 'backbones', '.downloads', 'tiny', `${shard().path}.part`)).size).toBe(half)
    await svc.close()
  })

  it('works offline once downloaded: a new start finds it without asking the server', async () => {
    const first = service([entry('tiny')])
    await download(first.svc, 'tiny')
    await first.svc.close()
    const unreachable = {
      ...entry('tiny'),
      files: entry('tiny').files.map((f) => ({ ...f, url: 'http://127.0.0.1:9/gone' })),
    }
    requests.length = 0
    const again = service([unreachable], first.dataDir)
    expect((await again.svc.handlers['backbones.catalogue']({}))[0]!.installedId).toBe('tiny')
    expect(await download(again.svc, 'tiny')).toMatchObject({ state: 'done', backboneId: 'tiny' })
    expect(requests).toEqual([])
    const found = await engine.inspectBackbone(again.svc.store.dirOf('tiny'))
    expect(found.cutPoints).toEqual(TINY_CUT_POINTS)
    await again.svc.close()
  })

  it('asks for consent, and refuses the built-in entries whose checksums are not pinned', async () => {
    expect(api['backbones.download'].request.safeParse({ catalogueId: 'tiny' }).success).toBe(false)
    expect(api['backbones.download'].request.safeParse({ catalogueId: 'tiny', consent: false }).success).toBe(
      false,
    )
    const { svc } = service([...BUILTIN_CATALOGUE])
    const listed = await svc.handlers['backbones.catalogue']({})
    expect(listed.length).toBeGreaterThan(0)
    for (const e of listed) {
      expect(e).toMatchObject({ downloadable: false, installedId: null })
      expect(e.unavailableReason).toMatch(/no pinned checksums/)
    }
    await expect(
      svc.handlers['backbones.download']({ catalogueId: listed[0]!.id, consent: true }),
    ).rejects.toMatchObject({ code: 'conflict' })
    await svc.close()
  })
})
