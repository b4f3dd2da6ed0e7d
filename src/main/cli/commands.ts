import { existsSync, readFileSync } from 'node:fs'
import { basename, join } from 'node:path'
import { randomUUID } from 'node:crypto'
import { parseArgs, type ParseArgsConfig } from 'node:util'
import {
  STRATEGIES,
  runConfigSchema,
  searchSpaceDefSchema,
  webBanner,
  type RunConfig,
  type SearchSpace,
  type StrategyName,
} from '../../shared'
import { openAppCore, type AppCore } from '../app'
import { openAppDb } from '../db'
import { createConsoleLogger } from '../logger'
import { defaultDataDir } from '../paths'
import { dispatch } from '../services'
import { startWebServer } from '../server'
import { benchNb201, NB201_STRATEGIES } from './bench-command'
import { formatRunsTable, formatTrialLine } from './format'
import { importCommand } from './import-command'
import { EXPORT_USAGE, exportCommand } from './export-command'
import { RESUME_USAGE, resumeCommand } from './resume-command'
import { WORKER_USAGE, workerCommand } from './worker-command'
import { EXIT, UsageError, type CliIo } from './io'

/** The help text. */
export const USAGE = `Usage: nas-studio <command> [options]

Commands:
  search   Run a neural architecture search from the command line
             --space <preset key | file.json>  search space (required), e.g. quick-mlp
             --dataset <sample | dataset id>   data to search on (default: sample)
             --strategy NAME   how candidates are chosen (default: random): ${STRATEGIES.join(', ')}
             --trials N        candidates to train (default: 10)
             --budget-minutes M  stop after M minutes even if not all candidates were trained
             --max-params P    never train a candidate with more than P weights
             --seed S          random seed; the same seed gives the same search (default: 0)
             --epochs E        training epochs per candidate (default: 1)
             --concurrency C   candidates trained at once (default: 1)
             --batch-size B    training batch size (default: 64)
             --name NAME       run name (default: "CLI search <space>")
             --settings FILE   JSON of further run settings merged over these options: "train" (recipe
                               and proxies), "earlyStop", "finalTraining", "objectives" (see README)
             --backend B       compute backend: tensorflow, wasm or cpu (default: the fastest that works;
                               same as the NAS_BACKEND environment variable)
  import   Import a dataset: nas-studio import <folder or file> [options]
             --kind K          images (a folder of class folders), csv or idx (default: detected)
             --label-column C  CSV label column, by name or 1-based number (default: the last)
             --input-size N    images are resized to N x N pixels (default: 32; IDX keeps its size)
             --test-fraction F share of each class held out for testing when the data has no test split
                               (default: 0.15)
             --seed S          seed of that split (default: 0)
             --name NAME       name shown in lists (default: the folder or file name)
  runs     List the runs stored in the data folder
${RESUME_USAGE}${EXPORT_USAGE}  bench    Reproduce a published benchmark: nas-studio bench nb201 [options]
             --strategy S      ${NB201_STRATEGIES.join(', ')}, a comma list, or all (default: all)
             --runs N          independent searches per strategy (default: 100)
             --seed S          seed of the first run; run r uses S + r (default: 0)
             --queries Q       fixed-query mode: Q queries per run instead of the simulated time budget
             --budget-seconds T  simulated time budget per run (default: 12000, the paper's)
             --file F          the nasbench201.json file (default: the copy in resources/benchmarks)
             --out F           also write the full JSON (every run) to F
  serve    Start web mode: open the printed URL in a browser
             --port P          port on 127.0.0.1 (default: a free one)
             --backend B       compute backend: tensorflow, wasm or cpu (as for search)
${WORKER_USAGE}  help     Show this help

Options for every command:
  --data-dir D   data folder (default: $NAS_STUDIO_DATA_DIR, $XDG_DATA_HOME/nas-studio or ~/.local/share/nas-studio)
  --verbose      log engine progress to stderr
`

