/**
 * bench:ui — is the app responsive while trials train? Starts the real services and the web server on a temp
 * data folder, starts a search whose trials train in worker threads (one per core), and meanwhile calls the
 * contract over HTTP (app.info and runs.list alternately, back to back with a 10 ms pause) and records each
 * call's latency. Prints p50/p95/p99/max while idle and while training; writes bench/results/ui.json.
 * Options: --space KEY (default small-cnn), --strategy NAME (default random; darts / pc-darts measure from the
 * start, while the weight-sharing network trains), --trials N (default 40), --seconds S (measuring window,
 * default 20).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { silentLogger } from '../src/engine/ports'
import { openAppCore } from '../src/main/app'
import { startWebServer } from '../src/main/server'
import type { Run } from '../src/shared'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')

const { values: args } = parseArgs({
  options: {
    space: { type: 'string', default: 'small-cnn' },
    strategy: { type: 'string', default: 'random' },
    trials: { type: 'string', default: '40' },
    seconds: { type: 'string', default: '20' },
  },
})

interface Latency {
  calls: number
  p50: number
  p95: number
  p99: number
  max: number
}

function summarise(ms: number[]): Latency {
  const s = [...ms].sort((a, b) => a - b)
  const q = (p: number): number => s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)] ?? NaN
  return { calls: s.length, p50: q(50), p95: q(95), p99: q(99), max: s.at(-1) ?? NaN }
}

async function main(): Promise<void> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'nas-bench-ui-'))
  const workers = os.availableParallelism()
  const core = await openAppCore({
    dataDir,
    mode: 'web',
    modeReason: 'bench:ui',
    logger: silentLogger,
    poolSize: workers,
  })
  const server = await startWebServer({
    handlers: core.services.handlers,
    events: core.services.events,
    port: 0,
    rendererDir: core.paths.rendererDir,
  })
  const base = new URL(server.url)
  const call = async <T>(method: string, body: unknown = {}): Promise<{ data: T; ms: number }> => {
    const t0 = performance.now()
    const res = await fetch(`${base.origin}/api/${method}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${server.token}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    })
    const json = (await res.json()) as { ok: boolean; data: T; error?: { message: string } }
    const ms = performance.now() - t0
    if (!json.ok) throw new Error(`${method}: ${json.error?.message}`)
    return { data: json.data, ms }
  }
  // a call that fails (the connection reset while the server did not answer) counts with the time it took
  let failedCalls = 0
  const sample = async (seconds: number, stop: () => boolean = () => false): Promise<number[]> => {
    const out: number[] = []
    const end = performance.now() + seconds * 1000
    for (let i = 0; performance.now() < end && !stop(); i++) {
      const t0 = performance.now()
      try {
        out.push((await call(i % 2 === 0 ? 'app.info' : 'runs.list')).ms)
      } catch {
        failedCalls++
        out.push(performance.now() - t0)
      }
      await new Promise((r) => setTimeout(r, 10))
    }
    return out
  }
  try {
    const info = (await call<{ backend: { name: string; device: string } }>('app.info')).data
    const idle = summarise(await sample(3))
    const spaces = (await call<Array<{ id: string; name: string }>>('spaces.list')).data
    const space = spaces.find((s) => s.id === `preset-${args.space}`) ?? spaces[0]!
    const dataset = (await call<Array<{ id: string; source: string }>>('datasets.list')).data.find(
      (d) => d.source === 'bundled',
    )!
    const run = (
      await call<Run>('runs.start', {
        name: 'bench:ui',
        datasetId: dataset.id,
        spaceId: space.id,
        strategy: args.strategy,
        maxTrials: Number(args.trials),
        concurrency: workers,
        seed: 1,
        train: { epochs: 3, batchSize: 64, learningRate: 0.001, validationFraction: 0.2 },
      })
    ).data
    let finished = false
    let trainingStarted = false
    const stopEvents = core.services.events((m) => {
      if (m.event === 'trial.epoch' || (m.event === 'trial.updated' && m.payload.status === 'running'))
        trainingStarted = true
      if (m.event === 'run.updated' && m.payload.id === run.id && m.payload.finishedAt !== null)
        finished = true
    })
    // measure only while trials really train: wait for the first one to start in a worker (a one-shot search
    // trains its weight-sharing network from the start)
    const oneShot = args.strategy === 'darts' || args.strategy === 'pc-darts'
    while (!oneShot && !trainingStarted && !finished) await new Promise((r) => setTimeout(r, 50))
    const windowStart = performance.now()
    const training = summarise(await sample(Number(args.seconds), () => finished))
    const windowSeconds = (performance.now() - windowStart) / 1000
    const final = (await call<Run>('runs.get', { runId: run.id })).data
    stopEvents()
    if (!finished) await call('runs.cancel', { runId: run.id })
    const result = {
      date: new Date().toISOString(),
      backend: info.backend,
      workers,
      space: space.name,
      windowSeconds,
      runStillTrainingAtEnd: !finished,
      trialsCompletedAtEnd: final.trialsCompleted,
      strategy: args.strategy,
      idle,
      training,
      failedCalls,
      target: { p99BelowMs: 100, met: training.p99 < 100 && failedCalls === 0 },
    }
    const row = (name: string, l: Latency): string =>
      `| ${name} | ${l.calls} | ${l.p50.toFixed(1)} | ${l.p95.toFixed(1)} | ${l.p99.toFixed(1)} | ${l.max.toFixed(1)} |`
    console.log(
      `Contract-call latency over HTTP (app.info / runs.list), ${workers} training workers, ${info.backend.name} on ${info.backend.device}`,
    )
    console.log('| phase | calls | p50 ms | p95 ms | p99 ms | max ms |\n|---|---:|---:|---:|---:|---:|')
    console.log(row('idle', idle))
    console.log(row('training', training))
    if (failedCalls > 0)
      console.log(`\n${failedCalls} calls failed (connection reset): counted with their time`)
    console.log(`\n${JSON.stringify(result, null, 2)}`)
    mkdirSync(path.join(ROOT, 'bench', 'results'), { recursive: true })
    writeFileSync(path.join(ROOT, 'bench', 'results', 'ui.json'), `${JSON.stringify(result, null, 2)}\n`)
  } finally {
    await server.close()
    await core.close()
    rmSync(dataDir, { recursive: true, force: true })
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err)
    process.exit(1)
  },
)
