import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import * as engine from '../../../src/engine'
import { startWebServer, type WebServer } from '../../../src/main/server'
import type { Result } from '../../../src/shared'
import { httpRequest, postApi } from '../../helpers/http'
import { makeServices } from '../../helpers/services'
import { makeTempDir } from '../../helpers/temp-dir'
import { TINY_CUT_POINTS, writeTinyBackbone, type TinyBackboneFiles } from '../../helpers/tiny-backbone'

/**
 * "Use a model of mine" in web mode: the browser uploads model.json and its .bin files (the page's
 * uploadForImport does these PUTs), then imports the upload's folder.
 */
let ctx: Awaited<ReturnType<typeof makeServices>>
let server: WebServer
let model: TinyBackboneFiles
const base = makeTempDir('nas-studio-backbone-web-')

beforeAll(async () => {
  model = await writeTinyBackbone(join(base.dir, 'source'))
  ctx = await makeServices(engine)
  server = await startWebServer({
    handlers: ctx.services.handlers,
    events: ctx.services.events,
    port: 0,
    rendererDir: join(base.dir, 'renderer'),
    uploadsDir: join(ctx.dataDir, 'uploads'),
  })
})
afterAll(async () => {
  await server?.close()
  await ctx?.dispose()
  base.cleanup()
})

/** Uploads the model's files (all but `skip`) as loose files, as a browser would; answers the upload root. */
async function upload(uploadId: string, skip?: string): Promise<string> {
  let root = ''
  for (const f of model.files.filter((x) => x.path !== skip)) {
    const res = await httpRequest(server.port, {
      method: 'PUT',
      path: `/upload/${uploadId}/${f.path}`,
      headers: { Authorization: `Bearer ${server.token}` },
      body: f.bytes,
    })
    expect(res.status).toBe(200)
    root = (JSON.parse(res.body) as { data: { root: string } }).data.root
  }
  return root
}

const call = async (method: string, request: unknown) =>
  (await postApi(server.port, server.token, method, request)).json as Result<unknown>

describe('a model of mine, uploaded from a browser', () => {
  it('imports the uploaded files, named after the model (not the upload id)', async () => {
    const root = await upload('up-abcdefghij012345')
    const res = await call('backbones.import', { path: root })
    expect(res.ok, JSON.stringify(res)).toBe(true)
    expect((res as { data: object }).data).toMatchObject({
      id: 'tiny-backbone',
      name: 'tiny_backbone',
      source: 'file',
      origin: 'Your model',
      inputShape: [8, 8, 3],
      cutPoints: TINY_CUT_POINTS,
    })
  })

  it('refuses an upload without all its weight files, naming the file and no server folder', async () => {
    const root = await upload('up-bcdefghij0123456', 'group1-shard2of2.bin')
    const res = await call('backbones.import', { path: root })
    expect(res).toEqual({ ok: false, error: expect.objectContaining({ code: 'bad_request' }) })
    const message = (res as { error: { message: string } }).error.message
    expect(message).toMatch(/"group1-shard2of2\.bin" that model\.json names is missing/)
    expect(message).not.toContain(ctx.dataDir)
    expect(message).not.toContain('up-bcdefghij0123456')
    expect(await call('backbones.list', {})).toEqual({
      ok: true,
      data: [expect.objectContaining({ id: 'tiny-backbone' })],
    })
  })
})