const common = {
  'data-dir': { type: 'string' },
  verbose: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies ParseArgsConfig['options']

const OPTIONS = {
  search: {
    ...common,
    space: { type: 'string' },
    dataset: { type: 'string' },
    trials: { type: 'string' },
    strategy: { type: 'string' },
    'budget-minutes': { type: 'string' },
    'max-params': { type: 'string' },
    seed: { type: 'string' },
    epochs: { type: 'string' },
    concurrency: { type: 'string' },
    'batch-size': { type: 'string' },
    name: { type: 'string' },
    settings: { type: 'string' },
    backend: { type: 'string' },
  },
  runs: { ...common },
  resume: { ...common, backend: { type: 'string' } },
  export: { ...common, trial: { type: 'string' }, format: { type: 'string' }, out: { type: 'string' } },
  bench: {
    ...common,
    strategy: { type: 'string' },
    runs: { type: 'string' },
    seed: { type: 'string' },
    queries: { type: 'string' },
    'budget-seconds': { type: 'string' },
    file: { type: 'string' },
    out: { type: 'string' },
  },
  import: {
    ...common,
    kind: { type: 'string' },
    'label-column': { type: 'string' },
    'input-size': { type: 'string' },
    'test-fraction': { type: 'string' },
    seed: { type: 'string' },
    name: { type: 'string' },
  },
  serve: { ...common, port: { type: 'string' }, backend: { type: 'string' } },
  worker: {
    ...common,
    redis: { type: 'string' },
    concurrency: { type: 'string' },
    'lock-seconds': { type: 'string' },
    backend: { type: 'string' },
  },
} as const satisfies Record<string, ParseArgsConfig['options']>

type Command = keyof typeof OPTIONS

/** Values of --backend (the engine's NAS_BACKEND). */
const BACKENDS = ['tensorflow', 'wasm', 'cpu']

/**
 * Applies --backend by setting NAS_BACKEND, which the engine reads when it first picks a backend (in this
 * process and in the trial workers, which inherit the environment). Must run before the app core opens.
 */
function applyBackendOption(value: string | undefined): void {
  if (value === undefined) return
  const name = value.trim().toLowerCase()
  if (!BACKENDS.includes(name))
    throw new UsageError(`--backend must be one of ${BACKENDS.join(', ')}, got "${value}".`)
  process.env.NAS_BACKEND = name
}

/** "Compute backend: wasm on Intel Xeon (2 threads) (why...)": one line for people. */
function backendLine(backend: { name: string; detail: string; device: string }): string {
  return `Compute backend: ${backend.name} on ${backend.device} (${backend.detail})\n`
}

function intOption(
  value: string | undefined,
  flag: string,
  fallback: number,
  min: number,
  max: number,
): number {
  if (value === undefined) return fallback
  const n = Number(value)
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n < min || n > max) {
    throw new UsageError(`--${flag} must be a whole number from ${min} to ${max}, got "${value}".`)
  }
  return n
}

/** Runs one CLI invocation and resolves with its exit code. Never calls process.exit itself. */
export async function runCli(argv: string[], io: CliIo): Promise<number> {
  const [command, ...rest] = argv
  if (command === undefined || command === 'help' || command === '--help' || command === '-h') {
    io.stdout(USAGE)
    return command === undefined ? EXIT.usage : EXIT.ok
  }
  if (!Object.prototype.hasOwnProperty.call(OPTIONS, command)) {
    io.stderr(`nas-studio: unknown command "${command}".\n\n${USAGE}`)
    return EXIT.usage
  }
  const cmd = command as Command
  let values: Record<string, string | boolean | undefined>
  let positionals: string[]
  try {
    const parsed = parseArgs({
      args: rest,
      options: OPTIONS[cmd],
      strict: true,
      allowPositionals: cmd === 'import' || cmd === 'bench' || cmd === 'export' || cmd === 'resume',
    })
    values = parsed.values as Record<string, string | boolean | undefined>
    positionals = parsed.positionals
  } catch (err) {
    io.stderr(`nas-studio ${cmd}: ${(err as Error).message}\n\nRun "nas-studio help" for the options.\n`)
    return EXIT.usage
  }
  if (values.help) {
    io.stdout(USAGE)
    return EXIT.ok
  }
  const dataDir = defaultDataDir(values['data-dir'] as string | undefined, io.env ?? process.env)
  try {
    if (cmd === 'runs') return listRuns(dataDir, io)
    if (cmd === 'import') return await importCommand(dataDir, positionals, values, io)
    if (cmd === 'bench') return await bench(positionals, values, io)
    if (cmd === 'export') return await exportCommand(dataDir, positionals, values, io)
    applyBackendOption(values.backend as string | undefined)
    if (cmd === 'serve') return await serve(dataDir, values, io)
    if (cmd === 'resume') return await resumeCommand(dataDir, positionals, values, io)
    if (cmd === 'worker') return await workerCommand(dataDir, values, io, intOption)
    return await search(dataDir, values, io)
  } catch (err) {
    if (err instanceof UsageError) {
      io.stderr(`nas-studio ${cmd}: ${err.message}\n`)
      return EXIT.usage
    }
    io.stderr(`nas-studio ${cmd}: ${err instanceof Error ? err.message : String(err)}\n`)
    return EXIT.failed
  }
}

