import type { Logger } from '../engine/ports'

/** Log levels in increasing severity. */
export type LogLevel = 'info' | 'warn' | 'error' | 'silent'

const RANK: Record<LogLevel, number> = { info: 0, warn: 1, error: 2, silent: 3 }

/**
 * A Logger that writes one line per message to stderr (so stdout stays clean for CLI output), dropping
 * messages below `level`. `data` is appended as JSON.
 */
export function createConsoleLogger(
  level: LogLevel = 'info',
  write: (line: string) => void = (l) => process.stderr.write(l),
): Logger {
  const log = (at: Exclude<LogLevel, 'silent'>, message: string, data?: Record<string, unknown>): void => {
    if (RANK[at] < RANK[level]) return
    let suffix = ''
    if (data !== undefined) {
      try {
        suffix = ` ${JSON.stringify(data)}`
      } catch {
        suffix = ' [unserialisable data]'
      }
    }
    write(`[${at}] ${message}${suffix}\n`)
  }
  return {
    info: (m, d) => log('info', m, d),
    warn: (m, d) => log('warn', m, d),
    error: (m, d) => log('error', m, d),
  }
}
