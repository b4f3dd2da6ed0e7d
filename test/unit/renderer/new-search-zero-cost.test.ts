import { beforeEach, describe, expect, it } from 'vitest'
import { flushPromises, mount } from '@vue/test-utils'
import { createPinia, setActivePinia } from 'pinia'
import { createMemoryHistory, createRouter } from 'vue-router'
import { runConfigSchema, type RunConfig } from '@shared/domain'
import { setApi } from '@renderer/api'
import NewSearchView from '@renderer/views/NewSearchView.vue'
import { createFakeApi, type FakeApi } from './fake-api'
import { makeRun } from './fixtures'

let api: FakeApi

beforeEach(() => {
  setActivePinia(createPinia())
  api = createFakeApi()
  setApi(api)
  api.handle('datasets.list', () => [
    {
      id: 'fashion',
      name: 'Fashion-MNIST sample',
      source: 'bundled',
      path: '/x',
      hash: 'h',
      inputShape: [28, 28, 1],
      classNames: ['a', 'b'],
      numTrain: 100,
      numTest: 10,
      createdAt: '2026-11-29T10:00:00.000Z',
    },
  ])
  api.handle('spaces.list', () => [
    {
      id: 'small-cnn',
      name: 'Small CNN',
      description: 'd',
      preset: true,
      def: {
        family: 'sequential',
        version: 1,
        minLayers: 1,
        maxLayers: 2,
        ops: [{ op: 'dense', units: [8], activation: ['relu'] }],
      },
      createdAt: '2026-11-29T10:00:00.000Z',
    },
  ])
})

async function mountForm() {
  const router = createRouter({
    history: createMemoryHistory(),
    routes: [
      { path: '/', component: NewSearchView },
      { path: '/run/:id', name: 'run', component: { template: '<div />' } },
      { path: '/data', component: { template: '<div />' } },
    ],
  })
  await router.push('/')
  await router.isReady()
  const w = mount(NewSearchView, { global: { plugins: [router] } })
  await flushPromises()
  return w
}

describe('New search: zero-cost pre-ranking option', () => {
  it('is off by default: the run config has no zeroCost', async () => {
    let sent: RunConfig | null = null
    api.handle('runs.start', (c) => ((sent = c), makeRun({ config: c })))
    const w = await mountForm()
    expect(w.find('[data-testid="zero-cost-field"]').text()).toContain(
      'Score many candidates at initialisation in seconds and train only the most promising.',
    )
    expect(w.find('[data-testid="zero-cost-proxy"]').exists()).toBe(false)
    await w.find('form').trigger('submit')
    await flushPromises()
    expect(sent).not.toBeNull()
    expect(sent!.zeroCost).toBeUndefined()
  })

  it('sends the chosen proxy, the candidates to score and keep = the candidates to train', async () => {
    let sent: RunConfig | null = null
    api.handle('runs.start', (c) => ((sent = c), makeRun({ config: c })))
    const w = await mountForm()
    await w.find('[data-testid="zero-cost-toggle"]').setValue(true)
    await w.find('[data-testid="zero-cost-proxy"]').setValue('synflow')
    await w.find('[data-testid="zero-cost-candidates"]').setValue(40)
    await w.find('[data-testid="input-max-trials"]').setValue(5)
    await w.find('form').trigger('submit')
    await flushPromises()
    expect(sent!.zeroCost).toEqual({ proxy: 'synflow', candidates: 40, keep: 5 })
    expect(runConfigSchema.safeParse(sent).success).toBe(true)
  })

  it('refuses fewer candidates to score than to train, in words', async () => {
    const w = await mountForm()
    await w.find('[data-testid="zero-cost-toggle"]').setValue(true)
    await w.find('[data-testid="input-max-trials"]').setValue(10)
    await w.find('[data-testid="zero-cost-candidates"]').setValue(8)
    expect(w.text()).toContain('Candidates to score must be a whole number from 10')
    expect(w.find('[data-testid="start-button"]').attributes('disabled')).toBeDefined()
  })
})
