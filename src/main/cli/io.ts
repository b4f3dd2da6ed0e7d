/** Where CLI output goes, and the signal that asks a long command (search, serve) to stop. */
export interface CliIo {
  stdout: (text: string) => void
  stderr: (text: string) => void
  /** Aborted on SIGINT/SIGTERM: search cancels its run, serve shuts down. */
  signal: AbortSignal
  env?: NodeJS.ProcessEnv
}

/** Exit codes: 0 ok, 1 the work failed, 2 wrong usage, 130 stopped by the user. */
export const EXIT = { ok: 0, failed: 1, usage: 2, interrupted: 130 } as const

/** Wrong usage: printed with the command name, exit code 2. */
export class UsageError extends Error {}
