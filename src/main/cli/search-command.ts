import { existsSync, readFileSync } from 'node:fs'
import { basename } from 'node:path'
import {
  STRATEGIES,
  runConfigSchema,
  searchSpaceDefSchema,
  type ApiHandlers,
  type RunConfig,
  type SearchSpace,
  type StrategyName,
} from '../../shared'
import { openAppCore } from '../app'
import { createConsoleLogger } from '../logger'
import { presetSpaceId } from '../services'
import { SearchPrinter, searchSummary } from './search-output'
import { EXIT, UsageError, type CliIo } from './io'
import { backendLine, callService, intOption } from './options'

/** A preset key (e.g. quick-mlp) or a JSON file of a space definition, saved as a new space. */
async function resolveSpace(handlers: ApiHandlers, spec: string): Promise<SearchSpace> {
  const spaces = await callService(handlers, 'spaces.list', {})
  const preset = spaces.find((s) => s.preset && s.id === presetSpaceId(spec))
  if (preset) return preset
  if (!existsSync(spec)) {
    const keys = spaces.filter((s) => s.preset).map((s) => s.id.replace(/^preset-/, ''))
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
  return callService(handlers, 'spaces.save', {
    name: typeof wrapped.name === 'string' ? wrapped.name : basename(spec, '.json'),
    description: typeof wrapped.description === 'string' ? wrapped.description : `Imported from ${spec}`,
    def: parsed.data,
  })
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

/**
 * `nas-studio search`: starts a run through the services, prints each finished candidate, the best one and
 * the final model's test accuracy, and waits for the run to end (SIGINT cancels it after the trial in flight).
 */
export async function searchCommand(
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
    const { handlers } = core.services
    const space = await resolveSpace(handlers, spaceSpec)
    const datasetSpec = (values.dataset as string | undefined) ?? 'sample'
    const datasets = await callService(handlers, 'datasets.list', {})
    const dataset =
      datasetSpec === 'sample'
        ? datasets.find((d) => d.source === 'bundled')
        : datasets.find((d) => d.id === datasetSpec)
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
    const run = await callService(handlers, 'runs.start', config)
    io.stdout(
      `Run ${run.id}: ${strategy}, ${maxTrials} trial(s)${budgetMinutes !== undefined ? ` or ${budgetMinutes} min` : ''} of "${space.name}" on ${dataset.name}, seed ${seed}\n`,
    )
    const info = await callService(handlers, 'app.info', {})
    io.stdout(backendLine(info.backend))
    const printer = new SearchPrinter(io.stdout, run)
    const stop = core.services.events((msg) => printer.onEvent(msg))
    const onAbort = (): void => {
      io.stderr('Stopping: cancelling the run after the trial in flight...\n')
      void callService(handlers, 'runs.cancel', { runId: run.id }).catch(() => undefined)
    }
    io.signal.addEventListener('abort', onAbort, { once: true })
    const final = await core.services.whenFinished(run.id)
    io.signal.removeEventListener('abort', onAbort)
    stop()
    const trials = await callService(handlers, 'trials.list', { runId: run.id })
    const best = trials.find((t) => t.id === final.bestTrialId) ?? null
    const finalTrial = trials.find((t) => t.id === final.finalTrialId) ?? null
    io.stdout(searchSummary(final, best, finalTrial))
    io.stdout(`Stored in ${core.db.file}\n`)
    if (final.status === 'completed') return EXIT.ok
    return final.status === 'cancelled' ? EXIT.interrupted : EXIT.failed
  } finally {
    await core.close()
  }
}
