/**
 * bench:workers — trial throughput (trials per minute) through a Redis queue (BullMQ) with 1, 2 and 3 local
 * `nas-studio worker` processes (one trial at a time each). Starts Debian's redis-server on a free port of
 * 127.0.0.1 with a temporary folder, trains the same random quick-mlp candidates (1 epoch on the bundled
 * Fashion-MNIST sample) for every worker count after one untimed warm-up trial per worker, prints a table and
 * JSON, and writes bench/results/workers.json. The counts are measured in turn, `--rounds` times (so a load
 * change on the shared machine hits every count alike); the summary is the median per count. Options:
 * --trials N (timed trials per count and round, default 12), --workers 1,2,3, --rounds R (default 2),
 * --save-models (each trial's model comes back through Redis into a folder here, as in the app).
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import type { Dataset } from '../src/shared'
import { describeBundledDataset } from '../src/engine/data/bundled-sample'
import { createQueueRunner } from '../src/engine/execution/queue/runner'
import type { TrialJob } from '../src/engine/execution/types'
import { loadPresetSpaces } from '../src/engine/space/presets'
import { createStrategy } from '../src/engine/strategy'
import { hasRedis, REDIS_SERVER, startRedis } from '../test/helpers/redis'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const { values: args } = parseArgs({
  options: {
    trials: { type: 'string', default: '12' },
    workers: { type: 'string', default: '1,2,3' },
    rounds: { type: 'string', default: '2' },
    'save-models': { type: 'boolean', default: false },
  },
})

interface Row {
  round: number
  workers: number
  trials: number
  seconds: number
  trialsPerMin: number
  speedupVs1: number
  loadAvgStart: number
  loadAvgEnd: number
}

function startWorker(url: string, dataDir: string): ChildProcess {
  return spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      path.join(ROOT, 'src/main/cli.ts'),
      'worker',
      '--redis',
      url,
      '--concurrency',
      '1',
      '--data-dir',
      dataDir,
    ],
    { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] },
  )
}

async function main(): Promise<void> {
  if (!hasRedis) {
    console.error(`bench:workers needs ${REDIS_SERVER} (apt-get install redis-server)`)
    process.exit(1)
  }
  const trials = Number(args.trials)
  const counts = args.workers.split(',').map(Number)
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'nas-bench-workers-'))
  const redis = await startRedis(path.join(tmp, 'redis'), 'bench-password')
  const dataset: Dataset = {
    ...(await describeBundledDataset(path.join(ROOT, 'resources'))),
    id: 'ds',
    createdAt: new Date().toISOString(),
  }
  const space = loadPresetSpaces(path.join(ROOT, 'resources', 'presets')).find(
    (p) => p.key === 'quick-mlp',
  )!.def
  const strategy = createStrategy('random', {
    space,
    inputShape: dataset.inputShape,
    numClasses: 10,
    seed: 3,
  })
  const archs = Array.from({ length: trials }, () => strategy.propose().architecture)
  const train = { epochs: 1, batchSize: 64, learningRate: 0.001, validationFraction: 0.1 }
  const rows: Row[] = []
  let serial = 0
  const rounds = Number(args.rounds)
  try {
    for (let round = 1; round <= rounds; round++)
      for (const count of counts) {
        const children = Array.from({ length: count }, (_, i) => {
          const dir = path.join(tmp, `w${count}-${i}`)
          mkdirSync(dir, { recursive: true })
          return startWorker(redis.url, dir)
        })
        const runner = createQueueRunner({ url: redis.url })
        try {
          const until = Date.now() + 120_000
          while ((await runner.workers()).length < count) {
            if (Date.now() > until)
              throw new Error(`only ${(await runner.workers()).length} of ${count} workers started`)
            await new Promise((r) => setTimeout(r, 200))
          }
          const job = (i: number, arch = archs[i % archs.length]!): TrialJob => ({
            trialId: `b${serial++}`,
            runId: 'bench',
            architecture: arch,
            dataset,
            train,
            seed: i,
            ...(args['save-models'] ? { modelDir: path.join(tmp, 'models', `b${serial - 1}`) } : {}),
          })
          // warm-up: one trial per worker starts its trial thread and loads the data
          await Promise.all(Array.from({ length: count }, (_, i) => runner.run(job(i), () => {})))
          const loadAvgStart = os.loadavg()[0]!
          const t0 = performance.now()
          await Promise.all(archs.map((a, i) => runner.run(job(i, a), () => {})))
          const seconds = (performance.now() - t0) / 1000
          const row: Row = {
            round,
            workers: count,
            trials,
            seconds: Number(seconds.toFixed(2)),
            trialsPerMin: Number(((trials * 60) / seconds).toFixed(1)),
            speedupVs1: 1,
            loadAvgStart: Number(loadAvgStart.toFixed(2)),
            loadAvgEnd: Number(os.loadavg()[0]!.toFixed(2)),
          }
          rows.push(row)
          console.error(
            `round ${round}, ${count} worker(s): ${row.trialsPerMin} trials/min (${row.seconds} s)`,
          )
        } finally {
          await runner.close()
          for (const c of children) c.kill('SIGTERM')
          await Promise.all(
            children.map((c) => new Promise((r) => (c.exitCode !== null ? r(null) : c.once('exit', r)))),
          )
        }
      }
  } finally {
    await redis.stop()
    rmSync(tmp, { recursive: true, force: true })
  }
  // speedups within a round: both figures met the same load
  for (const r of rows) {
    const base = rows.find((b) => b.round === r.round && b.workers === 1)?.trialsPerMin
    if (base) r.speedupVs1 = Number((r.trialsPerMin / base).toFixed(2))
  }
  const median = (xs: number[]): number => {
    const s = [...xs].sort((a, b) => a - b)
    const m = Math.floor(s.length / 2)
    return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2
  }
  const summary = counts.map((count) => {
    const mine = rows.filter((r) => r.workers === count)
    return {
      workers: count,
      medianTrialsPerMin: Number(median(mine.map((r) => r.trialsPerMin)).toFixed(1)),
      medianSpeedupVs1: Number(median(mine.map((r) => r.speedupVs1)).toFixed(2)),
    }
  })
  console.log('| round | workers | trials | seconds | trials/min | vs 1 worker | load avg (start-end) |')
  console.log('| ----: | ------: | -----: | ------: | ---------: | ----------: | -------------------: |')
  for (const r of rows)
    console.log(
      `| ${r.round} | ${r.workers} | ${r.trials} | ${r.seconds} | ${r.trialsPerMin} | ${r.speedupVs1}x | ${r.loadAvgStart}-${r.loadAvgEnd} |`,
    )
  for (const s of summary)
    console.log(`median, ${s.workers} worker(s): ${s.medianTrialsPerMin} trials/min, ${s.medianSpeedupVs1}x`)
  const result = {
    benchmark: 'workers',
    date: new Date().toISOString(),
    machine: { cpus: os.cpus().length, cpu: os.cpus()[0]?.model ?? 'unknown', node: process.version },
    setup:
      'quick-mlp random candidates, 1 epoch on the bundled Fashion-MNIST sample (2,250 train images), batch 64; workers are `nas-studio worker --concurrency 1` processes on this machine, fed through redis-server on 127.0.0.1',
    summary,
    rows,
  }
  console.log(JSON.stringify(result, null, 2))
  mkdirSync(path.join(ROOT, 'bench', 'results'), { recursive: true })
  writeFileSync(path.join(ROOT, 'bench', 'results', 'workers.json'), `${JSON.stringify(result, null, 2)}\n`)
  process.exit(0)
}

void main()
