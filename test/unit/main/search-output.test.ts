import { describe, expect, it } from 'vitest'
import type { Run, Trial } from '../../../src/shared'
import { formatFinalEpoch, SearchPrinter, searchSummary } from '../../../src/main/cli/search-output'
import { makeRun } from '../../helpers/scheduler-fixtures'

const arch: Trial['architecture'] = {
  version: 1,
  nodes: [
    { id: 'in', op: 'input' },
    { id: 'f', op: 'flatten' },
    { id: 'out', op: 'dense', units: 3, activation: 'softmax' },
  ],
  edges: [
    ['in', 'f'],
    ['f', 'out'],
  ],
  output: 'out',
}

function run(over: Partial<Run> = {}): Run {
  const config = { maxTrials: 2, seed: 0, finalTraining: { epochs: 4 } }
  const train = { epochs: 3, batchSize: 8, dataFraction: 0.1 }
  return { ...makeRun({ ...config, train }), status: 'running', ...over }
}

const trial = (index: number, over: Partial<Trial> = {}): Trial => ({
  id: `r-t${index}`,
  runId: 'r',
  index,
  status: 'completed',
  architecture: arch,
  archHash: 'h',
  params: 100,
  valAccuracy: 0.5,
  valLoss: 1,
  trainTimeMs: 1000,
  error: null,
  startedAt: null,
  finishedAt: null,
  ...over,
})

describe('what nas-studio search prints', () => {
  it('numbers trials as stored, counts results within the budget, prints the final training as such and warns once', () => {
    let out = ''
    const p = new SearchPrinter((t) => (out += t), run())
    // a cancelled trial takes a number but is no result; a resumed or long run may number past the budget
    p.onEvent({ event: 'trial.updated', payload: trial(0, { status: 'cancelled' }) })
    p.onEvent({ event: 'trial.updated', payload: trial(1) })
    p.onEvent({ event: 'trial.updated', payload: trial(2, { status: 'failed', error: 'boom' }) })
    p.onEvent({ event: 'trial.updated', payload: trial(3) })
    const warning = 'The search cannot tell candidates apart'
    p.onEvent({ event: 'run.updated', payload: run({ signalWarning: warning }) })
    p.onEvent({ event: 'run.updated', payload: run({ signalWarning: warning }) })
    const final = trial(4, { isFinal: true, status: 'running', valAccuracy: null })
    p.onEvent({ event: 'trial.updated', payload: final })
    p.onEvent({
      event: 'trial.epoch',
      payload: {
        trialId: final.id,
        runId: 'r',
        epoch: 1,
        loss: 0.9,
        accuracy: 0.7,
        valLoss: 0.9,
        valAccuracy: 0.7,
        timeMs: 30_000,
      },
    })
    p.onEvent({
      event: 'trial.updated',
      payload: { ...final, status: 'completed', valAccuracy: 0.93, testAccuracy: 0.88 },
    })
    const lines = out.trim().split('\n')
    expect(lines[0]).toMatch(/^trial 2 +\[1\/2\] +completed +val_acc 0\.5000/)
    expect(lines[1]).toMatch(/^trial 3 +\[2\/2\] +failed +boom/)
    expect(lines[2]).toMatch(/^trial 4 +\[2\/2\] +completed/)
    expect(out.match(/Warning: The search cannot tell candidates apart/g)).toHaveLength(1)
    expect(out).toMatch(/Final training of the winner \(retrained on train \+ validation\)/)
    expect(out).toMatch(/final training epoch 1\/4 +loss 0\.9000 +train_acc 0\.7000 +about 1\.5 min left/)
    expect(out).toMatch(/final model +completed +test_acc 0\.8800 +train_acc\(last epoch\) 0\.9300/)
    expect(out).not.toMatch(/val_acc 0\.93/)
  })

  it("counts a time-limited final training's epochs as the training re-planned them, not as set", () => {
    const e = { epoch: 3, loss: 0.5, accuracy: 0.8, timeMs: 60_000 }
    expect(formatFinalEpoch({ ...e, epochs: 5 }, 750)).toMatch(/epoch 3\/5 .* about 2\.0 min left/)
    expect(formatFinalEpoch(e, 4)).toMatch(/epoch 3\/4 .* about 1\.0 min left/)
  })

  it('names the best candidate by what its score measured, and says when there is no final model', () => {
    const done = run({ status: 'completed', trialsCompleted: 2, signalWarning: 'Scores are noise' })
    const best = trial(1, { valAccuracy: 0.61 })
    expect(searchSummary(done, best, null)).toBe(
      'Best candidate: trial 2, quick score: 3 epochs on 10% of the data (validation split) 0.6100, 100 params (run completed: 2 completed, 0 failed)\n' +
        'No final training: the best candidate was trained for the search only (add "finalTraining" to --settings).\n' +
        'Warning: Scores are noise\n',
    )
  })
})
