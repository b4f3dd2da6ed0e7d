import { DATASET_KINDS, type DatasetImportRequest, type DatasetKind } from '../../shared'
import { openAppCore } from '../app'
import { createConsoleLogger } from '../logger'
import { dispatch } from '../services'
import { EXIT, UsageError, type CliIo } from './io'
import { formatDatasetSummary } from './format-dataset'

function numberOption(
  value: string | undefined,
  flag: string,
  min: number,
  max: number,
  integer: boolean,
): number | undefined {
  if (value === undefined) return undefined
  const n = Number(value)
  if (value.trim() === '' || !Number.isFinite(n) || n < min || n > max || (integer && !Number.isInteger(n))) {
    throw new UsageError(
      `--${flag} must be ${integer ? 'a whole number' : 'a number'} from ${min} to ${max}, got "${value}".`,
    )
  }
  return n
}

/**
 * `nas-studio import <path>`: imports through the same service as the app (so the dataset, its check and its
 * cache land in the data folder), prints progress to stderr, then the dataset and its check. Ctrl+C cancels.
 * Exit 0 when imported (even with findings), 1 when nothing usable was found, 130 when cancelled.
 */
export async function importCommand(
  dataDir: string,
  positionals: string[],
  values: Record<string, string | boolean | undefined>,
  io: CliIo,
): Promise<number> {
  if (positionals.length !== 1)
    throw new UsageError('give exactly one folder or file to import, e.g. nas-studio import ./photos')
  const kind = values.kind as string | undefined
  if (kind !== undefined && !(DATASET_KINDS as readonly string[]).includes(kind)) {
    throw new UsageError(`--kind must be one of ${DATASET_KINDS.join(', ')}, got "${kind}".`)
  }
  const inputSize = numberOption(values['input-size'] as string | undefined, 'input-size', 4, 512, true)
  const testFraction = numberOption(
    values['test-fraction'] as string | undefined,
    'test-fraction',
    0.05,
    0.5,
    false,
  )
  const seed = numberOption(values.seed as string | undefined, 'seed', 0, 2 ** 31 - 1, true)
  const req: DatasetImportRequest = {
    path: positionals[0]!,
    ...(kind !== undefined ? { kind: kind as DatasetKind } : {}),
    ...(values['label-column'] !== undefined ? { labelColumn: values['label-column'] as string } : {}),
    ...(values.name !== undefined ? { name: values.name as string } : {}),
    ...(inputSize !== undefined ? { inputSize } : {}),
    ...(testFraction !== undefined ? { testFraction } : {}),
    ...(seed !== undefined ? { seed } : {}),
  }
  const logger = createConsoleLogger(values.verbose ? 'info' : 'warn', io.stderr)
  const core = await openAppCore({
    dataDir,
    mode: 'web',
    modeReason: 'Command line (nas-studio import)',
    logger,
    poolSize: 1,
  })
  try {
    const started = await dispatch(core.services.handlers, 'datasets.import', req)
    if (!started.ok) throw new UsageError(started.error.message)
    const jobId = (started.data as { jobId: string }).jobId
    let lastLine = ''
    const stop = core.services.events((msg) => {
      if (
        msg.event !== 'dataset.importProgress' ||
        msg.payload.jobId !== jobId ||
        msg.payload.state !== 'running'
      )
        return
      const { phase, done, total } = msg.payload
      const line =
        total > 0 ? `${phase}: ${done}/${total} (${Math.floor((100 * done) / total)}%)` : `${phase}…`
      if (line !== lastLine) io.stderr(`${line}\n`)
      lastLine = line
    })
    const onAbort = (): void => {
      io.stderr('Cancelling the import...\n')
      void core.services.handlers['datasets.cancelImport']({ jobId })
    }
    io.signal.addEventListener('abort', onAbort, { once: true })
    const job = await core.services.whenImported(jobId)
    io.signal.removeEventListener('abort', onAbort)
    stop()
    if (job.state === 'cancelled') {
      io.stderr('Import cancelled; nothing was added.\n')
      return EXIT.interrupted
    }
    if (job.state === 'failed' || job.datasetId === null) {
      io.stderr(`nas-studio import: ${job.error ?? 'the import failed'}\n`)
      return EXIT.failed
    }
    const dataset = core.db.datasets.require(job.datasetId)
    io.stdout(formatDatasetSummary(dataset, job.fromCache))
    return EXIT.ok
  } finally {
    await core.close()
  }
}
