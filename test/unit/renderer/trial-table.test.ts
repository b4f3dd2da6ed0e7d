import { describe, expect, it } from 'vitest'
import { mount } from '@vue/test-utils'
import TrialTable from '@renderer/components/trials/TrialTable.vue'
import { bestTrialOf } from '@renderer/stores/trials-store'
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
})
