import { spawn, type ChildProcess } from 'node:child_process'
import { join } from 'node:path'
import * as engine from '../../src/engine'
import { findAppRoot } from '../../src/main/paths'
import type { Dataset } from '../../src/shared'
import type { TrialFaults } from './trial-faults'

const ROOT = findAppRoot()
const RESOURCES = join(ROOT, 'resources')

/**
 * A `nas-studio worker` process run from source (tsx), with short locks so a dead worker is noticed fast.
 * With `inject` (another protocol version, trial faults) it runs the same worker command through
 * queue-worker-process.ts, since no command-line option reaches those.
 */
export function startWorker(
  url: string,
  dataDir: string,
  env: NodeJS.ProcessEnv = {},
  inject?: { protocol?: number; faults?: TrialFaults },
): ChildProcess {
  const values = { redis: url, concurrency: '1', 'lock-seconds': '3' }
  const args = inject
    ? [join(ROOT, 'test/helpers/queue-worker-process.ts'), JSON.stringify({ dataDir, values, ...inject })]
    : [
        join(ROOT, 'src/main/cli.ts'),
        'worker',
        ...Object.entries(values).flatMap(([k, v]) => [`--${k}`, v]),
        '--data-dir',
        dataDir,
      ]
  const child = spawn(process.execPath, ['--import', 'tsx', ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let out = ''
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()))
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()))
  Object.defineProperty(child, 'output', { get: () => out })
  return child
}

/** Everything a startWorker process printed so far (stdout and stderr). */
export const outputOf = (c: ChildProcess): string => (c as ChildProcess & { output: string }).output

/** Polls `f` every 100 ms until it returns something truthy; throws naming `what` after `ms`. */
export async function waitFor<T>(
  what: string,
  f: () => Promise<T | null | undefined | false>,
  ms = 60_000,
): Promise<T> {
  const until = Date.now() + ms
  for (;;) {
    const v = await f()
    if (v) return v
    if (Date.now() > until) throw new Error(`Timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 100))
  }
}

/**
 * The bundled dataset described from `resourcesDir` (as record `id`) and a random strategy (`seed`) over the
 * quick-mlp preset space for it: where a test sends trials straight to the queue runner.
 */
export async function quickMlpSearch(
  resourcesDir: string,
  id: string,
  seed: number,
): Promise<{ dataset: Dataset; strategy: ReturnType<typeof engine.createStrategy> }> {
  const described = await engine.describeBundledDataset(resourcesDir)
  const dataset: Dataset = { ...described, id, createdAt: '2026-01-01T00:00:00.000Z' }
  const space = engine.loadPresetSpaces(join(RESOURCES, 'presets')).find((p) => p.key === 'quick-mlp')!.def
  const strategy = engine.createStrategy('random', {
    space,
    inputShape: dataset.inputShape,
    numClasses: 10,
    seed,
  })
  return { dataset, strategy }
}
