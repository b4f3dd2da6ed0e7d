import { existsSync, readFileSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startWebServer, type WebServer } from '../../../src/main/server'
import { uploadTarget } from '../../../src/main/server/upload'
import { createEventHub } from '../../../src/main/services/event-hub'
import { createFakeEngine } from '../../helpers/fake-engine'
import { httpRequest } from '../../helpers/http'
import { makeServices } from '../../helpers/services'
import { makeTempDir } from '../../helpers/temp-dir'

/** Web-mode uploads: how a browser hands a chosen folder or file to the server before importing it. */
let ctx: Awaited<ReturnType<typeof makeServices>>
let server: WebServer
const hub = createEventHub()
const base = makeTempDir('nas-studio-upload-')
const uploads = join(base.dir, 'uploads')

const put = (path: string, body: string | Buffer, token: string | null = server.token) =>
  httpRequest(server.port, {
    method: 'PUT',
    path,
    headers: token === null ? {} : { Authorization: `Bearer ${token}` },
    body,
  })

beforeAll(async () => {
  ctx = await makeServices(createFakeEngine())
  server = await startWebServer({
    handlers: ctx.services.handlers,
    events: hub.subscribe,
    port: 0,
    rendererDir: join(base.dir, 'renderer'),
    uploadsDir: uploads,
  })
})
afterAll(async () => {
  await server?.close()
  await ctx?.dispose()
  base.cleanup()
})

describe('web-mode uploads', () => {
  it('stores a file of a folder under the upload id and answers with the upload root', async () => {
    const res = await put('/upload/abcdefgh1/shapes/circles/a%20b.png', Buffer.from([1, 2, 3, 4]))
    expect(res.status).toBe(200)
    const root = join(uploads, 'abcdefgh1')
    expect(JSON.parse(res.body)).toEqual({ ok: true, data: { root } })
    expect([...readFileSync(join(root, 'shapes', 'circles', 'a b.png'))]).toEqual([1, 2, 3, 4])
    // No temporary file is left behind.
    expect(readdirSync(join(root, 'shapes', 'circles'))).toEqual(['a b.png'])
  })

  it('requires the token like every other request', async () => {
    const res = await put('/upload/abcdefgh2/x.csv', 'a,b\n1,2\n', null)
    expect(res.status).toBe(401)
    expect(existsSync(join(uploads, 'abcdefgh2'))).toBe(false)
  })

  it.each([
    ['/upload/abcdefgh3/..%2F..%2Fescape.txt', 'not an acceptable file name'],
    // URL normalisation turns this into /upload/escape.txt, which is no valid upload id.
    ['/upload/abcdefgh3/a/../../escape.txt', 'Upload id "escape.txt" is not valid'],
    ['/upload/short/x.txt', 'Upload id "short" is not valid'],
    ['/upload/abcdefgh3/a%5Cb.txt', 'not an acceptable file name'],
    ['/upload/abcdefgh3/a%01b.txt', 'not an acceptable file name'],
    ['/upload/abcdefgh3/a%7Fb.txt', 'not an acceptable file name'],
    ['/upload/abcdefgh3/dir%7F/b.txt', 'not an acceptable file name'],
    ['/upload/abcdefgh3/a%C2%85b.txt', 'not an acceptable file name'],
    ['/upload/abcdefgh3/', 'not an acceptable file name'],
  ])('refuses %s', async (path, message) => {
    const res = await put(path, 'x')
    expect(res.status).toBe(400)
    expect(JSON.parse(res.body)).toMatchObject({ ok: false, error: { code: 'bad_request' } })
    expect(JSON.parse(res.body).error.message).toContain(message)
    expect(existsSync(join(base.dir, 'escape.txt'))).toBe(false)
    expect(existsSync(join(uploads, 'escape.txt'))).toBe(false)
  })

  it('refuses a file whose folder is an uploaded file, without naming any server path', async () => {
    expect((await put('/upload/abcdefgh6/a.png', 'png')).status).toBe(200)
    for (const path of ['/upload/abcdefgh6/a.png/b.png', '/upload/abcdefgh6/a.png/c/d.png']) {
      const res = await put(path, 'x')
      expect(res.status, path).toBe(400)
      const body = JSON.parse(res.body) as { ok: false; error: { code: string; message: string } }
      expect(body.error.code).toBe('bad_request')
      expect(body.error.message).toMatch(/same name/)
      expect(res.body).not.toContain(uploads)
      expect(res.body).not.toMatch(/EEXIST|ENOTDIR|mkdir|\/tmp\//)
    }
    expect(readFileSync(join(uploads, 'abcdefgh6', 'a.png'), 'utf8')).toBe('png')
  })

  it('answers other methods with 405', async () => {
    const res = await httpRequest(server.port, {
      path: '/upload/abcdefgh4/x.txt',
      headers: { Authorization: `Bearer ${server.token}` },
    })
    expect(res.status).toBe(405)
  })

  it('keeps every resolved target inside its upload folder', () => {
    const { root, file } = uploadTarget('/data/uploads', 'abcdefgh5', 'a/b/c.png')
    expect(root).toBe('/data/uploads/abcdefgh5')
    expect(file).toBe('/data/uploads/abcdefgh5/a/b/c.png')
    expect(() => uploadTarget('/data/uploads', 'abcdefgh5', '/etc/passwd')).toThrow(/not an acceptable/)
  })
})
