import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { webBanner } from '../../shared'
import { openAppCore } from '../app'
import { createConsoleLogger } from '../logger'
import { startWebServer } from '../server'
import { EXIT, type CliIo } from './io'
import { backendLine, callService, intOption } from './options'

/**
 * `nas-studio serve`: web mode. Opens the app core, serves the UI and the contract on 127.0.0.1 (printing the
 * URL with its token), and runs until `io.signal` aborts; then closes the server and the core (running
 * searches are paused so they can be resumed).
 */
export async function serveCommand(
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
  const info = await callService(core.services.handlers, 'app.info', {})
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
