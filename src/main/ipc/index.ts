import { pathToFileURL } from 'node:url'
import { join } from 'node:path'
import {
  IPC_EVENT_CHANNEL,
  IPC_INVOKE_CHANNEL,
  type ApiHandlers,
  type EventMessage,
  type Result,
} from '../../shared'
import type { EventSubscribe } from '../services'
import { dispatch, failure } from '../services/dispatch'

/** The part of an Electron IpcMainInvokeEvent the gateway reads. */
export interface IpcInvokeEventLike {
  senderFrame?: { url: string } | null
}

/** The part of Electron's ipcMain the gateway uses; tests pass a plain object with the same shape. */
export interface IpcMainLike {
  handle(channel: string, listener: (event: IpcInvokeEventLike, ...args: unknown[]) => unknown): void
  removeHandler(channel: string): void
}

/** Options of registerIpc. */
export interface IpcOptions {
  /** True when the invoking frame is the app's own page (see createTrustedSenderCheck). */
  isTrustedSender(event: IpcInvokeEventLike): boolean
}

/**
 * Binds IPC_INVOKE_CHANNEL (`invoke(method, request)`) to `handlers`. Every call resolves to a Result
 * envelope: an untrusted sender gets 'unauthorized', an unknown method 'not_found', a payload failing the
 * method's zod schema 'bad_request' naming the field. Returns a function that removes the binding.
 */
export function registerIpc(ipcMain: IpcMainLike, handlers: ApiHandlers, opts: IpcOptions): () => void {
  ipcMain.handle(IPC_INVOKE_CHANNEL, async (event, method, request): Promise<Result<unknown>> => {
    // Any frame (an injected iframe, a page navigated elsewhere) can call ipcRenderer; only ours may act.
    let trusted = false
    try {
      trusted = opts.isTrustedSender(event)
    } catch {
      trusted = false
    }
    if (!trusted) return failure('unauthorized', 'This page is not allowed to use NAS Studio.')
    return dispatch(handlers, method, request)
  })
  return () => ipcMain.removeHandler(IPC_INVOKE_CHANNEL)
}

/**
 * Builds the sender check: a frame is trusted when its URL is the built renderer's index.html (any query or
 * hash) or, in development, has the dev server's origin.
 */
export function createTrustedSenderCheck(opts: {
  rendererDir: string
  devServerUrl?: string
}): (event: IpcInvokeEventLike) => boolean {
  const indexUrl = pathToFileURL(join(opts.rendererDir, 'index.html')).href
  const devOrigin = opts.devServerUrl ? new URL(opts.devServerUrl).origin : null
  return (event) => {
    const raw = event.senderFrame?.url
    if (!raw) return false
    let url: URL
    try {
      url = new URL(raw)
    } catch {
      return false
    }
    if (url.protocol === 'file:') return `file://${url.host}${url.pathname}` === indexUrl
    return devOrigin !== null && url.origin === devOrigin
  }
}

/**
 * Forwards every event to a window: `send` is typically `(channel, msg) => win.webContents.send(channel,
 * msg)`. A send that throws (window closing) is ignored. Returns the unsubscribe.
 */
export function forwardEvents(
  events: EventSubscribe,
  send: (channel: string, message: EventMessage) => void,
): () => void {
  return events((message) => {
    try {
      send(IPC_EVENT_CHANNEL, message)
    } catch {
      // The window is being destroyed; it will not need this event.
    }
  })
}
