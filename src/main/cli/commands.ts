import { parseArgs, type ParseArgsConfig } from 'node:util'
import { STRATEGIES } from '../../shared'
import { openAppDb } from '../db'
import { defaultDataDir } from '../paths'
import { benchCommand, NB201_STRATEGIES } from './bench-command'
import { formatRunsTable } from './format'
import { importCommand } from './import-command'
import { EXPORT_USAGE, exportCommand } from './export-command'
import { RESUME_USAGE, resumeCommand } from './resume-command'
import { searchCommand } from './search-command'
import { serveCommand } from './serve-command'
import { WORKER_USAGE, workerCommand } from './worker-command'
import { EXIT, UsageError, type CliIo } from './io'
import { applyBackendOption, intOption } from './options'

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
             --backend B       compute backend: tensorflow, webgpu, wasm or cpu (default: the fastest that works;
                               same as the NAS_BACKEND environment variable)
  import   Import a dataset: nas-studio import <folder or file> [options]
             --kind K          images (a folder of class folders), csv or idx (default: detected)
             --label-column C  CSV label column, by name or 1-based number (default: the last)
             --input-size N    images are resized to N x N pixels (default: their own size when all are
                               square and share one of 64 px or less, else 32; IDX keeps its size)
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
             --backend B       compute backend: tensorflow, webgpu, wasm or cpu (as for search)
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
    'redis-file': { type: 'string' },
    concurrency: { type: 'string' },
    'lock-seconds': { type: 'string' },
    backend: { type: 'string' },
  },
} as const satisfies Record<string, ParseArgsConfig['options']>

type Command = keyof typeof OPTIONS

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
    if (cmd === 'bench') return await benchCommand(positionals, values, io)
    if (cmd === 'export') return await exportCommand(dataDir, positionals, values, io)
    applyBackendOption(values.backend as string | undefined)
    if (cmd === 'serve') return await serveCommand(dataDir, values, io)
    if (cmd === 'resume') return await resumeCommand(dataDir, positionals, values, io)
    if (cmd === 'worker') return await workerCommand(dataDir, values, io, intOption)
    return await searchCommand(dataDir, values, io)
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
    else {
      const names = new Map(db.datasets.list().map((d) => [d.id, d.name]))
      io.stdout(`${formatRunsTable(runs, (id) => names.get(id) ?? id)}\n`)
    }
    return EXIT.ok
  } finally {
    db.close()
  }
}
