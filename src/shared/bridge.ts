import type { EventMessage, Method, Req, Res } from './api'
import type { Result } from './errors'

/**
 * What the preload script exposes as `window.nas`, and what the web-mode client implements too.
 * `invoke` never rejects for application errors: it resolves to a Result envelope.
 */
export interface NasBridge {
  invoke<M extends Method>(method: M, request: Req<M>): Promise<Result<Res<M>>>
  /** Subscribes to all events; returns the unsubscribe function. */
  onEvent(listener: (message: EventMessage) => void): () => void
}
