import { describe, expect, it } from 'vitest'
import { openAppDb } from '../../../src/main/db'
import type { Run } from '../../../src/shared'
import { insertSampleRun, now, run as baseRun, sampleTrial, tempDirPerTest } from '../../helpers/db-fixtures'

const run: Run = {
  ...baseRun,
  config: { ...baseRun.config, zeroCost: { proxy: 'naswot', candidates: 20, keep: 2 } },
}

const tmp = tempDirPerTest()

describe('zero-cost scores in the database (migration 7)', () => {
  it('keeps the run setting and each trial score through insert, update and a reopen', () => {
    const db = openAppDb(tmp.dir)
    insertSampleRun(db, { pid: process.pid, host: 'here' }, run)
    const scored = sampleTrial(0, { zeroCostScore: 512.25 })
    const plain = sampleTrial(1)
    db.store.insertTrial(scored)
    db.store.insertTrial(plain)
    const done = { ...scored, status: 'completed' as const, valAccuracy: 0.5, finishedAt: now }
    db.store.updateTrial(done)
    db.close()
    const again = openAppDb(tmp.dir, { isOwnerAlive: () => true })
    expect(again.runs.get('run1')?.config.zeroCost).toEqual({ proxy: 'naswot', candidates: 20, keep: 2 })
    const [a, b] = again.trials.listByRun('run1')
    expect(a).toEqual(done)
    expect(a!.zeroCostScore).toBe(512.25)
    // a trial that was not pre-ranked has no score field at all
    expect(b).toEqual(plain)
    expect('zeroCostScore' in b!).toBe(false)
    again.close()
  })
})
