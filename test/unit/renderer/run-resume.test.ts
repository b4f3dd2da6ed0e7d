import { beforeEach, describe, expect, it } from 'vitest'
import { createPinia, setActivePinia } from 'pinia'
import { setApi } from '@renderer/api'
import { canResume, useRunsStore } from '@renderer/stores/runs-store'
import { createFakeApi, type FakeApi } from './fake-api'
import { makeRun } from './fixtures'

let api: FakeApi

beforeEach(() => {
  setActivePinia(createPinia())
  api = createFakeApi()
  setApi(api)
})

describe('pause and resume in the runs store', () => {
  it('offers Resume for paused and interrupted runs only, and never for DARTS', () => {
    const statuses = [
      'queued',
      'running',
      'paused',
      'completed',
      'failed',
      'cancelled',
      'interrupted',
    ] as const
    expect(statuses.filter((status) => canResume(makeRun({ status })))).toEqual(['paused', 'interrupted'])
    const darts = makeRun({ status: 'interrupted' })
    darts.config = { ...darts.config, strategy: 'darts' }
    expect(canResume(darts)).toBe(false)
  })

  it('pause and resume call the contract and apply the returned run', async () => {
    api.handle('runs.pause', ({ runId }) => makeRun({ id: runId as string, status: 'paused' }))
    api.handle('runs.resume', ({ runId }) => makeRun({ id: runId as string, status: 'queued' }))
    const runs = useRunsStore()
    await runs.pause('run-1')
    expect(runs.byId('run-1')?.status).toBe('paused')
    await runs.resume('run-1')
    expect(runs.byId('run-1')?.status).toBe('queued')
    expect(api.calls.map((c) => [c.method, c.request])).toEqual([
      ['runs.pause', { runId: 'run-1' }],
      ['runs.resume', { runId: 'run-1' }],
    ])
  })

  it('passes a refusal on as an error with its message', async () => {
    const runs = useRunsStore()
    await expect(runs.resume('run-1')).rejects.toThrow('No fake handler for runs.resume')
  })
})