function listRuns(dataDir: string, io: CliIo): number {
  const db = openAppDb(dataDir)
  try {
    const runs = db.runs.list()
    if (runs.length === 0)
      io.stdout(`No runs yet in ${dataDir}. Start one with: nas-studio search --space quick-mlp --trials 5\n`)
    else io.stdout(`${formatRunsTable(runs)}\n`)
    return EXIT.ok
  } finally {
    db.close()
  }
}

function resolveSpace(core: AppCore, spec: string): SearchSpace {
  const preset = core.db.spaces.getByPresetKey(spec)
  if (preset) return preset
  if (!existsSync(spec)) {
    const keys = core.db.spaces
      .list()
      .filter((s) => s.preset)
      .map((s) => s.id.replace(/^preset-/, ''))
    throw new UsageError(
      `--space "${spec}" is neither a preset (${keys.join(', ') || 'none installed'}) nor a JSON file.`,
    )
  }
  let json: unknown
  try {
    json = JSON.parse(readFileSync(spec, 'utf8'))
  } catch (err) {
    throw new UsageError(`--space ${spec} is not valid JSON: ${(err as Error).message}`)
  }
  const wrapped = json as { def?: unknown; name?: unknown; description?: unknown }
  const candidate = wrapped && typeof wrapped === 'object' && 'def' in wrapped ? wrapped.def : json
  const parsed = searchSpaceDefSchema.safeParse(candidate)
  if (!parsed.success) {
    const issue = parsed.error.issues[0]
    throw new UsageError(
      `--space ${spec} is not a search space: ${issue?.path.join('.') || '(file)'}: ${issue?.message}`,
    )
  }
  const space: SearchSpace = {
    id: randomUUID(),
    name: typeof wrapped.name === 'string' ? wrapped.name : basename(spec, '.json'),
    description: typeof wrapped.description === 'string' ? wrapped.description : `Imported from ${spec}`,
    preset: false,
    def: parsed.data,
    createdAt: new Date().toISOString(),
  }
  core.db.spaces.insert(space)
  return space
}

/**
 * `config` with the run settings of the JSON file `file` merged over it ("train" field by field, the rest
 * replaced); UsageError naming the file and the first invalid field otherwise.
 */
function mergeSettingsFile(config: RunConfig, file: string): RunConfig {
  let json: unknown
  try {
    json = JSON.parse(readFileSync(file, 'utf8'))
  } catch (err) {
    throw new UsageError(`--settings ${file} could not be read as JSON: ${(err as Error).message}`)
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json))
    throw new UsageError(`--settings ${file} must hold a JSON object of run settings`)
  const extra = json as Partial<RunConfig>
  const merged = { ...config, ...extra, train: { ...config.train, ...(extra.train ?? {}) } }
  const parsed = runConfigSchema.safeParse(merged)
  if (!parsed.success) {
    const issue = parsed.error.issues[0]
    throw new UsageError(`--settings ${file}: ${issue?.path.join('.') || '(file)'}: ${issue?.message}`)
  }
  return parsed.data
}

