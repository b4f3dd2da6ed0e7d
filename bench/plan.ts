/**
 * bench:plan — is the time-first planner honest? For each dataset (the bundled 2,500-image sample and, when
 * Debian's dataset-fashion-mnist is installed, the full 60,000-image Fashion-MNIST), plans a search of
 * --minutes (default 5) with the planner, runs it through `nas-studio search` with exactly the planned
 * settings (one worker, the planned time budget), and compares the plan's estimate with what happened: the
 * run's wall-clock duration, the candidates trained, seconds per candidate (the space's mean, and each trained
 * candidate's own estimate from its architecture against its measured time), final-training epochs, the final
 * model's test accuracy. The plan is made as the app makes it, at the machine's speed of the moment (a few
 * training steps timed just before the run); the same probe runs again after the run, to show how the load
 * moved meanwhile. Writes bench/results/plan.json (--out elsewhere). Options: --minutes M, --datasets
 * sample,fmnist, --seed S, --path DIR (IDX files).
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { openAppDb } from '../src/main/db'
import { echoedCli } from './echoed-cli'
import { loadPresetSpaces } from '../src/engine/space/presets'
import {
  archWork,
  candidateMs,
  DEFAULT_SPEED,
  planRunConfig,
  PLAN_VALIDATION_FRACTION,
  scaleSpeed,
} from '../src/engine/plan'
import { planAtMachineSpeed, probeBatch, typicalCandidate } from '../src/engine/plan/machine-speed'
import { probeSpeed } from '../src/engine/plan/speed-probe'
import type { Dataset } from '../src/shared'
import { describeBundledDataset } from '../src/engine/data/bundled-sample'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const { values } = parseArgs({
  options: {
    minutes: { type: 'string', default: '5' },
    datasets: { type: 'string', default: 'sample,fmnist' },
    seed: { type: 'string', default: '0' },
    path: { type: 'string', default: '/usr/share/datasets/fashion-mnist' },
    out: { type: 'string', default: path.join('bench', 'results', 'plan.json') },
  },
})
const minutes = Number(values.minutes)
const controller = new AbortController()
process.on('SIGINT', () => controller.abort())
const spaces = loadPresetSpaces(path.join(ROOT, 'resources', 'presets')).map((p) => ({
  id: p.key,
  name: p.name,
  preset: true,
  def: p.def,
}))

const cli = (dataDir: string, args: string[]) => echoedCli(dataDir, args, controller.signal)

const ms = (a: string | null, b: string | null): number =>
  a && b ? new Date(b).getTime() - new Date(a).getTime() : 0
const within = (estimate: number, measured: number): number => Math.abs(estimate - measured) / measured

const loadAtStart = os.loadavg()
const results = []
for (const which of values.datasets.split(',')) {
  if (which === 'fmnist' && !existsSync(values.path)) {
    console.log(`Skipping Fashion-MNIST: ${values.path} is missing (apt-get install dataset-fashion-mnist).`)
    continue
  }
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'nas-bench-plan-'))
  try {
    let datasetArg = 'sample'
    if (which === 'fmnist') {
      const imported = await cli(dataDir, ['import', values.path, '--kind', 'idx', '--name', 'Fashion-MNIST'])
      datasetArg = /Dataset (\S+):/.exec(imported.out)?.[1] ?? ''
      if (imported.code !== 0 || !datasetArg) throw new Error(`import of ${values.path} failed`)
    }
    let dataset: Pick<Dataset, 'id' | 'inputShape' | 'classNames' | 'numTrain' | 'numValidation'>
    if (which === 'sample') {
      // the CLI installs the bundled sample when a search opens the data folder; its shape is known already
      dataset = { ...(await describeBundledDataset(path.join(ROOT, 'resources'))), id: 'sample' }
    } else {
      const listDb = openAppDb(dataDir)
      try {
        dataset = listDb.datasets.require(datasetArg)
      } finally {
        listDb.close()
      }
    }
    // as the app plans: at this machine's speed of the moment, timed just before the run starts
    const loadAtPlan = os.loadavg()[0]!
    const { plan, probe } = await planAtMachineSpeed({ data: dataset, minutes, spaces })
    // the chosen space's candidates are costed at the speed timed on them
    const speedFactor = plan.speed ? (plan.speed.spaceFactors[plan.spaceId] ?? plan.speed.factor) : 1
    const speed = scaleSpeed(DEFAULT_SPEED, speedFactor)
    const config = planRunConfig(plan, dataset.inputShape, {
      name: `bench:plan ${which}`,
      datasetId: dataset.id,
      seed: Number(values.seed),
    })
    const settingsFile = path.join(dataDir, 'settings.json')
    const { train, earlyStop, finalTraining, seedCheck } = config
    writeFileSync(
      settingsFile,
      JSON.stringify({ train, earlyStop, finalTraining, ...(seedCheck ? { seedCheck } : {}) }),
    )
    const t0 = performance.now()
    const searched = await cli(dataDir, [
      'search',
      ...['--space', plan.spaceId, '--dataset', datasetArg, '--strategy', plan.strategy],
      ...['--trials', String(plan.maxTrials), '--budget-minutes', String(minutes)],
      ...['--seed', values.seed, '--settings', settingsFile, '--name', config.name],
    ])
    const wallS = (performance.now() - t0) / 1000
    const typical = typicalCandidate({ data: dataset, minutes, spaces }, plan)
    const probeAfter = typical
      ? await probeSpeed(typical, dataset.inputShape, dataset.classNames.length, {
          batchSize: probeBatch(typical, dataset.inputShape),
        })
      : null
    const db = openAppDb(dataDir)
    try {
      const run = db.runs.list().find((r) => r.config.name === config.name)!
      const trials = db.trials.listByRun(run.id)
      const search = trials.filter((t) => !t.isFinal && t.status === 'completed')
      const final = trials.find((t) => t.isFinal) ?? null
      const candidateS =
        search.reduce((s, t) => s + ms(t.startedAt, t.finishedAt), 0) / Math.max(1, search.length) / 1000
      const runS = ms(run.startedAt, run.finishedAt) / 1000
      // each trained candidate's own estimate (its architecture's work on the planned data share) and its time
      const val =
        (dataset.numValidation ?? 0) > 0
          ? dataset.numValidation!
          : Math.round(dataset.numTrain * PLAN_VALIDATION_FRACTION)
      const train = Math.round((dataset.numTrain + (dataset.numValidation ?? 0) - val) * plan.dataFraction)
      const perCandidate = search.map((t) => ({
        params: t.params,
        estimatedSeconds: Number(
          (
            candidateMs(
              {
                work: archWork(t.architecture, dataset.inputShape),
                trainSamples: train,
                valSamples: val,
                epochs: plan.epochs,
              },
              speed,
            ) / 1000
          ).toFixed(1),
        ),
        measuredSeconds: Number((ms(t.startedAt, t.finishedAt) / 1000).toFixed(1)),
      }))
      const cancelled = trials.filter((t) => !t.isFinal && t.status !== 'completed').length
      const estimateS = plan.estimate.totalMinutes * 60
      results.push({
        dataset: which,
        samples: dataset.numTrain,
        exitCode: searched.code,
        plan: {
          space: plan.spaceId,
          strategy: plan.strategy,
          epochs: plan.epochs,
          dataFraction: plan.dataFraction,
          finalShare: plan.finalShare,
          // the factor the chosen space's candidates were costed with, and every factor timed
          speedFactor: Number(speedFactor.toFixed(3)),
          speed: plan.speed ?? null,
          probe: probe && {
            stepMs: Number(probe.stepMs.toFixed(2)),
            expectedStepMs: Number(probe.expectedStepMs.toFixed(2)),
            steps: probe.steps,
            probeMs: Math.round(probe.probeMs),
          },
          loadAverageAtPlan: Number(loadAtPlan.toFixed(2)),
          // the same probe after the run: how far the machine's speed moved while it ran
          speedFactorAfterRun: probeAfter && Number(probeAfter.factor.toFixed(3)),
          estimate: plan.estimate,
        },
        measured: {
          runSeconds: Math.round(runS),
          wallSecondsWithStartup: Math.round(wallS),
          candidates: search.length,
          cancelledCandidates: cancelled,
          candidateSeconds: Number(candidateS.toFixed(2)),
          perCandidate,
          finalEpochs: final?.proxy?.epochs ?? config.finalTraining?.epochs ?? 0,
          finalSeconds: Math.round(ms(final?.startedAt ?? null, final?.finishedAt ?? null) / 1000),
          finalStatus: final?.status ?? null,
          seedCheck: run.seedCheck?.status ?? null,
          finalTestAccuracy: final?.testAccuracy ?? null,
        },
        durationErrorShare: Number(within(estimateS, runS).toFixed(3)),
        endedWithinTenPercentOfTime: Math.abs(runS - minutes * 60) <= minutes * 6,
        candidateSecondsErrorShare: Number(within(plan.estimate.candidateSeconds, candidateS).toFixed(3)),
        // both count new candidates: the seed re-check's retrainings are not stored as trials
        candidatesErrorShare: Number(within(plan.estimate.candidates, Math.max(1, search.length)).toFixed(3)),
      })
    } finally {
      db.close()
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true })
  }
}

const output = {
  command: `npm run bench:plan -- --minutes ${minutes} --datasets ${values.datasets}`,
  date: new Date().toISOString(),
  machine: `${os.cpus()[0]?.model ?? 'cpu'} x ${os.availableParallelism()}, load average (1, 5, 15 min) at start ${loadAtStart
    .map((l) => l.toFixed(2))
    .join(' ')}, at end ${os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}`,
  minutes,
  results,
}
console.log(
  '\n| data | space | data share | speed factor | estimate | measured run | error | candidates est./run | s per candidate est./run | final test accuracy |',
)
console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |')
for (const r of results) {
  console.log(
    `| ${r.dataset} | ${r.plan.space} | ${r.plan.dataFraction} | ${r.plan.speedFactor.toFixed(2)} | ${(r.plan.estimate.totalMinutes * 60).toFixed(0)} s | ${r.measured.runSeconds} s | ${(r.durationErrorShare * 100).toFixed(1)}% | ${r.plan.estimate.candidates} / ${r.measured.candidates} | ${r.plan.estimate.candidateSeconds.toFixed(1)} / ${r.measured.candidateSeconds} | ${r.measured.finalTestAccuracy?.toFixed(3) ?? '-'} |`,
  )
}
mkdirSync(path.dirname(values.out), { recursive: true })
writeFileSync(values.out, `${JSON.stringify(output, null, 2)}\n`)
console.log(`Wrote ${values.out}`)
