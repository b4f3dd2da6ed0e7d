/// <reference types="vite/client" />
import type { NasBridge } from '@shared/bridge'

declare module '*.vue' {
  import type { DefineComponent } from 'vue'
  const component: DefineComponent<object, object, unknown>
  export default component
}

declare global {
  interface Window {
    /** Present in the Electron window only (set by the preload script). */
    nas?: NasBridge
    /** Electron only: the local path of a dropped file or folder ('' when it has none). */
    nasFiles?: { pathForFile(file: File): string }
  }
}
