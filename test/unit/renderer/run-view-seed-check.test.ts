import { beforeEach, describe, expect, it } from 'vitest'
import { createPinia, setActivePinia } from 'pinia'
import type { Run, SeedCheck } from '@shared/domain'
import { setApi } from '@renderer/api'
import { createFakeApi, type FakeApi } from './fake-api'
import { mountRunView } from './mount-run-view'
import { makeRun, makeTrial } from './fixtures'

let api: FakeApi

beforeEach(() => {
  setActivePinia(createPinia())
  api = createFakeApi()
  setApi(api)
})

const trials = [
  makeTrial(0, { valAccuracy: 0.85 }),
  makeTrial(1, { valAccuracy: 0.84 }),
  makeTrial(2, { valAccuracy: 0.8 }),
]

function finishedRun(seedCheck: SeedCheck | undefined): Run {
  const run = makeRun({
    status: 'completed',
    trialsCompleted: 3,
    bestTrialId: 't0',
    bestValAccuracy: 0.85,
    ...(seedCheck ? { seedCheck } : {}),
  })
  run.config = {
    ...run.config,
    train: { ...run.config.train, dataFraction: 0.25 },
    finalTraining: { epochs: 10 },
  }
  return run
}

describe('the run view shows the seed re-check', () => {
  it('flags a lucky winner, names the data and the noise, and says which candidate the final training took', async () => {
    const w = await mountRunView(
      api,
      finishedRun({
        status: 'done',
        candidates: [
          { trialId: 't0', index: 0, first: 0.85, second: 0.81 },
          { trialId: 't1', index: 1, first: 0.84, second: 0.84 },
        ],
        noise: 0.0283,
        lead: 0.01,
        lucky: true,
        pickedTrialId: 't1',
      }),
      trials,
    )
    const card = w.get('[data-testid="seed-check"]')
    expect(card.attributes('data-lucky')).toBe('true')
    expect(card.attributes('role')).toBe('alert')
    expect(card.get('h2').text()).toMatch(/lucky winner/i)
    const text = card.get('[data-testid="seed-check-text"]').text()
    expect(text).toContain('Seed noise')
    expect(text).toContain('2.8 points')
    expect(text).toContain('by 1.0 points')
    expect(text).toContain('validation accuracy')
    expect(text).toContain('the final training trains it instead')
    expect(card.get('caption').text()).toContain("Validation accuracy on the search's quick-score settings")
    const rows = card.findAll('tbody tr').map((r) => r.findAll('td').map((td) => td.text()))
    expect(rows).toEqual([
      ['1', '85.0%', '81.0%', '83.0%'],
      ['2 · pick', '84.0%', '84.0%', '84.0%'],
    ])
    w.unmount()
  })

  it('shows the re-check while it runs, and hides one an interruption cut short', async () => {
    const running: SeedCheck = {
      status: 'running',
      planned: 3,
      candidates: [{ trialId: 't0', index: 0, first: 0.85, second: 0.83 }],
      noise: null,
      lead: null,
      lucky: false,
      pickedTrialId: null,
    }
    const live = await mountRunView(
      api,
      { ...finishedRun(running), status: 'running', finishedAt: null },
      trials,
    )
    const card = live.get('[data-testid="seed-check"]')
    expect(card.attributes('data-status')).toBe('running')
    expect(card.attributes('role')).toBe('status')
    expect(card.get('h2').text()).toMatch(/checking the winner against seed noise/i)
    expect(card.get('[data-testid="seed-check-text"]').text()).toContain(
      'Training the best 3 candidates again with a second seed',
    )
    expect(card.get('[data-testid="seed-check-text"]').text()).toContain('1 of 3 done')
    const rows = card.findAll('tbody tr').map((r) => r.findAll('td').map((td) => td.text()))
    expect(rows).toEqual([['1', '85.0%', '83.0%', '84.0%']])
    live.unmount()
    const cut = await mountRunView(api, { ...finishedRun(running), status: 'interrupted' }, trials)
    expect(cut.find('[data-testid="seed-check"]').exists()).toBe(false)
    cut.unmount()
  })

  it('says why a check was skipped, and shows nothing for a run without one', async () => {
    const skipped = await mountRunView(
      api,
      finishedRun({
        status: 'skipped',
        reason: 'the time budget ran out before the candidates were trained again',
        candidates: [],
        noise: null,
        lead: null,
        lucky: false,
        pickedTrialId: null,
      }),
      trials,
    )
    expect(skipped.get('[data-testid="seed-check"]').text()).toContain('the time budget ran out')
    expect(skipped.find('[data-testid="seed-check"] table').exists()).toBe(false)
    skipped.unmount()
    const none = await mountRunView(api, finishedRun(undefined), trials)
    expect(none.get('[data-testid="run-progress"]').isVisible()).toBe(true)
    expect(none.find('[data-testid="seed-check"]').exists()).toBe(false)
    none.unmount()
  })
})
