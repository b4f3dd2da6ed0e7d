import { contextBridge, ipcRenderer, webUtils, type IpcRendererEvent } from 'electron'
import type { IPC_EVENT_CHANNEL, IPC_INVOKE_CHANNEL } from '../shared/api'
import type { NasBridge } from '../shared/bridge'
import type { EventMessage } from '../shared/api'

// A sandboxed preload cannot load packages (zod), so the channel names are literals here; typing them as
// the contract's constants makes any rename in src/shared a compile error.
const INVOKE: typeof IPC_INVOKE_CHANNEL = 'nas:invoke'
const EVENT: typeof IPC_EVENT_CHANNEL = 'nas:event'

/** `window.nas`: the contract over IPC. Only these two functions reach the page, never ipcRenderer itself. */
const bridge: NasBridge = {
  invoke: (method, request) => ipcRenderer.invoke(INVOKE, method, request),
  onEvent(listener) {
    const wrapped = (_event: IpcRendererEvent, message: EventMessage): void => listener(message)
    ipcRenderer.on(EVENT, wrapped)
    return () => {
      ipcRenderer.removeListener(EVENT, wrapped)
    }
  },
}

contextBridge.exposeInMainWorld('nas', bridge)

/**
 * `window.nasFiles`: the local path of a file or folder dropped onto the window, so a drop can start an
 * import (File.path was removed in Electron 32; webUtils is the supported way). Paths only, no file access.
 */
contextBridge.exposeInMainWorld('nasFiles', {
  pathForFile: (file: File): string => webUtils.getPathForFile(file),
})
