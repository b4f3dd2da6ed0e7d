import { z } from 'zod'

/** Machine-readable error codes shared by engine, main and renderer. */
export const ERROR_CODES = [
  'bad_request',
  'not_found',
  'unauthorized',
  'conflict',
  'invalid_space',
  'dataset_error',
  'training_failed',
  'backend_unavailable',
  'storage_error',
  'cancelled',
  'internal',
] as const

export type ErrorCode = (typeof ERROR_CODES)[number]

/** The JSON form of an error: what crosses IPC, HTTP and worker boundaries. */
export const nasErrorDataSchema = z.object({
  code: z.enum(ERROR_CODES),
  message: z.string(),
  details: z.record(z.string(), z.unknown()).optional(),
})
export type NasErrorData = z.infer<typeof nasErrorDataSchema>

/**
 * The one error type of the app. `message` is written for a person ("what was wrong, where, what to do");
 * `code` is for programs. Always serialise with `toData()` before it leaves a process.
 */
export class NasError extends Error {
  readonly code: ErrorCode
  readonly details?: Record<string, unknown>

  constructor(code: ErrorCode, message: string, details?: Record<string, unknown>) {
    super(message)
    this.name = 'NasError'
    this.code = code
    if (details !== undefined) this.details = details
  }

  toData(): NasErrorData {
    return this.details === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, details: this.details }
  }

  static fromData(data: NasErrorData): NasError {
    return new NasError(data.code, data.message, data.details)
  }
}

/** Converts anything thrown into serialisable error data, keeping NasError codes and hiding stacks. */
export function toErrorData(err: unknown): NasErrorData {
  if (err instanceof NasError) return err.toData()
  const parsed = nasErrorDataSchema.safeParse(err)
  if (parsed.success) return parsed.data
  const message = err instanceof Error ? err.message : String(err)
  return { code: 'internal', message: message || 'Unexpected error' }
}

/** The envelope every transport returns: never a thrown error across a process boundary. */
export type Result<T> = { ok: true; data: T } | { ok: false; error: NasErrorData }
