import { describe, expect, it } from 'vitest'
import { mount } from '@vue/test-utils'
import TrialTable from '@renderer/components/trials/TrialTable.vue'
import { bestSoFar, bestTrialOf, searchTrials } from '@renderer/stores/trials-store'
import { makeTrial } from './fixtures'

const trials = [
  makeTrial(0, { valAccuracy: 0.71 }),
  makeTrial(1, { valAccuracy: 0.84, params: 1_250_000 }),
  makeTrial(2, { status: 'running', valAccuracy: null, trainTimeMs: null }),
  makeTrial(3, { status: 'failed', valAccuracy: null, error: 'Out of memory: try fewer units.' }),
]

describe('TrialTable', () => {
  it('renders one row per trial with its status marker, params and accuracy', () => {
    const w = mount(TrialTable, { props: { trials, bestTrialId: 't1' } })
    const rows = w.findAll('[data-testid="trial-row"]')
    expect(rows).toHaveLength(4)
    expect(rows.map((r) => r.attributes('data-status'))).toEqual([
      'completed',
      'completed',
      'running',
      'failed',
    ])
    expect(rows[0]!.text()).toContain('71.0%')
    expect(rows[1]!.text()).toContain('1.3 M')
    expect(rows[1]!.text()).toContain('1.2 s')
    expect(rows[3]!.text()).toContain('Out of memory: try fewer units.')
  })

  it('marks exactly the best trial', () => {
    const best = bestTrialOf(trials)
    expect(best?.id).toBe('t1')
    const w = mount(TrialTable, { props: { trials, bestTrialId: best!.id } })
    const marked = w.findAll('[data-best="true"]')
    expect(marked).toHaveLength(1)
    expect(marked[0]!.attributes('data-trial-id')).toBe('t1')
    expect(w.findAll('[data-testid="best-marker"]')).toHaveLength(1)
    expect(marked[0]!.find('[data-testid="best-marker"]').exists()).toBe(true)
  })

  it('never takes the final retraining for the best candidate or puts it on the best-so-far curve', () => {
    // the final model's accuracy is a training figure (it trained on the validation split too)
    const withFinal = [...trials, makeTrial(4, { valAccuracy: 0.97, isFinal: true, testAccuracy: 0.83 })]
    expect(bestTrialOf(withFinal)?.id).toBe('t1')
    expect(searchTrials(withFinal).map((t) => t.id)).toEqual(['t0', 't1', 't2', 't3'])
    expect(bestSoFar(withFinal).map((p) => p.best)).toEqual([0.71, 0.84, 0.84])
    // its row shows the test score, and no validation accuracy (97% would be a training figure)
    const w = mount(TrialTable, { props: { trials: withFinal, bestTrialId: 't1' } })
    const row = w.get('[data-trial-id="t4"]')
    expect(row.get('[data-testid="final-trial"]').text()).toContain('83.0%')
    expect(row.find('[data-testid="final-no-val"]').exists()).toBe(true)
    expect(row.text()).not.toContain('97.0%')
  })

  it('shows live epoch progress for a running trial', () => {
    const w = mount(TrialTable, {
      props: {
        trials,
        bestTrialId: 't1',
        epochsPerTrial: 2,
        latestEpochs: {
          t2: {
            trialId: 't2',
            runId: 'run-1',
            epoch: 1,
            loss: 0.6,
            accuracy: 0.7,
            valLoss: 0.6,
            valAccuracy: 0.65,
            timeMs: 900,
          },
        },
      },
    })
    expect(w.findAll('[data-testid="trial-row"]')[2]!.text()).toContain('epoch 1/2 · 65.0%')
  })

  it('emits select with the trial id on click', async () => {
    const w = mount(TrialTable, { props: { trials, bestTrialId: null } })
    await w.findAll('[data-testid="trial-row"]')[2]!.trigger('click')
    expect(w.emitted('select')).toEqual([['t2']])
  })

  it('shows zero-cost scores only for a pre-ranked run, and sorts by them best first', async () => {
    const plain = mount(TrialTable, { props: { trials, bestTrialId: 't1' } })
    expect(plain.find('[data-testid="sort-zero-cost"]').exists()).toBe(false)
    const ranked = [
      makeTrial(0, { valAccuracy: 0.71, zeroCostScore: 3.25 }),
      makeTrial(1, { valAccuracy: 0.84, zeroCostScore: 12.5 }),
      makeTrial(2, { valAccuracy: 0.8, zeroCostScore: null }),
    ]
    const w = mount(TrialTable, { props: { trials: ranked, bestTrialId: 't1', zeroCostProxy: 'synflow' } })
    expect(w.findAll('[data-testid="zero-cost-score"]').map((c) => c.text())).toEqual(['3.25', '12.50', '–'])
    await w.find('[data-testid="sort-zero-cost"]').trigger('click')
    expect(w.findAll('[data-testid="trial-row"]').map((r) => r.attributes('data-trial-id'))).toEqual([
      't1',
      't0',
      't2',
    ])
  })
})
