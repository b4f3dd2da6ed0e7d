import { createApiClient, type ApiClient } from './api-client'

export { ApiError, errorMessage } from './api-error'
export type { ApiClient } from './api-client'
export type { ConnectionState, TransportKind } from './transport'

let current: ApiClient | null = null

/** The app-wide api client, created on first use from the page (IPC in Electron, web mode in a browser). */
export function useApi(): ApiClient {
  current ??= createApiClient()
  return current
}

/** Replaces the app-wide client (tests inject a fake; pass null to go back to the default). */
export function setApi(client: ApiClient | null): void {
  current = client
}
