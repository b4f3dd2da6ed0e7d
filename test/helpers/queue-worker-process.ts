/**
 * A `nas-studio worker` process with settings no command-line option reaches (another protocol version,
 * trial hooks), for the queue tests: the same workerCommand the CLI runs, the same output and exit codes.
 * argv[2] is JSON: { dataDir, values (the CLI options), protocol?, faults? }.
 */
import { workerCommand } from '../../src/main/cli/worker-command'
import { intOption } from '../../src/main/cli/options'
import { trialFaults, type TrialFaults } from './trial-faults'

const { dataDir, values, protocol, faults } = JSON.parse(process.argv[2]!) as {
  dataDir: string
  values: Record<string, string>
  protocol?: number
  faults?: TrialFaults
}
const controller = new AbortController()
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => controller.abort())
const io = {
  stdout: (t: string) => void process.stdout.write(t),
  stderr: (t: string) => void process.stderr.write(t),
  signal: controller.signal,
}
try {
  process.exitCode = await workerCommand(dataDir, values, io, intOption, {
    ...(protocol !== undefined ? { protocol } : {}),
    ...(faults ? { trialHooks: trialFaults(faults) } : {}),
  })
} catch (err) {
  // as runCli reports a failed command
  io.stderr(`nas-studio worker: ${err instanceof Error ? err.message : String(err)}\n`)
  process.exitCode = 1
}
setTimeout(() => process.exit(), 2000).unref()
