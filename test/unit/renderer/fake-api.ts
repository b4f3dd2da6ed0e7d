import type { EventName, EventPayload, Method, Req, Res } from '@shared/api'
import type { ApiClient, ConnectionState } from '@renderer/api'
import { ApiError } from '@renderer/api'

type Handler<M extends Method> = (req: Req<M>) => Res<M> | Promise<Res<M>>

/** An in-memory ApiClient: canned handlers per method, and `emit` to push events as main would. */
export interface FakeApi extends ApiClient {
  handle<M extends Method>(method: M, handler: Handler<M>): void
  emit<E extends EventName>(name: E, payload: EventPayload<E>): void
  calls: Array<{ method: Method; request: unknown }>
}

/** Creates a FakeApi; unhandled methods throw an ApiError('not_found'). */
export function createFakeApi(): FakeApi {
  const handlers = new Map<Method, (req: unknown) => unknown>()
  const listeners = new Set<{ name: EventName; cb: (p: unknown) => void }>()
  const calls: FakeApi['calls'] = []
  return {
    transport: 'ipc',
    calls,
    handle(method, handler) {
      handlers.set(method, handler as (req: unknown) => unknown)
    },
    async call<M extends Method>(method: M, request: Req<M>): Promise<Res<M>> {
      calls.push({ method, request })
      const h = handlers.get(method)
      if (!h) throw new ApiError('not_found', `No fake handler for ${method}`)
      return (await h(request)) as Res<M>
    },
    onEvent(name, cb) {
      const entry = { name, cb: cb as (p: unknown) => void }
      listeners.add(entry)
      return () => listeners.delete(entry)
    },
    emit(name, payload) {
      for (const l of [...listeners]) if (l.name === name) l.cb(payload)
    },
    onConnection(cb: (s: ConnectionState) => void) {
      cb('open')
      return () => {}
    },
    close() {},
  }
}
