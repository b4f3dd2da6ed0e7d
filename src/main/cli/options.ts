import type { ApiHandlers, Method, Req, Res } from '../../shared'
import { dispatch } from '../services'
import { UsageError } from './io'

/** Values of --backend (the engine's NAS_BACKEND). */
export const BACKENDS = ['tensorflow', 'webgpu', 'wasm', 'cpu']

/**
 * Applies --backend by setting NAS_BACKEND, which the engine reads when it first picks a backend (in this
 * process and in the trial workers, which inherit the environment). Must run before the app core opens.
 */
export function applyBackendOption(value: string | undefined): void {
  if (value === undefined) return
  const name = value.trim().toLowerCase()
  if (!BACKENDS.includes(name))
    throw new UsageError(`--backend must be one of ${BACKENDS.join(', ')}, got "${value}".`)
  process.env.NAS_BACKEND = name
}

/** "Compute backend: wasm on Intel Xeon (2 threads) (why...)": one line for people. */
export function backendLine(backend: { name: string; detail: string; device: string }): string {
  return `Compute backend: ${backend.name} on ${backend.device} (${backend.detail})\n`
}

/** The whole number given for --`flag` (`fallback` when absent); UsageError outside [min, max]. */
export function intOption(
  value: string | undefined,
  flag: string,
  fallback: number,
  min: number,
  max: number,
): number {
  if (value === undefined) return fallback
  const n = Number(value)
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n < min || n > max) {
    throw new UsageError(`--${flag} must be a whole number from ${min} to ${max}, got "${value}".`)
  }
  return n
}

/**
 * Calls `method` the way both transports do (request validated against the contract) and returns its
 * answer; a refused request becomes an Error with the service's plain-words message.
 */
export async function callService<M extends Method>(
  handlers: ApiHandlers,
  method: M,
  request: Req<M>,
): Promise<Res<M>> {
  const result = await dispatch(handlers, method, request)
  if (!result.ok) throw new Error(result.error.message)
  return result.data as Res<M>
}
