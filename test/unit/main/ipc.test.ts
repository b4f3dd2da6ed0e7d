import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTrustedSenderCheck, forwardEvents, registerIpc } from '../../../src/main/ipc'
import { IPC_EVENT_CHANNEL, IPC_INVOKE_CHANNEL, type EventMessage, type Result } from '../../../src/shared'
import { createFakeEngine } from '../../helpers/fake-engine'
import { FakeIpcMain } from '../../helpers/fake-ipc'
import { makeServices } from '../../helpers/services'

const rendererDir = join('/opt', 'nas studio', 'out', 'renderer')
const appUrl = pathToFileURL(join(rendererDir, 'index.html')).href

let ctx: Awaited<ReturnType<typeof makeServices>>
const ipc = new FakeIpcMain()
let unregister: () => void

beforeAll(async () => {
  ctx = await makeServices(createFakeEngine())
  unregister = registerIpc(ipc, ctx.services.handlers, {
    isTrustedSender: createTrustedSenderCheck({ rendererDir }),
  })
})
afterAll(async () => {
  unregister()
  await ctx.dispose()
})

const call = (url: string | null, method: unknown, request: unknown) =>
  ipc.invoke(IPC_INVOKE_CHANNEL, url, method, request) as Promise<Result<unknown>>

describe('IPC gateway', () => {
  it('answers a valid call from the app page with a Result', async () => {
    const res = await call(`${appUrl}#/search`, 'spaces.list', {})
    expect(res.ok).toBe(true)
    expect((res as { data: unknown[] }).data.length).toBeGreaterThan(0)
  })

  it.each([
    ['another site', 'https://evil.example/'],
    ['another local file', pathToFileURL('/tmp/evil.html').href],
    ['a sibling of the renderer', pathToFileURL(join(rendererDir, 'other.html')).href],
    ['no frame', null],
  ])('rejects an unknown sender (%s)', async (_label, url) => {
    const res = await call(url, 'runs.list', {})
    expect(res).toEqual({ ok: false, error: expect.objectContaining({ code: 'unauthorized' }) })
  })

  it('trusts the dev server origin only when configured', () => {
    const check = createTrustedSenderCheck({ rendererDir, devServerUrl: 'http://localhost:5173/' })
    expect(check({ senderFrame: { url: 'http://localhost:5173/#/design' } })).toBe(true)
    expect(check({ senderFrame: { url: 'http://localhost:5174/' } })).toBe(false)
    expect(
      createTrustedSenderCheck({ rendererDir })({ senderFrame: { url: 'http://localhost:5173/' } }),
    ).toBe(false)
  })

  it('rejects an unknown method', async () => {
    for (const method of ['nope.nope', 'toString', 42]) {
      const res = await call(appUrl, method, {})
      expect(res).toEqual({ ok: false, error: expect.objectContaining({ code: 'not_found' }) })
    }
  })

  it('answers a payload that fails the schema with bad_request naming the field', async () => {
    const res = await call(appUrl, 'runs.get', { runId: 7 })
    expect(res.ok).toBe(false)
    if (res.ok) return
    expect(res.error.code).toBe('bad_request')
    expect(res.error.message).toContain('runId')
    const start = await call(appUrl, 'runs.start', { name: 'x' })
    expect(!start.ok && start.error.message).toMatch(/runs\.start: \w+/)
    const extra = await call(appUrl, 'runs.list', { sneaky: true })
    expect(!extra.ok && extra.error.code).toBe('bad_request')
  })

  it('turns handler errors into a Result instead of throwing', async () => {
    const res = await call(appUrl, 'runs.get', { runId: 'missing' })
    expect(res).toEqual({ ok: false, error: expect.objectContaining({ code: 'not_found' }) })
  })

  it('forwards events to the window until unsubscribed', () => {
    const sent: Array<[string, EventMessage]> = []
    let publish: ((m: EventMessage) => void) | null = null
    const stop = forwardEvents(
      (listener) => {
        publish = listener
        return () => {
          publish = null
        }
      },
      (channel, message) => sent.push([channel, message]),
    )
    const msg = {
      event: 'trial.epoch',
      payload: {
        trialId: 't',
        runId: 'r',
        epoch: 1,
        loss: 1,
        accuracy: 1,
        valLoss: 1,
        valAccuracy: 1,
        timeMs: 1,
      },
    } as const
    publish!(msg)
    expect(sent).toEqual([[IPC_EVENT_CHANNEL, msg]])
    stop()
    expect(publish).toBeNull()
  })
})
