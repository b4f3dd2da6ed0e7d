import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs'
import { connect } from 'node:net'
import { networkInterfaces } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { WebSocket } from 'ws'
import { startWebServer, type WebServer } from '../../../src/main/server'
import { lookupStaticFile, resolveStaticFile } from '../../../src/main/server/static'
import { tokenMatches } from '../../../src/main/server/auth'
import {
  WEB_MAX_BODY_BYTES,
  WEB_EVENTS_READY,
  WEB_URL_PATTERN,
  webBanner,
  type EventMessage,
} from '../../../src/shared'
import { createEventHub } from '../../../src/main/services/event-hub'
import { createFakeEngine } from '../../helpers/fake-engine'
import { httpRequest, postApi } from '../../helpers/http'
import { makeServices } from '../../helpers/services'
import { makeTempDir } from '../../helpers/temp-dir'

let ctx: Awaited<ReturnType<typeof makeServices>>
let server: WebServer
const hub = createEventHub()
const base = makeTempDir('nas-studio-ui-')
const ui = { dir: join(base.dir, 'renderer') }

beforeAll(async () => {
  mkdirSync(join(ui.dir, 'assets'), { recursive: true })
  writeFileSync(join(ui.dir, 'index.html'), '<!doctype html><title>NAS Studio</title>')
  writeFileSync(join(ui.dir, 'assets', 'app.js'), 'console.log(1)')
  writeFileSync(join(ui.dir, '..', 'secret.txt'), 'secret')
  // Links inside the build that lead out of it: to a file and to a folder.
  symlinkSync(join(ui.dir, '..', 'secret.txt'), join(ui.dir, 'assets', 'leak.txt'))
  symlinkSync(join(ui.dir, '..'), join(ui.dir, 'up'))
  ctx = await makeServices(createFakeEngine())
  server = await startWebServer({
    handlers: ctx.services.handlers,
    events: hub.subscribe,
    port: 0,
    rendererDir: ui.dir,
  })
})
afterAll(async () => {
  await server.close()
  await ctx.dispose()
  base.cleanup()
})

const auth = () => ({ Authorization: `Bearer ${server.token}` })