async function search(
  dataDir: string,
  values: Record<string, string | boolean | undefined>,
  io: CliIo,
): Promise<number> {
  const spaceSpec = values.space as string | undefined
  if (!spaceSpec)
    throw new UsageError('--space is required (a preset key such as quick-mlp, or a JSON file).')
  const maxTrials = intOption(values.trials as string | undefined, 'trials', 10, 1, 100000)
  const strategy = (values.strategy as string | undefined) ?? 'random'
  if (!(STRATEGIES as readonly string[]).includes(strategy))
    throw new UsageError(`--strategy must be one of ${STRATEGIES.join(', ')}, got "${strategy}".`)
  const budgetText = values['budget-minutes'] as string | undefined
  const budgetMinutes = budgetText === undefined ? undefined : Number(budgetText)
  if (
    budgetMinutes !== undefined &&
    !(Number.isFinite(budgetMinutes) && budgetMinutes > 0 && budgetMinutes <= 100000)
  )
    throw new UsageError(`--budget-minutes must be a number of minutes above 0, got "${budgetText}".`)
  const maxParamsText = values['max-params'] as string | undefined
  const maxParams =
    maxParamsText === undefined
      ? undefined
      : intOption(maxParamsText, 'max-params', 0, 1, Number.MAX_SAFE_INTEGER)
  const seed = intOption(values.seed as string | undefined, 'seed', 0, 0, 2 ** 31 - 1)
  const epochs = intOption(values.epochs as string | undefined, 'epochs', 1, 1, 1000)
  const concurrency = intOption(values.concurrency as string | undefined, 'concurrency', 1, 1, 64)
  const batchSize = intOption(values['batch-size'] as string | undefined, 'batch-size', 64, 1, 4096)
  const logger = createConsoleLogger(values.verbose ? 'info' : 'warn', io.stderr)
  const core = await openAppCore({
    dataDir,
    mode: 'web',
    modeReason: 'Command line (nas-studio search)',
    logger,
    poolSize: concurrency,
  })
  try {
    const space = resolveSpace(core, spaceSpec)
    const datasetSpec = (values.dataset as string | undefined) ?? 'sample'
    const dataset =
      datasetSpec === 'sample'
        ? core.db.datasets.list().find((d) => d.source === 'bundled')
        : core.db.datasets.get(datasetSpec)
    if (!dataset) {
      throw new UsageError(
        datasetSpec === 'sample'
          ? 'The bundled sample dataset is not installed (resources/sample is missing).'
          : `No dataset with id "${datasetSpec}".`,
      )
    }
    let config: RunConfig = {
      name: (values.name as string | undefined) ?? `CLI search ${space.name}`,
      datasetId: dataset.id,
      spaceId: space.id,
      strategy: strategy as StrategyName,
      maxTrials,
      ...(budgetMinutes !== undefined ? { budgetMinutes } : {}),
      ...(maxParams !== undefined ? { objectives: { maxParams } } : {}),
      concurrency,
      seed,
      train: { epochs, batchSize, learningRate: 0.001, validationFraction: 0.1 },
    }
    const settingsFile = values.settings as string | undefined
    if (settingsFile !== undefined) config = mergeSettingsFile(config, settingsFile)
    const started = await dispatch(core.services.handlers, 'runs.start', config)
    if (!started.ok) throw new Error(started.error.message)
    const run = started.data as { id: string }
    io.stdout(
      `Run ${run.id}: ${strategy}, ${maxTrials} trial(s)${budgetMinutes !== undefined ? ` or ${budgetMinutes} min` : ''} of "${space.name}" on ${dataset.name}, seed ${seed}\n`,
    )
    const info = await core.services.handlers['app.info']({})
    io.stdout(backendLine(info.backend))
    const stop = core.services.events((msg) => {
      if (
        msg.event === 'trial.updated' &&
        msg.payload.runId === run.id &&
        ['completed', 'failed', 'cancelled'].includes(msg.payload.status)
      ) {
        io.stdout(`${formatTrialLine(msg.payload, maxTrials)}\n`)
      }
    })
    const onAbort = (): void => {
      io.stderr('Stopping: cancelling the run after the trial in flight...\n')
      void core.services.handlers['runs.cancel']({ runId: run.id }).catch(() => undefined)
    }
    io.signal.addEventListener('abort', onAbort, { once: true })
    const final = await core.services.whenFinished(run.id)
    io.signal.removeEventListener('abort', onAbort)
    stop()
    const best = final.bestTrialId ? core.db.trials.get(final.bestTrialId) : null
    io.stdout(
      best
        ? `Best: trial ${best.index + 1}, val accuracy ${best.valAccuracy?.toFixed(4)}, ${best.params.toLocaleString('en-US')} params (run ${final.status}: ${final.trialsCompleted} completed, ${final.trialsFailed} failed)\n`
        : `No trial completed (run ${final.status}${final.error ? `: ${final.error}` : ''})\n`,
    )
    const finalTrial = final.finalTrialId ? core.db.trials.get(final.finalTrialId) : null
    if (finalTrial) {
      io.stdout(
        finalTrial.testAccuracy !== undefined
          ? `Final training: test accuracy ${finalTrial.testAccuracy.toFixed(4)} (winner retrained on train + validation, ${finalTrial.proxy?.epochs ?? config.finalTraining?.epochs} epochs, ${((finalTrial.trainTimeMs ?? 0) / 60000).toFixed(1)} min)\n`
          : `Final training ${finalTrial.status}${finalTrial.error ? `: ${finalTrial.error}` : ''}\n`,
      )
    }
    io.stdout(`Stored in ${core.db.file}\n`)
    if (final.status === 'completed') return EXIT.ok
    return final.status === 'cancelled' ? EXIT.interrupted : EXIT.failed
  } finally {
    await core.close()
  }
}

