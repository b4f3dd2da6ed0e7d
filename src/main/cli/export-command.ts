import { resolve } from 'node:path'
import { EXPORT_FORMATS, type ExportFormat, type Run, type Trial } from '../../shared'
import { openAppCore } from '../app'
import { createConsoleLogger } from '../logger'
import { EXIT, UsageError, type CliIo } from './io'

/** Help lines of `nas-studio export`, shown in the main usage text. */
export const EXPORT_USAGE = `  export   Export a trained model: nas-studio export <run id> --format F --out DIR [options]
             --format F        tfjs (model.json + weights), onnx (model.onnx) or report (report.html)
             --out DIR         folder to write into (created if missing)
             --trial N         which trial: its number as the search printed it, "final", or its id
                               (default: the final model, else the search's best trial)
             Model exports are reloaded (TF.js; onnxruntime) and compared with the trained model on 100
             validation samples; the command fails when they differ by 1e-4 or more.
`

/**
 * `nas-studio export RUN [--trial ID] --format tfjs|onnx|report --out DIR`: writes the export through the same
 * service as the app (so it is verified and listed in the Export view) and prints the files and the check.
 */
export async function exportCommand(
  dataDir: string,
  positionals: string[],
  values: Record<string, string | boolean | undefined>,
  io: CliIo,
): Promise<number> {
  const usage = (message: string): number => {
    io.stderr(
      `nas-studio export: ${message}\n\nUsage: nas-studio export <run id> [--trial ID] --format ${EXPORT_FORMATS.join('|')} --out DIR\n`,
    )
    return EXIT.usage
  }
  const [runId, ...extra] = positionals
  if (!runId) return usage('the run id is missing (see "nas-studio runs").')
  if (extra.length > 0) return usage(`unexpected argument "${extra[0]}".`)
  const format = values.format as string | undefined
  if (!format || !(EXPORT_FORMATS as readonly string[]).includes(format))
    return usage(`--format must be one of ${EXPORT_FORMATS.join(', ')}${format ? `, got "${format}"` : ''}.`)
  const out = values.out as string | undefined
  if (!out) return usage('--out DIR is required.')
  const logger = createConsoleLogger(values.verbose ? 'info' : 'warn', io.stderr)
  const core = await openAppCore({
    dataDir,
    mode: 'web',
    modeReason: 'Command line (nas-studio export)',
    logger,
  })
  try {
    const run = resolveRun(core.db.runs.list(), runId)
    const trialSpec = values.trial as string | undefined
    const trialId =
      trialSpec === undefined ? undefined : resolveTrial(core.db.trials.listByRun(run.id), run, trialSpec)
    const record = await core.services.handlers['exports.create']({
      runId: run.id,
      format: format as ExportFormat,
      outDir: resolve(out),
      ...(trialId ? { trialId } : {}),
    })
    const trial = core.db.trials.require(record.trialId)
    const what = trial.isFinal
      ? `the final model (trial ${trial.index + 1}, test accuracy ${trial.testAccuracy?.toFixed(4) ?? '-'})`
      : `trial ${trial.index + 1} (a search candidate, trained for the search only${run.finalTrialId ? '; the final model is --trial final' : ''})`
    io.stdout(`Exported ${what} as ${record.format} to ${record.outDir}\n`)
    for (const f of record.files) io.stdout(`  ${f}\n`)
    if (record.status === 'written') {
      io.stdout('Written (a report is not a model, so there is nothing to verify).\n')
      return EXIT.ok
    }
    const diff = record.maxAbsDiff === null ? 'n/a' : record.maxAbsDiff.toExponential(2)
    if (record.status === 'verified') {
      io.stdout(
        `Verified: max |difference| ${diff} < ${record.tolerance} on ${record.samples} validation samples.\n`,
      )
      return EXIT.ok
    }
    io.stderr(
      `NOT verified: the reloaded export differs from the trained model by up to ${diff} (limit ${record.tolerance}) on ${record.samples} validation samples.\n`,
    )
    return EXIT.failed
  } finally {
    await core.close()
  }
}

/** The run named by its id or by the start of it (as `nas-studio runs` prints it), if that is unambiguous. */
export function resolveRun(runs: Run[], spec: string): Run {
  const exact = runs.find((r) => r.id === spec)
  if (exact) return exact
  const matches = runs.filter((r) => r.id.startsWith(spec))
  if (matches.length === 1) return matches[0]!
  throw new UsageError(
    matches.length === 0
      ? `no run "${spec}" (see "nas-studio runs").`
      : `"${spec}" matches ${matches.length} runs; give more of the id.`,
  )
}

/** The trial id `--trial` names: a trial number as printed (1-based), "final", or a trial id. */
export function resolveTrial(trials: Trial[], run: Run, spec: string): string {
  if (spec === 'final') {
    if (!run.finalTrialId)
      throw new UsageError('this run has no final training; leave out --trial for its best trial.')
    return run.finalTrialId
  }
  if (/^\d+$/.test(spec)) {
    const trial = trials.find((t) => t.index === Number(spec) - 1)
    if (!trial) throw new UsageError(`the run has no trial ${spec} (its trials are 1 to ${trials.length}).`)
    return trial.id
  }
  const trial = trials.find((t) => t.id === spec)
  if (!trial)
    throw new UsageError(`the run has no trial "${spec}"; give its number as the search printed it.`)
  return trial.id
}
