import { mkdirSync, utimesSync, writeFileSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { withModelSaving } from '../../../src/engine/export'
import type { TrialJob, TrialOutcome, TrialRunner } from '../../../src/engine/execution/types'
import { SearchPrinter } from '../../../src/main/cli/search-output'
import { removeModelLeftovers } from '../../../src/main/services/model-leftovers'
import type { Run } from '../../../src/shared'
import { run as sampleRun, sampleTrial, tempDirPerTest } from '../../helpers/db-fixtures'

const tmp = tempDirPerTest()

describe('leftovers', () => {
  it("removes a crashed save's temporary model folder and rank copies, but not a live writer's or a model", () => {
    const models = join(tmp.dir, 'models')
    const dead = 2 ** 22 + 1
    const old = (Date.now() - 3_600_000) / 1000
    const make = (name: string, age = old): void => {
      mkdirSync(join(models, name), { recursive: true })
      utimesSync(join(models, name), age, age)
    }
    make('trial-a') // a saved model
    writeFileSync(join(models, 'trial-a', 'model.json'), '{}')
    make(`trial-b.tmp-${dead}-1700000000000`) // the crash leftover
    make(`trial-c.tmp-${process.ppid}-1700000000000`) // a live process is still writing it
    make(`trial-d.tmp-${dead}-1700000000001`, Date.now() / 1000) // just written, maybe by another machine
    make('trial-e-rank1') // a data-parallel rank's copy
    const removed = removeModelLeftovers(models)
    expect(removed.sort()).toEqual([`trial-b.tmp-${dead}-1700000000000`, 'trial-e-rank1'])
    expect(readdirSync(models).sort()).toEqual([
      'trial-a',
      `trial-c.tmp-${process.ppid}-1700000000000`,
      `trial-d.tmp-${dead}-1700000000001`,
    ])
    expect(removeModelLeftovers(join(tmp.dir, 'none'))).toEqual([])
  })

  it('saves the model of a data-parallel final training once, from rank 0 only', async () => {
    const seen: Array<Pick<TrialJob, 'trialId' | 'modelDir'>> = []
    const outcome: TrialOutcome = { valAccuracy: 0.5, valLoss: 1, params: 10, trainTimeMs: 5 }
    const inner: TrialRunner = {
      run: async (job) => {
        seen.push({ trialId: job.trialId, modelDir: job.modelDir })
        return outcome
      },
      backend: () => ({ name: 'cpu', device: 'cpu', detail: '' }) as never,
      close: async () => {},
    }
    const saving = withModelSaving(
      inner,
      (id) => `/data/models/${id}`,
      () => {},
    )
    const base = { runId: 'r', architecture: {}, dataset: {}, train: {}, seed: 1 } as unknown as TrialJob
    const group = (rank: number) => ({ rank, size: 2, buffer: new SharedArrayBuffer(8) }) as never
    await Promise.all([
      saving.run({ ...base, trialId: 't', dataParallel: group(0) }, () => {}),
      saving.run({ ...base, trialId: 't-rank1', dataParallel: group(1) }, () => {}),
      saving.run({ ...base, trialId: 'plain' }, () => {}),
    ])
    expect(seen).toEqual([
      { trialId: 't', modelDir: '/data/models/t' },
      { trialId: 't-rank1', modelDir: undefined },
      { trialId: 'plain', modelDir: '/data/models/plain' },
    ])
  })

  it('never prints a trial count beyond the budget, nor the cancelled trials a resume trains again', () => {
    const lines: string[] = []
    const run: Run = {
      ...sampleRun,
      config: { ...sampleRun.config, maxTrials: 40 },
      trialsCompleted: 39,
      trialsFailed: 0,
    }
    const printer = new SearchPrinter((t) => lines.push(t), run)
    const event = (index: number, status: 'cancelled' | 'completed') => ({
      event: 'trial.updated' as const,
      payload: sampleTrial(index, { id: `t${index}`, runId: run.id, status, valAccuracy: 0.5, valLoss: 1 }),
    })
    printer.onEvent(event(44, 'cancelled'))
    printer.onEvent(event(46, 'completed'))
    printer.onEvent(event(47, 'completed'))
    expect(lines).toHaveLength(2)
    for (const line of lines) {
      expect(line).not.toMatch(/\b(4[1-9]|[5-9]\d)\/40\b/)
      expect(line).not.toMatch(/cancelled/)
    }
    expect(lines.join('')).toMatch(/\[40\/40\]/)
  })
})
