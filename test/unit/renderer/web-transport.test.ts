import { describe, expect, it, vi } from 'vitest'
import { ApiError } from '@renderer/api'
import { clientFromTransport, createApiClient, takeWebToken } from '@renderer/api/api-client'
import { createWebTransport, type SocketLike } from '@renderer/api/web-transport'
import type { ConnectionState } from '@renderer/api'
import type { NasBridge } from '@shared/bridge'
import { WEB_EVENTS_READY } from '@shared/web-protocol'
import { makeRun } from './fixtures'

type FetchCall = { url: string; init: RequestInit }

function fakeFetch(reply: (call: FetchCall) => { status: number; body: unknown } | Error) {
  const calls: FetchCall[] = []
  const impl = vi.fn(async (url: string | URL | Request, init?: RequestInit) => {
    const call = { url: String(url), init: init ?? {} }
    calls.push(call)
    const r = reply(call)
    if (r instanceof Error) throw r
    const text = typeof r.body === 'string' ? r.body : JSON.stringify(r.body)
    return new Response(text, { status: r.status, headers: { 'Content-Type': 'application/json' } })
  })
  return { impl: impl as unknown as typeof fetch, calls }
}

const origin = 'http://127.0.0.1:5123'

describe('web transport', () => {
  it('POSTs /api/<method> with the bearer token and JSON body, and returns the data', async () => {
    const run = makeRun()
    const f = fakeFetch(() => ({ status: 200, body: { ok: true, data: run } }))
    const api = clientFromTransport(createWebTransport({ origin, token: 'tok_123', fetch: f.impl }))
    await expect(api.call('runs.get', { runId: 'run-1' })).resolves.toEqual(run)
    expect(f.calls).toHaveLength(1)
    const { url, init } = f.calls[0]!
    expect(url).toBe(`${origin}/api/runs.get`)
    expect(init.method).toBe('POST')
    expect((init.headers as Record<string, string>).Authorization).toBe('Bearer tok_123')
    expect(JSON.parse(init.body as string)).toEqual({ runId: 'run-1' })
  })

  it('throws an ApiError with the code and message of an ok:false envelope', async () => {
    const f = fakeFetch(() => ({
      status: 200,
      body: { ok: false, error: { code: 'not_found', message: 'Run "x" does not exist.' } },
    }))
    const api = clientFromTransport(createWebTransport({ origin, token: 't', fetch: f.impl }))
    const err = await api.call('runs.get', { runId: 'x' }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(ApiError)
    expect((err as ApiError).code).toBe('not_found')
    expect((err as ApiError).message).toBe('Run "x" does not exist.')
  })

  it('turns 401 into an unauthorized ApiError that says what to do', async () => {
    const f = fakeFetch(() => ({
      status: 401,
      body: { ok: false, error: { code: 'unauthorized', message: 'bad token' } },
    }))
    const api = clientFromTransport(createWebTransport({ origin, token: 'old', fetch: f.impl }))
    const err = (await api.call('runs.list', {}).catch((e: unknown) => e)) as ApiError
    expect(err.code).toBe('unauthorized')
    expect(err.message).toMatch(/nas-studio serve/)
  })

  it('reports an unreadable reply and an unreachable server as readable ApiErrors', async () => {
    const garbled = fakeFetch(() => ({ status: 500, body: '<html>oops' }))
    const a = clientFromTransport(createWebTransport({ origin, token: 't', fetch: garbled.impl }))
    const e1 = (await a.call('app.info', {}).catch((e: unknown) => e)) as ApiError
    expect(e1.code).toBe('internal')
    expect(e1.message).toContain('HTTP 500')

    const down = fakeFetch(() => new TypeError('Failed to fetch'))
    const b = clientFromTransport(createWebTransport({ origin, token: 't', fetch: down.impl }))
    const e2 = (await b.call('app.info', {}).catch((e: unknown) => e)) as ApiError
    expect(e2).toBeInstanceOf(ApiError)
    expect(e2.code).toBe('network')
    expect(e2.message).toContain('127.0.0.1:5123')
  })

  it('delivers events by name and reconnects with backoff after a drop', async () => {
    vi.useFakeTimers()
    try {
      const sockets: Array<SocketLike & { url: string }> = []
      const createSocket = (url: string) => {
        const s = {
          url,
          onopen: null,
          onclose: null,
          onerror: null,
          onmessage: null,
          send: vi.fn(),
          close: vi.fn(),
        }
        sockets.push(s)
        return s as SocketLike
      }
      const api = clientFromTransport(
        createWebTransport({ origin, token: 'a b', createSocket, initialBackoffMs: 100, maxBackoffMs: 1000 }),
      )
      const states: ConnectionState[] = []
      api.onConnection((s) => states.push(s))
      const got: string[] = []
      api.onEvent('run.updated', (run) => got.push(run.status))
      expect(sockets).toHaveLength(1)
      // The token is never in the URL: it is the socket's first message, and only the server's answer opens it.
      expect(sockets[0]!.url).toBe('ws://127.0.0.1:5123/events')

      sockets[0]!.onopen!({})
      expect(sockets[0]!.send).toHaveBeenCalledWith(JSON.stringify({ token: 'a b' }))
      expect(states).toEqual(['connecting'])
      sockets[0]!.onmessage!({ data: WEB_EVENTS_READY })
      sockets[0]!.onmessage!({
        data: JSON.stringify({ event: 'run.updated', payload: makeRun({ status: 'completed' }) }),
      })
      sockets[0]!.onmessage!({ data: JSON.stringify({ event: 'trial.epoch', payload: {} }) })
      sockets[0]!.onmessage!({ data: 'not json' })
      expect(got).toEqual(['completed'])

      sockets[0]!.onclose!({})
      expect(states).toEqual(['connecting', 'open', 'reconnecting'])
      vi.advanceTimersByTime(99)
      expect(sockets).toHaveLength(1)
      vi.advanceTimersByTime(1)
      expect(sockets).toHaveLength(2)
      sockets[1]!.onclose!({}) // still down: the next wait doubles
      vi.advanceTimersByTime(199)
      expect(sockets).toHaveLength(2)
      vi.advanceTimersByTime(1)
      expect(sockets).toHaveLength(3)
      sockets[2]!.onopen!({})
      sockets[2]!.onmessage!({ data: WEB_EVENTS_READY })
      expect(states.at(-1)).toBe('open')
      sockets[2]!.onmessage!({
        data: JSON.stringify({ event: 'run.updated', payload: makeRun({ status: 'failed' }) }),
      })
      expect(got).toEqual(['completed', 'failed'])

      api.close()
      expect(sockets[2]!.close).toHaveBeenCalled()
    } finally {
      vi.useRealTimers()
    }
  })
})

describe('token handling and transport choice', () => {
  function page(href: string) {
    const store = new Map<string, string>()
    const replaced: string[] = []
    return {
      replaced,
      location: { href },
      history: {
        state: null,
        replaceState: (_s: unknown, _t: string, url?: string | URL | null) => void replaced.push(String(url)),
      },
      sessionStorage: {
        getItem: (k: string) => store.get(k) ?? null,
        setItem: (k: string, v: string) => void store.set(k, v),
      },
    }
  }

  it('takes ?token= from the URL, keeps it for reloads and removes it from the address bar', () => {
    const p = page('http://127.0.0.1:5123/?token=abc_DEF-1&x=2#/runs/r1')
    expect(takeWebToken(p)).toBe('abc_DEF-1')
    expect(p.replaced).toEqual(['/?x=2#/runs/r1'])
    p.location.href = 'http://127.0.0.1:5123/?x=2#/runs/r1' // after a reload
    expect(takeWebToken(p)).toBe('abc_DEF-1')
  })

  it('uses window.nas (IPC) when present, web mode otherwise', async () => {
    const bridge = {
      invoke: vi.fn(async () => ({ ok: true as const, data: [] })),
      onEvent: vi.fn(() => () => {}),
    } as unknown as NasBridge & { invoke: ReturnType<typeof vi.fn> }
    const ipc = createApiClient({ bridge })
    expect(ipc.transport).toBe('ipc')
    await expect(ipc.call('runs.list', {})).resolves.toEqual([])
    expect(bridge.invoke).toHaveBeenCalledWith('runs.list', {})

    const f = fakeFetch(() => ({ status: 200, body: { ok: true, data: [] } }))
    const web = createApiClient({ bridge: null, page: page(`${origin}/?token=T1`), fetch: f.impl })
    expect(web.transport).toBe('web')
    await web.call('runs.list', {})
    expect(f.calls[0]!.url).toBe(`${origin}/api/runs.list`)
    expect((f.calls[0]!.init.headers as Record<string, string>).Authorization).toBe('Bearer T1')
  })
})