async function bench(
  positionals: string[],
  values: Record<string, string | boolean | undefined>,
  io: CliIo,
): Promise<number> {
  const [what, ...extra] = positionals
  if (what !== 'nb201' || extra.length > 0)
    throw new UsageError(
      'the only benchmark is nb201: nas-studio bench nb201 --strategy NAME --runs N --seed S',
    )
  const spec = (values.strategy as string | undefined) ?? 'all'
  const strategies = spec === 'all' ? NB201_STRATEGIES : spec.split(',').map((x) => x.trim())
  const queriesText = values.queries as string | undefined
  await benchNb201({
    strategies,
    runs: intOption(values.runs as string | undefined, 'runs', 100, 1, 100000),
    seed: intOption(values.seed as string | undefined, 'seed', 0, 0, 2 ** 31 - 1),
    queries: queriesText === undefined ? undefined : intOption(queriesText, 'queries', 100, 1, 15625),
    budgetSeconds: intOption(
      values['budget-seconds'] as string | undefined,
      'budget-seconds',
      12000,
      1,
      10 ** 9,
    ),
    file: values.file as string | undefined,
    out: values.out as string | undefined,
    stdout: io.stdout,
    stderr: io.stderr,
  }).catch((err: unknown) => {
    throw new UsageError((err as Error).message)
  })
  return EXIT.ok
}

async function serve(
  dataDir: string,
  values: Record<string, string | boolean | undefined>,
  io: CliIo,
): Promise<number> {
  const port = intOption(values.port as string | undefined, 'port', 0, 0, 65535)
  const env = io.env ?? process.env
  const logger = createConsoleLogger(values.verbose ? 'info' : 'warn', io.stderr)
  const modeReason = env.NAS_STUDIO_MODE_REASON || 'Web mode (started with nas-studio serve)'
  const core = await openAppCore({ dataDir, mode: 'web', modeReason, logger })
  let server: Awaited<ReturnType<typeof startWebServer>>
  try {
    server = await startWebServer({
      handlers: core.services.handlers,
      events: core.services.events,
      port,
      rendererDir: core.paths.rendererDir,
      uploadsDir: join(dataDir, 'uploads'),
    })
  } catch (err) {
    await core.close()
    throw err
  }
  io.stdout(`${webBanner(server.url)}\n`)
  io.stdout(`Data dir: ${dataDir}\n`)
  const info = await core.services.handlers['app.info']({})
  io.stdout(backendLine(info.backend))
  if (!existsSync(core.paths.rendererDir))
    io.stderr('The UI is not built yet: run "npm run build:app" and restart to see it.\n')
  await new Promise<void>((resolve) => {
    if (io.signal.aborted) resolve()
    else io.signal.addEventListener('abort', () => resolve(), { once: true })
  })
  io.stdout('Shutting down...\n')
  await server.close()
  await core.close()
  io.stdout('Stopped.\n')
  return EXIT.ok
}
