import type { IpcInvokeEventLike, IpcMainLike } from '../../src/main/ipc'

type Listener = (event: IpcInvokeEventLike, ...args: unknown[]) => unknown

/** An ipcMain stand-in: records handlers and lets a test invoke them as a given frame URL. */
export class FakeIpcMain implements IpcMainLike {
  readonly handlers = new Map<string, Listener>()

  handle(channel: string, listener: Listener): void {
    if (this.handlers.has(channel)) throw new Error(`Attempted to register a second handler for '${channel}'`)
    this.handlers.set(channel, listener)
  }

  removeHandler(channel: string): void {
    this.handlers.delete(channel)
  }

  /** Calls the handler of `channel` as if the frame at `senderUrl` invoked it. */
  async invoke(channel: string, senderUrl: string | null, ...args: unknown[]): Promise<unknown> {
    const listener = this.handlers.get(channel)
    if (!listener) throw new Error(`No handler registered for '${channel}'`)
    return listener({ senderFrame: senderUrl === null ? null : { url: senderUrl } }, ...args)
  }
}
