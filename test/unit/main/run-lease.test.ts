import { hostname } from 'node:os'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { LEASE_MS, LEASE_RENEW_MS, isOwnerAlive, openAppDb } from '../../../src/main/db'
import { insertSampleRun, tempDirPerTest } from '../../helpers/db-fixtures'

const tmp = tempDirPerTest()
afterEach(() => {
  vi.useRealTimers()
})

const leaseOf = (db: ReturnType<typeof openAppDb>, id: string): number | null =>
  (db.db.prepare(`SELECT lease_until AS l FROM runs WHERE id = ?`).get(id) as { l: number | null }).l

describe('run lease', () => {
  it('leaves a run of another host alone while its lease lasts, and takes it once the lease ran out', () => {
    // A process on another host: its pid means nothing here, only its lease can say it is alive.
    const owner = { pid: process.pid, host: `${hostname()}-elsewhere` }
    const first = openAppDb(tmp.dir)
    insertSampleRun(first, owner)
    expect(leaseOf(first, 'run1')).toBeGreaterThan(Date.now())
    first.close()

    const second = openAppDb(tmp.dir)
    expect(second.interruptedRunIds).toEqual([])
    expect(second.runs.require('run1').status).toBe('running')
    // The owner stopped renewing: its lease runs out, and the next open takes the run over.
    second.db.prepare(`UPDATE runs SET lease_until = ? WHERE id = 'run1'`).run(Date.now() - 1)
    second.close()
    const third = openAppDb(tmp.dir)
    expect(third.interruptedRunIds).toEqual(['run1'])
    expect(third.runs.require('run1').status).toBe('interrupted')
    third.close()
  })

  it('decides by the process table on this host and by the lease elsewhere', () => {
    const now = 1_000_000
    expect(isOwnerAlive({ pid: process.ppid, host: hostname() }, null, now)).toBe(true)
    expect(isOwnerAlive({ pid: 2 ** 22 + 1, host: hostname() }, now + LEASE_MS, now)).toBe(false)
    expect(isOwnerAlive({ pid: process.pid, host: hostname() }, now + LEASE_MS, now)).toBe(false)
    expect(isOwnerAlive({ pid: 1, host: 'other' }, now + 1, now)).toBe(true)
    expect(isOwnerAlive({ pid: 1, host: 'other' }, now, now)).toBe(false)
    expect(isOwnerAlive({ pid: 1, host: 'other' }, null, now)).toBe(false)
  })

  it("renews the lease of this process's active runs on every heartbeat, and only theirs", () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval', 'Date'] })
    const db = openAppDb(tmp.dir)
    insertSampleRun(db, db.owner)
    const before = leaseOf(db, 'run1')!
    expect(before).toBe(Date.now() + LEASE_MS)
    vi.advanceTimersByTime(LEASE_RENEW_MS)
    expect(leaseOf(db, 'run1')).toBe(before + LEASE_RENEW_MS)
    // A finished run keeps its last lease; a run of another process is not ours to renew.
    db.db.prepare(`UPDATE runs SET status = 'completed' WHERE id = 'run1'`).run()
    vi.advanceTimersByTime(LEASE_RENEW_MS)
    expect(leaseOf(db, 'run1')).toBe(before + LEASE_RENEW_MS)
    db.close()
    // After close the heartbeat is gone (no timer left to write to a closed file).
    expect(vi.getTimerCount()).toBe(0)
  })
})