describe('web server', () => {
  it('listens on 127.0.0.1 with a URL the banner pattern recognises', () => {
    expect(server.url).toBe(`http://127.0.0.1:${server.port}/?token=${server.token}`)
    expect(WEB_URL_PATTERN.exec(webBanner(server.url))?.[1]).toBe(server.url)
    expect(server.token.length).toBeGreaterThanOrEqual(43)
  })

  it('answers 401 without a token and with a wrong token', async () => {
    const none = await httpRequest(server.port, { method: 'POST', path: '/api/runs.list', body: '{}' })
    expect(none.status).toBe(401)
    expect(JSON.parse(none.body)).toEqual({
      ok: false,
      error: expect.objectContaining({ code: 'unauthorized' }),
    })
    const wrong = await postApi(server.port, `${server.token}x`, 'runs.list', {})
    expect(wrong.status).toBe(401)
    expect(tokenMatches('abc', 'abd')).toBe(false)
    expect(tokenMatches('abc', '')).toBe(false)
  })

  it('answers a Result for the token in the Authorization header only, never from a cookie or the URL', async () => {
    const viaHeader = await postApi(server.port, server.token, 'spaces.list', {})
    expect(viaHeader.status).toBe(200)
    expect(viaHeader.json).toEqual({ ok: true, data: expect.any(Array) })
    // A cookie reaches every server on 127.0.0.1 whatever its port, so it must never be what authorises.
    const viaCookie = await httpRequest(server.port, {
      method: 'POST',
      path: '/api/runs.list',
      headers: { Cookie: `nas_token=${server.token}` },
      body: '{}',
    })
    expect(viaCookie.status).toBe(401)
    const viaQuery = await httpRequest(server.port, {
      method: 'POST',
      path: `/api/runs.list?token=${server.token}`,
      body: '',
    })
    expect(viaQuery.status).toBe(401)
    // Opening the printed URL sets no cookie at all.
    const page = await httpRequest(server.port, { path: `/?token=${server.token}` })
    expect(page.status).toBe(200)
    expect(page.headers['set-cookie']).toBeUndefined()
  })

  it('validates payloads and methods', async () => {
    const bad = await postApi(server.port, server.token, 'runs.get', { runId: 1 })
    expect(bad.status).toBe(200)
    expect(bad.json).toEqual({
      ok: false,
      error: expect.objectContaining({ code: 'bad_request', message: expect.stringContaining('runId') }),
    })
    const unknown = await postApi(server.port, server.token, 'nope', {})
    expect(unknown.status).toBe(404)
    const notJson = await httpRequest(server.port, {
      method: 'POST',
      path: '/api/runs.list',
      headers: auth(),
      body: '{',
    })
    expect(notJson.status).toBe(400)
    const get = await httpRequest(server.port, { path: '/api/runs.list', headers: auth() })
    expect(get.status).toBe(405)
  })

  it('answers 403 for a foreign Host or Origin (DNS rebinding)', async () => {
    const host = await httpRequest(server.port, {
      method: 'POST',
      path: '/api/runs.list',
      headers: { ...auth(), Host: `evil.example:${server.port}` },
      body: '{}',
    })
    expect(host.status).toBe(403)
    const origin = await httpRequest(server.port, {
      method: 'POST',
      path: '/api/runs.list',
      headers: { ...auth(), Origin: 'http://evil.example' },
      body: '{}',
    })
    expect(origin.status).toBe(403)
    const localhost = await httpRequest(server.port, {
      method: 'POST',
      path: '/api/runs.list',
      headers: { ...auth(), Host: `localhost:${server.port}`, Origin: `http://localhost:${server.port}` },
      body: '{}',
    })
    expect(localhost.status).toBe(200)
  })

  it('answers 403 for a second Host header and for an absolute-form request, even with the token', async () => {
    const raw = (head: string): Promise<string> =>
      new Promise((resolve) => {
        let out = ''
        const socket = connect({ host: '127.0.0.1', port: server.port }, () => socket.write(head))
        socket.on('data', (c: Buffer) => (out += c.toString('latin1')))
        socket.on('close', () => resolve(out))
        socket.on('error', () => resolve(out))
      })
    const ours = `127.0.0.1:${server.port}`
    const lines = (target: string, hosts: string[]) =>
      [
        `POST ${target} HTTP/1.1`,
        ...hosts.map((h) => `Host: ${h}`),
        `Authorization: Bearer ${server.token}`,
        'Content-Length: 2',
        'Connection: close',
        '',
        '{}',
      ].join('\r\n')
    expect(await raw(lines('/api/runs.list', [ours]))).toMatch(/^HTTP\/1\.1 200/)
    for (const head of [
      lines('/api/runs.list', [ours, 'evil.example']),
      lines('/api/runs.list', [ours, ours]),
      lines('http://evil.example/api/runs.list', [ours]),
      lines(`http://${ours}/api/runs.list`, [ours]),
    ]) {
      const answer = await raw(head)
      expect(answer, head).toMatch(/^HTTP\/1\.1 403/)
      expect(answer).not.toContain('"ok":true')
    }
  })

  it('answers 413 for a body over the limit', async () => {
    const big = 'x'.repeat(WEB_MAX_BODY_BYTES + 10)
    const res = await httpRequest(server.port, {
      method: 'POST',
      path: '/api/runs.list',
      headers: auth(),
      body: JSON.stringify({ big }),
    })
    expect(res.status).toBe(413)
    const chunked = await httpRequest(server.port, {
      method: 'POST',
      path: '/api/runs.list',
      headers: { ...auth(), 'Transfer-Encoding': 'chunked' },
      body: JSON.stringify({ big }),
    })
    expect(chunked.status).toBe(413)
  })

  it('authenticates the WebSocket in its first message: no events before, closed for a wrong token or none', async () => {
    const open = async (): Promise<WebSocket> => {
      const ws = new WebSocket(`ws://127.0.0.1:${server.port}/events`)
      await new Promise((resolve, reject) => {
        ws.once('open', resolve)
        ws.once('error', reject)
      })
      return ws
    }
    const wrong = await open()
    const wrongClosed = new Promise<[number, string]>((resolve) =>
      wrong.once('close', (code, reason) => resolve([code, String(reason)])),
    )
    wrong.send(JSON.stringify({ token: `${server.token}x` }))
    expect(await wrongClosed).toEqual([1008, expect.stringMatching(/wrong token/)])
    // A socket that has not sent its token yet receives no events.
    const waiting = await open()
    const waitingGot: string[] = []
    waiting.on('message', (d) => waitingGot.push(String(d)))
    const ws = await open()
    const ready = new Promise<string>((resolve) => ws.once('message', (d) => resolve(String(d))))
    ws.send(JSON.stringify({ token: server.token }))
    expect(await ready).toBe(WEB_EVENTS_READY)
    const received = new Promise<EventMessage>((resolve) =>
      ws.once('message', (data) => resolve(JSON.parse(String(data)) as EventMessage)),
    )
    const msg: EventMessage = {
      event: 'trial.epoch',
      payload: {
        trialId: 't',
        runId: 'r',
        epoch: 1,
        loss: 1,
        accuracy: 0.5,
        valLoss: 1,
        valAccuracy: 0.5,
        timeMs: 3,
      },
    }
    hub.publish(msg)
    expect(await received).toEqual(msg)
    expect(waitingGot).toEqual([])
    ws.close()
    waiting.close()
  })

  it('serves the UI with content types, falls back to index.html, and blocks traversal', async () => {
    const page = await httpRequest(server.port, { path: '/' })
    expect(page.status).toBe(200)
    expect(page.headers['content-type']).toMatch(/text\/html/)
    expect(page.headers['content-security-policy']).toContain("default-src 'self'")
    const js = await httpRequest(server.port, { path: '/assets/app.js', headers: auth() })
    expect(js.headers['content-type']).toMatch(/javascript/)
    expect(js.body).toBe('console.log(1)')
    const route = await httpRequest(server.port, { path: '/history/123', headers: auth() })
    expect(route.body).toContain('<title>NAS Studio</title>')
    for (const path of [
      '/../secret.txt',
      '/%2e%2e/secret.txt',
      '/assets/..%2f..%2fsecret.txt',
      '/%2e%2e%5csecret.txt',
    ]) {
      const res = await httpRequest(server.port, { path, headers: auth() })
      expect(res.body).not.toContain('secret')
    }
    expect(resolveStaticFile(ui.dir, '/../secret.txt')).toBeNull()
    expect(resolveStaticFile(ui.dir, '/%00')).toBeNull()
  })

  it('answers 403 for paths that leave the UI folder: encoded ../, backslashes, NUL, absolute, symlinks', async () => {
    for (const path of [
      '/assets/..%2f..%2fsecret.txt',
      '/%2e%2e%2fsecret.txt',
      '/..%5csecret.txt',
      '/assets/app.js%00.png',
      '/%2fetc%2fpasswd/..%2f..%2f..%2f..%2fetc%2fpasswd',
      '/assets/leak.txt',
      '/up/secret.txt',
      '/%E0%A4%A',
    ]) {
      const res = await httpRequest(server.port, { path, headers: auth() })
      expect(res.status, path).toBe(403)
      expect(res.body, path).toContain('not allowed')
      expect(res.body, path).not.toContain('secret')
    }
    expect(lookupStaticFile(ui.dir, '/assets/leak.txt')).toEqual({ kind: 'forbidden' })
    expect(lookupStaticFile(ui.dir, '/assets/app.js').kind).toBe('file')
    expect(lookupStaticFile(ui.dir, '/assets/none.js')).toEqual({ kind: 'missing' })
  })

  it('is bound to 127.0.0.1 only: another address of this machine is refused', async () => {
    expect(server.host).toBe('127.0.0.1')
    const external = Object.values(networkInterfaces())
      .flat()
      .find((i) => i && i.family === 'IPv4' && !i.internal)
    // A machine with no other interface has nothing else to refuse; the bound address above still holds.
    if (!external) return
    const outcome = await new Promise<string>((resolve) => {
      const socket = connect({ host: external.address, port: server.port })
      socket.once('connect', () => {
        socket.destroy()
        resolve('connected')
      })
      socket.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? 'error'))
    })
    expect(outcome).toBe('ECONNREFUSED')
  })

  it('closes a WebSocket that sends a message over the size limit and keeps serving', async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${server.port}/events`, { headers: auth() })
    await new Promise((resolve, reject) => {
      ws.once('open', resolve)
      ws.once('error', reject)
    })
    const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)))
    ws.on('error', () => undefined)
    ws.send('x'.repeat(64 * 1024))
    expect(await closed).toBe(1009)
    const after = await postApi(server.port, server.token, 'runs.list', {})
    expect(after.json).toEqual({ ok: true, data: [] })
  })
})
