import { beforeEach, describe, expect, it } from 'vitest'
import { flushPromises, mount } from '@vue/test-utils'
import { createPinia, setActivePinia } from 'pinia'
import { createMemoryHistory, createRouter } from 'vue-router'
import type { Dataset, RunConfig } from '@shared/domain'
import type { PlanRequest, SearchPlan } from '@shared/plan'
import { setApi } from '@renderer/api'
import NewSearchView from '@renderer/views/NewSearchView.vue'
import { formatClock, formatSpan, planSummary } from '@renderer/components/search/plan-text'
import { createFakeApi, type FakeApi } from './fake-api'
import { makeRun } from './fixtures'

let api: FakeApi
let asked: PlanRequest[]

const dataset = (id: string, createdAt: string): Dataset => ({
  id,
  name: id,
  source: id === 'sample' ? 'bundled' : 'image-folder',
  path: '/x',
  hash: 'h',
  inputShape: [28, 28, 1],
  classNames: ['a', 'b'],
  numTrain: 100,
  numTest: 10,
  createdAt,
})

/** A plan that echoes the request, so the test sees which time and data the form asked for. */
function planFor(req: PlanRequest): SearchPlan {
  return {
    minutes: req.minutes,
    spaceId: req.minutes > 10 ? 'tiny-cnn' : 'small-cnn',
    spaceName: 'x',
    strategy: req.minutes > 10 ? 'evolution' : 'random',
    epochs: 2,
    dataFraction: 0.5,
    finalShare: 0.4,
    maxTrials: 60,
    finalEpochs: 12,
    estimate: { candidates: 7, candidateSeconds: 20, finalEpochs: 6, finalMinutes: 1.7, totalMinutes: 4.8 },
    // a longer search has room to train its best 3 again with a second seed
    ...(req.minutes > 10 ? { seedCheck: 3 } : {}),
    reasons: [`planned for ${req.datasetId}`],
  }
}

beforeEach(() => {
  setActivePinia(createPinia())
  api = createFakeApi()
  setApi(api)
  asked = []
  api.handle('datasets.list', () => [
    dataset('sample', '2026-11-01T10:00:00.000Z'),
    dataset('mine', '2026-12-01T10:00:00.000Z'),
    dataset('older', '2026-11-15T10:00:00.000Z'),
  ])
  api.handle('spaces.list', () =>
    ['small-cnn', 'tiny-cnn', 'darts'].map((id) => ({
      id,
      name: id,
      description: 'd',
      preset: true,
      def: {
        family: 'sequential' as const,
        version: 1 as const,
        minLayers: 1,
        maxLayers: 2,
        ops: [{ op: 'dense' as const, units: [8], activation: ['relu' as const] }],
      },
      createdAt: '2026-11-29T10:00:00.000Z',
    })),
  )
  api.handle('search.plan', (req) => (asked.push(req), planFor(req)))
})

async function mountForm(query: Record<string, string> = {}) {
  const router = createRouter({
    history: createMemoryHistory(),
    routes: [
      { path: '/', component: NewSearchView },
      { path: '/run/:id', name: 'run', component: { template: '<div />' } },
      { path: '/data', component: { template: '<div />' } },
    ],
  })
  await router.push({ path: '/', query })
  await router.isReady()
  const w = mount(NewSearchView, { global: { plugins: [router] } })
  await flushPromises()
  return w
}

async function submit(w: Awaited<ReturnType<typeof mountForm>>): Promise<RunConfig> {
  let sent: RunConfig | null = null
  api.handle('runs.start', (c) => ((sent = c), makeRun({ config: c })))
  await w.find('form').trigger('submit')
  await flushPromises()
  expect(sent).not.toBeNull()
  return sent!
}

