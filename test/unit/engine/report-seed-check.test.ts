import { describe, expect, it } from 'vitest'
import { renderReport } from '../../../src/engine/export/report'
import type { Run, SeedCheck } from '../../../src/shared'
import { dataset, run, sampleTrial } from '../../helpers/db-fixtures'

function report(seedCheck?: SeedCheck): string {
  const trial = sampleTrial(0, { status: 'completed', valAccuracy: 0.85, valLoss: 0.4, trainTimeMs: 100 })
  const r: Run = { ...run, status: 'completed', bestTrialId: trial.id, ...(seedCheck ? { seedCheck } : {}) }
  return renderReport({
    appName: 'NAS Studio',
    appVersion: '0.0.0-test',
    createdAt: '2026-01-01T00:00:00.000Z',
    run: r,
    trial,
    architecture: trial.architecture,
    dataset,
    epochs: [],
    confusion: [
      [4, 1],
      [0, 5],
    ],
    confusionSplit: 'validation',
    flops: 100,
    backend: 'cpu',
    preprocessing: 'pixels / 255',
  })
}

describe('the report on the seed re-check', () => {
  it("flags a lucky winner with the noise, the lead, the data of each number and the run's pick", () => {
    const html = report({
      status: 'done',
      candidates: [
        { trialId: 't0', index: 0, first: 0.85, second: 0.81 },
        { trialId: 't3', index: 3, first: 0.84, second: 0.84 },
      ],
      noise: 0.0283,
      lead: 0.01,
      lucky: true,
      pickedTrialId: 't3',
    })
    expect(html).toContain('<h2>Lucky winner: its lead is within seed noise</h2>')
    expect(html).toContain('moved by 2.8 points between seeds')
    expect(html).toContain('led the runner-up (trial 4) by 1.0 points')
    expect(html).toContain(
      'trial 4 has the best mean over both seeds (84.0 % against 83.0 % validation accuracy)',
    )
    expect(html).toContain('prefer it to the winner')
    expect(html).toContain("<caption>Validation accuracy on the search's quick-score settings</caption>")
    expect(html).toContain('<tr><th>trial 4 (pick)</th><td>84.0 %</td><td>84.0 %</td><td>84.0 %</td></tr>')
  })

  it('says why the re-check was skipped, and has no such section without one', () => {
    const skipped = report({
      status: 'skipped',
      reason: 'the time budget ran out before the candidates were trained again',
      candidates: [],
      noise: null,
      lead: null,
      lucky: false,
      pickedTrialId: null,
    })
    expect(skipped).toContain('<h2>Winner not re-checked</h2>')
    expect(skipped).toContain('the time budget ran out')
    expect(report()).not.toContain('class="seed-check"')
  })
})
