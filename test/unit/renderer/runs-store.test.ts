import { beforeEach, describe, expect, it } from 'vitest'
import { createPinia, setActivePinia } from 'pinia'
import { setApi } from '@renderer/api'
import { useRunsStore } from '@renderer/stores/runs-store'
import { bestSoFar, useTrialsStore } from '@renderer/stores/trials-store'
import { createFakeApi, type FakeApi } from './fake-api'
import { makeRun, makeTrial } from './fixtures'

let api: FakeApi

beforeEach(() => {
  setActivePinia(createPinia())
  api = createFakeApi()
  setApi(api)
})

describe('runs store', () => {
  it('loads the history newest first', async () => {
    api.handle('runs.list', () => [
      makeRun({ id: 'old', createdAt: '2026-01-01T00:00:00.000Z' }),
      makeRun({ id: 'new', createdAt: '2026-06-01T00:00:00.000Z' }),
    ])
    const runs = useRunsStore()
    await runs.load()
    expect(runs.loaded).toBe(true)
    expect(runs.sorted.map((r) => r.id)).toEqual(['new', 'old'])
  })

  it('applies run.updated events live: updates known runs and adds new ones', async () => {
    api.handle('runs.list', () => [makeRun()])
    const runs = useRunsStore()
    await runs.load()
    const off = runs.listen()
    api.emit('run.updated', makeRun({ trialsCompleted: 2, bestValAccuracy: 0.8 }))
    expect(runs.byId('run-1')?.trialsCompleted).toBe(2)
    api.emit('run.updated', makeRun({ id: 'run-2' }))
    expect(runs.runs).toHaveLength(2)
    off()
    api.emit('run.updated', makeRun({ status: 'completed' }))
    expect(runs.byId('run-1')?.status).toBe('running')
  })

  it('keeps a readable error when loading fails', async () => {
    const runs = useRunsStore()
    await runs.load() // no handler: the fake throws ApiError('not_found', ...)
    expect(runs.error).toBe('No fake handler for runs.list')
    expect(runs.loaded).toBe(false)
  })

  it('start sends the config and stores the new run', async () => {
    api.handle('runs.start', (cfg) =>
      makeRun({ id: 'started', config: cfg as ReturnType<typeof makeRun>['config'] }),
    )
    const runs = useRunsStore()
    const run = await runs.start(makeRun().config)
    expect(run.id).toBe('started')
    expect(runs.byId('started')).toBeDefined()
    expect(api.calls[0]?.method).toBe('runs.start')
  })
})

describe('trials store', () => {
  it('applies trial.updated and trial.epoch for the selected run only', async () => {
    api.handle('trials.list', () => [makeTrial(0, { status: 'running', valAccuracy: null })])
    const trials = useTrialsStore()
    await trials.load('run-1')
    trials.listen()
    api.emit('trial.epoch', {
      trialId: 't0',
      runId: 'run-1',
      epoch: 1,
      loss: 1,
      accuracy: 0.5,
      valLoss: 1,
      valAccuracy: 0.6,
      timeMs: 10,
    })
    api.emit('trial.updated', makeTrial(0, { valAccuracy: 0.75 }))
    api.emit('trial.updated', makeTrial(1, { valAccuracy: 0.9 }))
    api.emit('trial.updated', makeTrial(5, { runId: 'other-run' }))
    expect(trials.trials.map((t) => [t.index, t.status])).toEqual([
      [0, 'completed'],
      [1, 'completed'],
    ])
    expect(trials.latestEpochs.t0?.epoch).toBe(1)
    expect(trials.best?.id).toBe('t1')
    expect(trials.selected?.id).toBe('t1')
    trials.select('t0')
    expect(trials.selected?.id).toBe('t0')
  })

  it('keeps events that arrive while the list is still loading', async () => {
    let release: (v: ReturnType<typeof makeTrial>[]) => void = () => {}
    api.handle('trials.list', () => new Promise((r) => (release = r)))
    const trials = useTrialsStore()
    trials.listen()
    const loading = trials.load('run-1')
    api.emit('trial.updated', makeTrial(1, { valAccuracy: 0.9 }))
    release([makeTrial(0)]) // the list was read before trial 1 existed
    await loading
    expect(trials.trials.map((t) => t.id)).toEqual(['t0', 't1'])
  })

  it('computes the best-so-far curve over finished trials', () => {
    const curve = bestSoFar([
      makeTrial(2, { valAccuracy: 0.7 }),
      makeTrial(0, { valAccuracy: 0.6 }),
      makeTrial(1, { status: 'failed', valAccuracy: null }),
      makeTrial(3, { status: 'running', valAccuracy: null }),
    ])
    expect(curve).toEqual([
      { index: 0, best: 0.6 },
      { index: 1, best: 0.6 },
      { index: 2, best: 0.7 },
    ])
  })
})
