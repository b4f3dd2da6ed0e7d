import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { NasError, resultTrialId } from '../../shared'
import type { RunModelExport } from '../backbones'
import type { AppDb } from '../db'
import type { ExportHandlers } from './exports-service'

/**
 * A run's final model as a backbone's source: its TF.js export (standard layers only, so any TF.js reads it),
 * reusing a verified one of that trial when there is one, else writing a new one (which then shows among the
 * run's exports). The trial defaults to the one Export picks: the final model, else the search's best.
 */
export function runModelExporter(
  db: AppDb,
  exportsHandlers: Pick<ExportHandlers, 'exports.create' | 'exports.list'>,
): (runId: string, trialId: string | undefined) => Promise<RunModelExport> {
  return async (runId, trialId) => {
    const run = db.runs.require(runId)
    const chosen = trialId ?? resultTrialId(run, run.finalTrialId ? db.trials.get(run.finalTrialId) : null)
    const existing = (await exportsHandlers['exports.list']({ runId })).find(
      (e) =>
        e.format === 'tfjs' &&
        e.status === 'verified' &&
        e.trialId === chosen &&
        existsSync(join(e.outDir, 'model.json')),
    )
    const record =
      existing ??
      (await exportsHandlers['exports.create']({
        runId,
        format: 'tfjs',
        ...(trialId ? { trialId } : {}),
      }))
    if (record.status !== 'verified') {
      throw new NasError(
        'conflict',
        `The exported model of run "${run.config.name}" does not predict like the trained one, so it cannot serve as a backbone.`,
      )
    }
    const trial = db.trials.require(record.trialId)
    const which = record.trialId === run.finalTrialId ? 'final model' : `candidate ${trial.index + 1}`
    return {
      dir: record.outDir,
      name: `${run.config.name} (${which})`,
      origin: `NAS Studio run "${run.config.name}", ${which}`,
    }
  }
}
