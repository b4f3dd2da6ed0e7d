import type { z } from 'zod'
import { NasError } from '../../shared'

/** Parses a JSON TEXT column, reporting which table/row/column held bad JSON. */
export function jsonColumn(text: unknown, where: string): unknown {
  if (typeof text !== 'string') throw new NasError('storage_error', `${where} is missing in the database.`)
  try {
    return JSON.parse(text)
  } catch {
    throw new NasError('storage_error', `${where} in the database is not valid JSON.`)
  }
}

/**
 * Validates a row read from SQLite against its shared zod schema, so corrupt or foreign rows fail loudly
 * with the table, row and field instead of leaking malformed data into the UI.
 */
export function validateRow<S extends z.ZodTypeAny>(schema: S, value: unknown, where: string): z.infer<S> {
  const parsed = schema.safeParse(value)
  if (parsed.success) return parsed.data
  const issue = parsed.error.issues[0]
  const field = issue && issue.path.length > 0 ? issue.path.join('.') : '(row)'
  throw new NasError(
    'storage_error',
    `${where} in the database is invalid at ${field}: ${issue?.message ?? 'unknown'}`,
  )
}

/** Throws NasError('not_found') naming the kind and id. */
export function notFound(kind: string, id: string): NasError {
  return new NasError(
    'not_found',
    `No ${kind} with id "${id}". It may have been deleted; refresh the list.`,
    {
      kind,
      id,
    },
  )
}
