import type { Run } from '../../shared'
import { openAppCore } from '../app'
import { createConsoleLogger } from '../logger'
import { dispatch } from '../services'
import { EXIT, type CliIo } from './io'
import { SearchPrinter, searchSummary } from './search-output'

/** Help lines of `nas-studio resume`, shown in the main usage text. */
export const RESUME_USAGE = `  resume   Continue paused or interrupted runs: nas-studio resume <run id> [<run id> ...]
             The strategy continues from its saved state and the same seed gives the same remaining
             search; finished trials are kept, the ones that were training are trained again.
`

/**
 * `nas-studio resume RUN...`: resumes each run in turn through the same service as the app (runs.resume),
 * printing one line per finished trial. Exit 0 when every run completed; 1 when one could not be resumed
 * or did not complete (the others are still tried); 130 when stopped by SIGINT/SIGTERM (the run in
 * progress is paused, so it can be resumed again).
 */
export async function resumeCommand(
  dataDir: string,
  positionals: string[],
  values: Record<string, string | boolean | undefined>,
  io: CliIo,
): Promise<number> {
  if (positionals.length === 0) {
    io.stderr(
      'nas-studio resume: the run id is missing (see "nas-studio runs").\n\nUsage: nas-studio resume <run id> [<run id> ...]\n',
    )
    return EXIT.usage
  }
  const logger = createConsoleLogger(values.verbose ? 'info' : 'warn', io.stderr)
  const core = await openAppCore({
    dataDir,
    mode: 'web',
    modeReason: 'Command line (nas-studio resume)',
    logger,
  })
  let code: number = EXIT.ok
  try {
    for (const runId of positionals) {
      if (io.signal.aborted) return EXIT.interrupted
      const resumed = await dispatch(core.services.handlers, 'runs.resume', { runId })
      if (!resumed.ok) {
        io.stderr(`nas-studio resume: ${resumed.error.message}\n`)
        code = EXIT.failed
        continue
      }
      const run = resumed.data as Run
      io.stdout(
        `Resuming run ${run.id}: ${run.trialsCompleted + run.trialsFailed} of ${run.config.maxTrials} trial(s) done\n`,
      )
      const printer = new SearchPrinter(io.stdout, run)
      const stop = core.services.events((msg) => printer.onEvent(msg))
      const onAbort = (): void => {
        io.stderr('Stopping: pausing the run (resume it later with the same command)...\n')
        void core.services.handlers['runs.pause']({ runId: run.id }).catch(() => undefined)
      }
      io.signal.addEventListener('abort', onAbort, { once: true })
      const final = await core.services.whenFinished(run.id)
      io.signal.removeEventListener('abort', onAbort)
      stop()
      const best = final.bestTrialId ? core.db.trials.get(final.bestTrialId) : null
      const finalTrial = final.finalTrialId ? core.db.trials.get(final.finalTrialId) : null
      io.stdout(
        `Run ${run.id} ${final.status}: ${final.trialsCompleted} completed, ${final.trialsFailed} failed${final.error ? ` (${final.error})` : ''}\n${searchSummary(final, best, finalTrial)}`,
      )
      if (final.status === 'paused') return EXIT.interrupted
      if (final.status !== 'completed') code = EXIT.failed
    }
    return code
  } finally {
    await core.close()
  }
}
