import type { ErrorCode, NasErrorData } from '@shared/errors'
import { userPath } from '../user-path'

/** Error codes the renderer can see: the shared ones plus `network` (main could not be reached). */
export type ClientErrorCode = ErrorCode | 'network'

/**
 * The error every api call throws for a failed request. `message` is written for a person and is safe to
 * show as is; `code` is for the program.
 */
export class ApiError extends Error {
  readonly code: ClientErrorCode
  readonly details?: Record<string, unknown>

  constructor(code: ClientErrorCode, message: string, details?: Record<string, unknown>) {
    super(message)
    this.name = 'ApiError'
    this.code = code
    if (details !== undefined) this.details = details
  }

  /** Builds an ApiError from the `error` half of a Result envelope. */
  static fromData(data: NasErrorData): ApiError {
    return new ApiError(data.code, data.message, data.details)
  }
}

/** A message fit to show a person for anything a call may throw (never a stack trace). */
export function errorMessage(err: unknown): string {
  if (err instanceof ApiError) return userPath(err.message)
  if (err instanceof Error && err.message) return `Something went wrong: ${userPath(err.message)}`
  return 'Something went wrong. Please try again.'
}
