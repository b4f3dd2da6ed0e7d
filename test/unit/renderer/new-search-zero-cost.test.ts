import { beforeEach, describe, expect, it } from 'vitest'
import { flushPromises, mount } from '@vue/test-utils'
import { createPinia, setActivePinia } from 'pinia'
import { createMemoryHistory, createRouter } from 'vue-router'
import { runConfigSchema, ZERO_COST_PROXIES, type RunConfig } from '@shared/domain'
import { isUsefulProxy, USEFUL_SPEARMAN, ZERO_COST_MEASURED } from '@shared/zero-cost-measured'
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
    await w.find('[data-testid="zero-cost-proxy"]').setValue('params')
    await w.find('[data-testid="zero-cost-candidates"]').setValue(40)
    await w.find('[data-testid="input-max-trials"]').setValue(5)
    await w.find('form').trigger('submit')
    await flushPromises()
    expect(sent!.zeroCost).toEqual({ proxy: 'params', candidates: 40, keep: 5 })
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

  it('offers only the proxies measured useful, each with its measured rank correlation; the others are experimental', async () => {
    const w = await mountForm()
    await w.find('[data-testid="zero-cost-toggle"]').setValue(true)
    // the committed measurements hold both kinds, so the gate is exercised either way
    expect(ZERO_COST_PROXIES.some(isUsefulProxy)).toBe(true)
    expect(ZERO_COST_PROXIES.some((p) => !isUsefulProxy(p))).toBe(true)
    for (const p of ZERO_COST_PROXIES) {
      const option = w.find(`[data-testid="zero-cost-option-${p}"]`)
      const r = ZERO_COST_MEASURED[p].fashionMnist
      const shown = r >= 0 ? r.toFixed(2) : `−${(-r).toFixed(2)}`
      expect(option.text(), p).toContain(`rank correlation ${shown}`)
      if (r >= USEFUL_SPEARMAN) {
        expect(option.attributes('disabled'), p).toBeUndefined()
        expect(option.text(), p).not.toContain('experimental')
      } else {
        expect(option.attributes('disabled'), p).toBeDefined()
        expect(option.text(), p).toContain('experimental')
      }
    }
    const measured = w.find('[data-testid="zero-cost-measured"]').text()
    expect(measured).toContain('Fashion-MNIST')
    expect(measured).toContain(`NAS-Bench-201`)
    expect(measured).toContain(`synflow ${ZERO_COST_MEASURED.synflow.nb201!.toFixed(2)}`)
    // the default is a useful proxy: the form can start as it is
    expect(w.find('[data-testid="zero-cost-experimental"]').exists()).toBe(false)
    expect(w.find('[data-testid="start-button"]').attributes('disabled')).toBeUndefined()
  })

  it('a run repeated with an experimental proxy does not start until a useful one is chosen', async () => {
    const experimental = ZERO_COST_PROXIES.find((p) => !isUsefulProxy(p))!
    const useful = ZERO_COST_PROXIES.find(isUsefulProxy)!
    const w = await mountForm()
    await w.find('[data-testid="zero-cost-toggle"]').setValue(true)
    // a disabled option cannot be picked by hand; an older run's config can still carry one
    ;(w.find('[data-testid="zero-cost-proxy"]').element as HTMLSelectElement).value = experimental
    await w.find('[data-testid="zero-cost-proxy"]').trigger('change')
    expect(w.find('[data-testid="zero-cost-experimental"]').text()).toContain('is experimental')
    expect(w.text()).toContain('Pre-ranking needs a proxy measured useful')
    expect(w.find('[data-testid="start-button"]').attributes('disabled')).toBeDefined()
    await w.find('[data-testid="zero-cost-proxy"]').setValue(useful)
    expect(w.find('[data-testid="zero-cost-experimental"]').exists()).toBe(false)
    expect(w.find('[data-testid="start-button"]').attributes('disabled')).toBeUndefined()
  })
})
