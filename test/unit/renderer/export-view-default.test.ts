import { beforeEach, describe, expect, it } from 'vitest'
import { flushPromises, mount } from '@vue/test-utils'
import { createPinia, setActivePinia } from 'pinia'
import { createMemoryHistory, createRouter } from 'vue-router'
import type { ExportRecord } from '@shared/exports'
import { setApi } from '@renderer/api'
import ExportView from '@renderer/views/ExportView.vue'
import { createFakeApi, type FakeApi } from './fake-api'
import { makeDataset, makeRun, makeTrial } from './fixtures'

let api: FakeApi

const record = (id: string, trialId: string): ExportRecord => ({
  id,
  runId: 'run-1',
  trialId,
  format: 'onnx',
  status: 'verified',
  outDir: `/x/${id}`,
  files: [],
  sizeBytes: 1,
  maxAbsDiff: 0,
  samples: 100,
  tolerance: 1e-4,
  createdAt: '2026-11-29T10:00:00.000Z',
})

beforeEach(() => {
  setActivePinia(createPinia())
  api = createFakeApi()
  setApi(api)
  const run = makeRun({
    status: 'completed',
    trialsCompleted: 2,
    bestTrialId: 't1',
    bestValAccuracy: 0.84,
    finalTrialId: 't2',
    finalTestAccuracy: 0.91,
  })
  api.handle('runs.list', () => [run])
  api.handle('trials.list', () => [
    makeTrial(0, { valAccuracy: 0.7 }),
    makeTrial(1, { valAccuracy: 0.84 }),
    makeTrial(2, { isFinal: true, valAccuracy: 0.99, testAccuracy: 0.91 }),
  ])
  api.handle('exports.trials', () => ['t0', 't1', 't2'])
  api.handle('exports.list', () => [record('e-final', 't2'), record('e-best', 't1')])
  api.handle('datasets.get', () => makeDataset())
})

async function mountView() {
  const router = createRouter({
    history: createMemoryHistory(),
    routes: [{ path: '/export', component: ExportView }],
  })
  await router.push('/export?run=run-1')
  await router.isReady()
  const w = mount(ExportView, { global: { plugins: [router] } })
  await flushPromises()
  return w
}

describe('Export view', () => {
  it('defaults to the final model, names it by its test accuracy, and try-it follows the selected trial', async () => {
    const w = await mountView()
    const select = w.get('[data-testid="export-trial"]').element as HTMLSelectElement
    expect(select.value).toBe('t2')
    expect(select.options[0]!.text).toMatch(/^Final model · test accuracy 91\.0%/)
    expect(w.get('[data-testid="export-trial-note"]').text()).toMatch(
      /The final model: .*test accuracy 91\.0% on 2 test samples never used/,
    )
    const tryModels = () =>
      [...(w.get('[data-testid="tryit-model"]').element as HTMLSelectElement).options].map((o) => o.value)
    expect(tryModels()).toEqual(['', 'e-final'])
    // choosing the best search candidate: the note says what it is, and try-it offers only its exports
    await w.get('[data-testid="export-trial"]').setValue('t1')
    await flushPromises()
    expect(w.get('[data-testid="export-trial-note"]').text()).toMatch(
      /A search candidate .*not the final model/,
    )
    expect(tryModels()).toEqual(['', 'e-best'])
    expect((w.get('[data-testid="tryit-model"]').element as HTMLSelectElement).value).toBe('e-best')
  })
})
