import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { flushPromises, mount } from '@vue/test-utils'
import { createPinia, setActivePinia } from 'pinia'
import { setApi } from '@renderer/api'
import type { ComputeSettings, QueueWorker, WorkersList } from '@shared/workers'
import WorkersPanel from '@renderer/components/workers/WorkersPanel.vue'
import QueueStatusBanner from '@renderer/components/workers/QueueStatusBanner.vue'
import { createFakeApi, type FakeApi } from './fake-api'

let api: FakeApi
let settings: ComputeSettings
let list: WorkersList

const worker = (over: Partial<QueueWorker>): QueueWorker => ({
  id: 'gpu-box-1',
  host: 'gpu-box',
  pid: 4242,
  backend: 'tensorflow',
  device: 'NVIDIA RTX 4090',
  concurrency: 1,
  active: 1,
  trialsDone: 7,
  trialsFailed: 0,
  version: '0.1.0',
  protocol: 1,
  compatible: true,
  startedAt: new Date().toISOString(),
  sentAt: new Date().toISOString(),
  ...over,
})

beforeEach(() => {
  setActivePinia(createPinia())
  api = createFakeApi()
  setApi(api)
  settings = { trialsOn: 'this-machine', redisUrl: null }
  list = {
    trialsOn: 'this-machine',
    queue: { state: 'off', message: 'Trials run on this machine' },
    workers: [],
  }
  api.handle('settings.get', () => settings)
  // main answers with the URL as stored, password replaced (compute-settings' tests check that redaction)
  api.handle('settings.set', (req) => {
    settings = { ...req, redisUrl: req.redisUrl === null ? null : STORED_URL }
    return settings
  })
  api.handle('workers.list', () => list)
  // the panels poll with setInterval: the tests move that clock instead of sleeping
  vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] })
})
afterEach(() => {
  vi.useRealTimers()
  setApi(null)
})

const STORED_URL = 'redis://:***@10.0.0.5:6379'

describe('WorkersPanel', () => {
  it('switches trials to a Redis queue and lists its live workers with their heartbeat', async () => {
    const w = mount(WorkersPanel, { props: { pollMs: 20 }, attachTo: document.body })
    await flushPromises()
    expect(w.get('[data-testid="workers-panel"]').attributes('data-state')).toBe('ready')
    expect(w.find('[data-testid="workers-local"]').exists()).toBe(true)

    await w.get('[data-testid="trials-on-redis"] input').setValue(true)
    await w.get('#redis-url').setValue('redis://:hunter2@10.0.0.5:6379')
    list = {
      trialsOn: 'redis-queue',
      queue: { state: 'connected', message: 'Connected to the Redis queue at redis://:***@10.0.0.5:6379' },
      workers: [
        worker({}),
        worker({ id: 'old', host: 'old-box', active: 0, protocol: 2, compatible: false }),
      ],
    }
    await w.get('[data-testid="save-compute"]').trigger('click')
    await flushPromises()
    expect(api.calls.find((c) => c.method === 'settings.set')?.request).toEqual({
      trialsOn: 'redis-queue',
      redisUrl: 'redis://:hunter2@10.0.0.5:6379',
    })
    // the field now shows main's answer, not what was typed: the password is not kept in the page
    const field = (w.get('#redis-url').element as HTMLInputElement).value
    expect(field).toBe(STORED_URL)
    expect(field).not.toContain('hunter2')
    expect(w.get('[data-testid="queue-status"]').text()).toContain('Connected to the Redis queue')
    const rows = w.findAll('[data-testid="workers-table"] tbody tr')
    expect(rows).toHaveLength(2)
    expect(rows[0]!.text()).toContain('gpu-box (pid 4242)')
    expect(rows[0]!.text()).toContain('NVIDIA RTX 4090')
    expect(rows[0]!.text()).toContain('busy (1/1)')
    expect(rows[0]!.text()).toContain('7')
    expect(rows[1]!.text()).toContain('refused: protocol 2')

    // the list refreshes by itself: the worker finishes its trial and turns idle
    list = { ...list, workers: [worker({ active: 0, trialsDone: 8 })] }
    vi.advanceTimersByTime(20)
    await flushPromises()
    const after = w.findAll('[data-testid="workers-table"] tbody tr')
    expect(after).toHaveLength(1)
    expect(after[0]!.text()).toContain('idle')
    expect(after[0]!.text()).toContain('8')
    w.unmount()
  })

  it('shows a clear message when Redis is away and when a setting is refused', async () => {
    settings = { trialsOn: 'redis-queue', redisUrl: 'redis://10.0.0.5:6379' }
    list = {
      trialsOn: 'redis-queue',
      queue: {
        state: 'disconnected',
        message:
          'Lost the Redis queue at redis://10.0.0.5:6379: the search is paused until it is reachable again',
      },
      workers: [],
    }
    api.handle('settings.set', () => {
      throw Object.assign(new Error('A Redis URL starts with redis:// or rediss:// (TLS), got "http://"'), {
        code: 'bad_request',
      })
    })
    const w = mount(WorkersPanel, { props: { pollMs: 1000 }, attachTo: document.body })
    await flushPromises()
    expect(w.get('[data-testid="queue-status"]').text()).toContain('the search is paused')
    await w.get('#redis-url').setValue('http://10.0.0.5')
    await w.get('[data-testid="save-compute"]').trigger('click')
    await flushPromises()
    expect(w.get('[data-testid="compute-error"]').text()).toContain('starts with redis://')
    w.unmount()
  })
})

describe('QueueStatusBanner', () => {
  it('tells a running search that the Redis queue is unreachable, and goes when it is back', async () => {
    list = {
      trialsOn: 'redis-queue',
      queue: {
        state: 'disconnected',
        message:
          'Lost the Redis queue at redis://:***@10.0.0.5:6379: the search is paused until it is reachable again',
      },
      workers: [],
    }
    const w = mount(QueueStatusBanner, { props: { active: true, pollMs: 20 }, attachTo: document.body })
    await flushPromises()
    expect(w.get('[data-testid="queue-banner"]').text()).toContain('paused until it is reachable again')
    list = { ...list, queue: { state: 'connected', message: 'Connected' } }
    vi.advanceTimersByTime(20)
    await flushPromises()
    expect(w.find('[data-testid="queue-banner"]').exists()).toBe(false)
    // a finished run stops asking
    list = { ...list, queue: { state: 'disconnected', message: 'Lost the Redis queue' } }
    await w.setProps({ active: false })
    vi.advanceTimersByTime(100)
    await flushPromises()
    expect(w.find('[data-testid="queue-banner"]').exists()).toBe(false)
    w.unmount()
  })

  it('says nothing while trials run on this machine', async () => {
    const w = mount(QueueStatusBanner, { props: { active: true, pollMs: 20 } })
    await flushPromises()
    expect(w.find('[data-testid="queue-banner"]').exists()).toBe(false)
    w.unmount()
  })
})
