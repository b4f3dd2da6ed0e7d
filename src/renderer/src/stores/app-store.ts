import { defineStore } from 'pinia'
import { ref } from 'vue'
import type { AppInfo } from '@shared/domain'
import { errorMessage, useApi, type ConnectionState, type TransportKind } from '@renderer/api'

/**
 * App-wide facts for the status bar: shell mode, compute backend (and why), and whether live updates are
 * connected. `load()` is idempotent enough to call on every reconnect.
 */
export const useAppStore = defineStore('app', () => {
  const info = ref<AppInfo | null>(null)
  const error = ref<string | null>(null)
  const connection = ref<ConnectionState>('connecting')
  const transport = ref<TransportKind | null>(null)

  /** Fetches `app.info`; on failure keeps the last info and records a message a person can act on. */
  async function load(): Promise<void> {
    const api = useApi()
    transport.value = api.transport
    try {
      info.value = await api.call('app.info', {})
      error.value = null
    } catch (err) {
      error.value = errorMessage(err)
    }
  }

  /** Records a connection state change (called by the App shell's subscription). */
  function setConnection(state: ConnectionState): void {
    connection.value = state
  }

  return { info, error, connection, transport, load, setConnection }
})
