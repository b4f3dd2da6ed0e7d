import { readdirSync, rmSync, statSync } from 'node:fs'
import { join } from 'node:path'

/** A temporary model folder (saveTrainedModel writes `<trial>.tmp-<pid>-<time>`, then renames it). */
const TEMP = /\.tmp-(\d+)-\d+$/
/** A data-parallel rank's copy of a final training's model (only rank 0 keeps one). */
const RANK_COPY = /-rank\d+$/

/** True when a process with this pid runs on this machine. */
function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/**
 * Removes what stopped saves left in `<dataDir>/models`: temporary folders of a process that no longer runs
 * (a crash between writing and renaming) and rank copies of data-parallel final trainings. A temporary
 * folder younger than `minAgeMs` is kept even so: its writer may be a process on another machine sharing
 * the folder. Returns the names it removed; a folder it cannot read or remove is left alone.
 */
export function removeModelLeftovers(
  modelsRoot: string,
  opts: { isAlive?: (pid: number) => boolean; nowMs?: number; minAgeMs?: number } = {},
): string[] {
  const isAlive = opts.isAlive ?? pidAlive
  const now = opts.nowMs ?? Date.now()
  const minAge = opts.minAgeMs ?? 60_000
  let names: string[]
  try {
    names = readdirSync(modelsRoot)
  } catch {
    return []
  }
  const removed: string[] = []
  for (const name of names) {
    const temp = TEMP.exec(name)
    const path = join(modelsRoot, name)
    try {
      if (temp) {
        const pid = Number(temp[1])
        if (pid === process.pid || isAlive(pid) || now - statSync(path).mtimeMs < minAge) continue
      } else if (!RANK_COPY.test(name)) continue
      rmSync(path, { recursive: true, force: true })
      removed.push(name)
    } catch {
      // another process removed or holds it: nothing to clean
    }
  }
  return removed
}