describe('New search: time first', () => {
  it('asks "How long may it take?" first, with 5 minutes chosen and the Advanced choices closed', async () => {
    const w = await mountForm()
    expect(w.find('legend').text()).toBe('How long may it take?')
    const labels = w.findAll('[data-testid="time-choice"] .option-title').map((l) => l.text())
    expect(labels).toEqual(['5 minutes', '15 minutes', '1 hour', 'Overnight', 'Custom'])
    expect(w.find('[data-testid="time-5m"] input').element).toHaveProperty('checked', true)
    expect(w.find('#advanced-choices').attributes('style')).toContain('display: none')
    await w.find('[data-testid="advanced-toggle"]').trigger('click')
    expect(w.find('#advanced-choices').attributes('style') ?? '').not.toContain('display: none')
  })

  it('says when DARTS and PC-DARTS are worth choosing over random search or evolution', async () => {
    const w = await mountForm()
    const desc = (s: string) => w.get(`[data-strategy="${s}"] .option-desc`).text()
    expect(desc('darts')).toContain(
      'Only for cell spaces. On a CPU with minutes, prefer PC-DARTS or evolution',
    )
    expect(desc('darts')).toContain('worth it with a GPU and an hour or more')
    expect(desc('pc-darts')).toContain('On a CPU with minutes it found cells as good as evolution')
    expect(desc('pc-darts')).toContain('for any other space choose evolution')
    expect(desc('evolution')).not.toContain('cell spaces')
  })

  it('defaults to the dataset imported last, or the one "Search on this data" passed', async () => {
    await mountForm()
    expect(asked.at(-1)).toEqual({ datasetId: 'mine', minutes: 5 })
    await mountForm({ dataset: 'older' })
    expect(asked.at(-1)).toEqual({ datasetId: 'older', minutes: 5 })
  })

  it('runs the plan: its space and strategy, held to the chosen time with the final share reserved', async () => {
    const w = await mountForm()
    expect(w.find('[data-testid="plan-summary"]').text()).toMatch(
      /^About 7 candidates on 50% of the training data, then 2 minutes to train the winner on all the data; done around \d\d:\d\d\.$/,
    )
    const five = await submit(w)
    expect(five).toMatchObject({ spaceId: 'small-cnn', strategy: 'random', budgetMinutes: 5, maxTrials: 60 })
    expect(five.train.dataFraction).toBe(0.5)
    expect(five.finalTraining).toMatchObject({ epochs: 12, reserveMinutes: 2 })
    expect(five.seedCheck).toBeUndefined()

    await w.find('[data-testid="time-15m"] input').trigger('change')
    await flushPromises()
    expect(asked.at(-1)).toEqual({ datasetId: 'mine', minutes: 15 })
    const fifteen = await submit(w)
    expect(fifteen).toMatchObject({ spaceId: 'tiny-cnn', strategy: 'evolution', budgetMinutes: 15 })
    expect(fifteen.finalTraining?.reserveMinutes).toBeCloseTo(6)
    expect(fifteen.seedCheck).toEqual({ candidates: 3 })
  })

  it('takes a custom number of minutes', async () => {
    const w = await mountForm()
    await w.find('[data-testid="time-custom"] input[type="radio"]').trigger('change')
    await flushPromises()
    await w.find('[data-testid="time-custom-minutes"]').setValue('42')
    await flushPromises()
    expect(asked.at(-1)).toEqual({ datasetId: 'mine', minutes: 42 })
    expect((await submit(w)).budgetMinutes).toBe(42)
  })
})

describe('plan-text', () => {
  it('says spans and clock times in plain words', () => {
    expect(formatSpan(0.5)).toBe('30 seconds')
    expect(formatSpan(1)).toBe('1 minute')
    expect(formatSpan(6.4)).toBe('6 minutes')
    expect(formatSpan(70)).toBe('1 hour 10 minutes')
    expect(formatSpan(600)).toBe('10 hours')
    const now = new Date(2026, 11, 5, 14, 30)
    expect(formatClock(new Date(2026, 11, 5, 14, 35), now)).toBe('14:35')
    expect(formatClock(new Date(2026, 11, 6, 0, 30), now)).toMatch(/ 00:30$/)
    const plan = planFor({ datasetId: 'd', minutes: 5 })
    expect(planSummary(plan, now)).toBe(
      'About 7 candidates on 50% of the training data, then 2 minutes to train the winner on all the data; done around 14:35.',
    )
    expect(planSummary({ ...plan, dataFraction: 1 }, now)).toBe(
      'About 7 candidates, then 2 minutes to train the winner on all the data; done around 14:35.',
    )
  })
})
