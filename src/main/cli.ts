import { runCli } from './cli/commands'

/**
 * Entry of the `nas-studio` command (bundled to out/main/cli.js). SIGINT/SIGTERM ask the running command
 * to stop cleanly (cancel the run, close the server and the database); a second signal exits at once.
 */
const controller = new AbortController()
let firstSignalAt = 0
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    const now = Date.now()
    if (firstSignalAt === 0) {
      firstSignalAt = now
      controller.abort()
    } else if (now - firstSignalAt > 1000) {
      // A repeat within a second is the same Ctrl+C delivered twice (terminal + npm start forwarding it).
      process.exit(130)
    }
  })
}

runCli(process.argv.slice(2), {
  stdout: (t) => process.stdout.write(t),
  stderr: (t) => process.stderr.write(t),
  signal: controller.signal,
}).then(
  (code) => {
    process.exitCode = code
    // Worker threads or timers left by a library must not keep a finished command alive.
    setTimeout(() => process.exit(code), 2000).unref()
  },
  (err: unknown) => {
    process.stderr.write(`nas-studio: ${err instanceof Error ? err.message : String(err)}\n`)
    process.exit(1)
  },
)
