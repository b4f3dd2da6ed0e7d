import { pathToFileURL } from 'node:url'
import type { TrialHooks, TrialHooksModule, TrialJob } from '../../src/engine/execution/types'
import { loseDeviceForTest } from '../../src/engine/compute/webgpu'

/** Which trial (by id) meets which fault inside its trial worker. */
export interface TrialFaults {
  /** The worker exits with code 3 when this trial starts (a crash mid-trial). */
  crash?: string
  /** This trial fills the worker's heap until its limit (the pool's memoryLimitMb) ends it. */
  outOfMemory?: string
  /** The GPU device is destroyed just before this trial trains, as a driver reset would. */
  loseGpu?: string
  /** Every trial waits this long before it trains, so a test can stop its worker while it is mid-trial. */
  holdMs?: number
}

/** The pool option that makes every worker of the pool meet `faults`: createWorkerPool({ hooks: ... }). */
export function trialFaults(faults: TrialFaults): TrialHooksModule {
  return { module: pathToFileURL(import.meta.filename).href, data: faults }
}

/** Imported by the trial worker itself (see TrialHooksModule). */
export function createTrialHooks(data: unknown): TrialHooks {
  const faults = data as TrialFaults
  return {
    async beforeTrial(job: TrialJob): Promise<void> {
      if (faults.holdMs) await new Promise((r) => setTimeout(r, faults.holdMs))
      if (job.trialId === faults.crash) process.exit(3)
      if (job.trialId === faults.outOfMemory) {
        const hog: number[][] = []
        for (;;) hog.push(new Array<number>(1 << 20).fill(hog.length + 0.5))
      }
      if (job.trialId === faults.loseGpu) loseDeviceForTest()
    },
  }
}
