import { flushPromises, mount } from '@vue/test-utils'
import { createMemoryHistory, createRouter } from 'vue-router'
import type { Run, Trial, TrialEpoch } from '@shared/domain'
import RunView from '@renderer/views/RunView.vue'
import type { FakeApi } from './fake-api'

/**
 * Mounts the run view of `run` on `api` (answering the run, its trials and their epochs) behind a real router,
 * with the charts and the architecture viewer stubbed (they need a canvas).
 */
export async function mountRunView(api: FakeApi, run: Run, trials: Trial[], epochs: TrialEpoch[] = []) {
  api.handle('runs.get', () => run)
  api.handle('trials.list', () => trials)
  api.handle('trials.runEpochs', () => epochs)
  const router = createRouter({
    history: createMemoryHistory(),
    routes: [
      { path: '/run/:id', component: RunView, props: true },
      { path: '/runs', component: { template: '<div />' } },
      { path: '/new', component: { template: '<div />' } },
    ],
  })
  await router.push(`/run/${run.id}`)
  await router.isReady()
  const w = mount(RunView, {
    props: { id: run.id },
    global: { plugins: [router], stubs: { RunCharts: true, BestSoFarChart: true, ArchitectureViewer: true } },
  })
  await flushPromises()
  return w
}
