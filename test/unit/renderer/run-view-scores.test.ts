import { beforeEach, describe, expect, it, vi } from 'vitest'
import { flushPromises, mount } from '@vue/test-utils'
import { createPinia, setActivePinia } from 'pinia'
import { createMemoryHistory, createRouter } from 'vue-router'
import type { Run, TrialEpoch } from '@shared/domain'
import { TIE_BREAK_RULE } from '@shared/ranking'
import { setApi } from '@renderer/api'
import RunsView from '@renderer/views/RunsView.vue'
import { defineComponent, h } from 'vue'
import { NDialogProvider, NMessageProvider } from 'naive-ui'
import { runScoresText } from '@renderer/run-scores'
import { useTrialsStore } from '@renderer/stores/trials-store'
import { createFakeApi, type FakeApi } from './fake-api'
import { mountRunView } from './mount-run-view'
import { makeDataset, makeRun, makeTrial } from './fixtures'

let api: FakeApi

beforeEach(() => {
  setActivePinia(createPinia())
  api = createFakeApi()
  setApi(api)
})

/** A run searched with a proxy (3 of 15 epochs on 10% of the data) and a final training of 15 epochs. */
function proxiedRun(over: Partial<Run> = {}): Run {
  const run = makeRun({
    status: 'running',
    trialsCompleted: 2,
    bestTrialId: 't1',
    bestValAccuracy: 0.84,
    ...over,
  })
  run.config = {
    ...run.config,
    train: { ...run.config.train, epochs: 3, dataFraction: 0.1 },
    finalTraining: { epochs: 15 },
  }
  return run
}

describe('the run view names its numbers', () => {
  it('shows the final training epoch by epoch with the time left, as training figures', async () => {
    const final = makeTrial(2, {
      status: 'running',
      isFinal: true,
      valAccuracy: null,
      valLoss: null,
      trainTimeMs: null,
    })
    const run = proxiedRun({ finalTrialId: 't2', finalTestAccuracy: null })
    const epoch: TrialEpoch = {
      trialId: 't2',
      runId: run.id,
      epoch: 4,
      loss: 0.4,
      accuracy: 0.87,
      valLoss: 0.4,
      valAccuracy: 0.87,
      timeMs: 30_000,
    }
    const w = await mountRunView(
      api,
      run,
      [makeTrial(0, { valAccuracy: 0.7 }), makeTrial(1, { valAccuracy: 0.84 }), final],
      [epoch],
    )
    // the epoch loaded with the run shows at once (a reopened run); newer ones arrive as events
    expect(w.get('[data-testid="final-progress"]').text()).toMatch(/epoch 4\/15/)
    useTrialsStore().listen()
    api.emit('trial.epoch', { ...epoch, epoch: 5, accuracy: 0.88 })
    await flushPromises()
    const progress = w.get('[data-testid="final-progress"]').text()
    expect(progress).toMatch(/Final training\s+epoch 5\/15/)
    expect(progress).toMatch(/about 5 ?min/)
    const row = w.get('[data-trial-id="t2"]').text()
    expect(row).toContain('epoch 5/15 · training 88.0%')
    // under a time limit the training re-plans its epochs and says how many it will train
    api.emit('trial.epoch', { ...epoch, epoch: 6, accuracy: 0.89, epochs: 8 })
    await flushPromises()
    const replanned = w.get('[data-testid="final-progress"]').text()
    expect(replanned).toMatch(/epoch 6\/8/)
    expect(replanned).toMatch(/about 1 ?min/)
    expect(w.get('[data-trial-id="t2"]').text()).toContain('epoch 6/8 · training 89.0%')
    // the search's best is named for what it measured
    expect(w.get('[data-testid="run-progress"]').text()).toMatch(
      /Best quick score: 3 epochs on 10% of the data/,
    )
    expect(w.get('[data-testid="tie-break-rule"]').text()).toBe(TIE_BREAK_RULE)
  })

  it('says how many test samples the final model was scored on', async () => {
    api.handle('datasets.list', () => [makeDataset({ numTrain: 170, numTest: 30 })])
    const run = proxiedRun({ status: 'completed', finalTrialId: 't2', finalTestAccuracy: 1 })
    const final = makeTrial(2, { isFinal: true, status: 'completed', testAccuracy: 1 })
    const w = await mountRunView(api, run, [makeTrial(0), final])
    expect(w.get('[data-testid="run-progress"]').text()).toMatch(
      /Final model on test\s+100\.0%\s+of 30 samples/,
    )
  })

  it('says in plain words when the search cannot tell candidates apart', async () => {
    const warning = 'The search cannot tell candidates apart: 4 of 5 score within noise of chance'
    const w = await mountRunView(api, proxiedRun({ signalWarning: warning }), [makeTrial(0)])
    expect(w.get('[data-testid="signal-warning"]').text()).toBe(warning)
  })

  it('History and Compare put the final model test accuracy first, the quick score after it', () => {
    const run = proxiedRun({ finalTrialId: 't2', finalTestAccuracy: 0.912 })
    expect(runScoresText(run)).toBe('final model 91.2% on test · best quick score 84.0%')
    expect(runScoresText(proxiedRun())).toBe('best quick score 84.0%')
  })
})

describe('History', () => {
  it('shows the final model test accuracy and the search best as separate, named columns', async () => {
    const withFinal = proxiedRun({
      id: 'run-1',
      status: 'completed',
      finalTrialId: 't2',
      finalTestAccuracy: 0.912,
    })
    const without = proxiedRun({ id: 'run-2', status: 'completed', bestValAccuracy: 0.5 })
    api.handle('runs.list', () => [withFinal, without])
    api.handle('datasets.list', () => [])
    api.handle('runs.summaries', () => [])
    const w = await mountHistory()
    const table = w.get('[data-testid="run-table"]')
    expect(table.text()).toContain('Final model (test)')
    expect(table.text()).toContain('Search best (validation)')
    const rows = w.findAll('[data-testid="run-row"]')
    const first = rows.find((r) => r.text().includes('91.2%'))
    expect(first?.text()).toContain('84.0%')
    w.unmount()
  })

  it('on a narrow window folds data, size and start into the name cell and keeps the scores as columns', async () => {
    const matchMedia = vi.spyOn(window, 'matchMedia').mockImplementation(
      (media: string) =>
        ({
          media,
          matches: true,
          addEventListener() {},
          removeEventListener() {},
        }) as unknown as MediaQueryList,
    )
    const run = proxiedRun({ id: 'run-1', status: 'completed', finalTrialId: 't2', finalTestAccuracy: 0.912 })
    api.handle('runs.list', () => [run])
    api.handle('datasets.list', () => [])
    api.handle('runs.summaries', () => [])
    const w = await mountHistory()
    const table = w.get('[data-testid="run-table"]')
    expect(table.text()).toContain('Final model (test)')
    expect(table.text()).not.toContain('Data · strategy')
    expect(table.text()).not.toContain('Parameters')
    expect(w.get('.folded-line').text()).toContain('deleted dataset · ')
    w.unmount()
    matchMedia.mockRestore()
  })
})

/** Mounts History (RunsView) with a router and the message and dialog providers it needs. */
async function mountHistory() {
  const router = createRouter({
    history: createMemoryHistory(),
    routes: [{ path: '/', component: { template: '<div />' } }],
  })
  await router.push('/')
  const Host = defineComponent({
    render: () => h(NMessageProvider, () => h(NDialogProvider, () => h(RunsView))),
  })
  const w = mount(Host, { global: { plugins: [router] }, attachTo: document.body })
  await flushPromises()
  return w
}
