import { api, toErrorData, type ApiHandlers, type Method, type NasErrorData, type Result } from '../../shared'

/** True when `name` is a method of the contract (own key of `api`, so "toString" etc. are not). */
export function isMethod(name: unknown): name is Method {
  return typeof name === 'string' && Object.prototype.hasOwnProperty.call(api, name)
}

/** A failed Result with the given code and message. */
export function failure(
  code: NasErrorData['code'],
  message: string,
  details?: Record<string, unknown>,
): Result<never> {
  return { ok: false, error: details === undefined ? { code, message } : { code, message, details } }
}

/**
 * The one entry point both transports use: checks `method` is in the contract, validates `request` with
 * its zod schema (a 'bad_request' naming the field otherwise), calls the handler, and wraps the outcome in
 * a Result envelope. Never throws.
 */
export async function dispatch(
  handlers: ApiHandlers,
  method: unknown,
  request: unknown,
): Promise<Result<unknown>> {
  if (!isMethod(method)) {
    return failure(
      'not_found',
      `Unknown method ${JSON.stringify(String(method))}. Known methods: ${Object.keys(api).join(', ')}.`,
    )
  }
  const parsed = api[method].request.safeParse(request)
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => ({
      field: i.path.map(String).join('.') || '(request)',
      message: i.message,
    }))
    const first = issues[0]!
    return failure('bad_request', `Invalid request for ${method}: ${first.field}: ${first.message}`, {
      issues,
    })
  }
  try {
    const handler = handlers[method] as (req: unknown) => Promise<unknown>
    const data = await handler(parsed.data)
    return { ok: true, data }
  } catch (err) {
    return { ok: false, error: toErrorData(err) }
  }
}
