import { defineStore } from 'pinia'
import { computed, ref } from 'vue'
import { isOneShot, type Run, type RunConfig } from '@shared/domain'
import { errorMessage, useApi } from '@renderer/api'

/** Statuses in which a run may still change (and can be cancelled). */
export const ACTIVE_RUN_STATUSES: readonly Run['status'][] = ['queued', 'running']

/** Statuses from which a run can be continued (`runs.resume`). */
export const RESUMABLE_RUN_STATUSES: readonly Run['status'][] = ['paused', 'interrupted']

/** True when `run` can be resumed: paused or interrupted, and not a one-shot (DARTS) search. */
export function canResume(run: Run): boolean {
  return RESUMABLE_RUN_STATUSES.includes(run.status) && !isOneShot(run.config.strategy)
}

/**
 * The run history: every run known to main, newest first, kept live by 'run.updated' events.
 * Holds plain JSON data only.
 */
export const useRunsStore = defineStore('runs', () => {
  const runs = ref<Run[]>([])
  const loaded = ref(false)
  const loading = ref(false)
  const error = ref<string | null>(null)

  const sorted = computed(() => [...runs.value].sort((a, b) => b.createdAt.localeCompare(a.createdAt)))

  /** The run with this id, if known. */
  function byId(id: string): Run | undefined {
    return runs.value.find((r) => r.id === id)
  }

  /** Inserts or replaces one run (from a response or a 'run.updated' event). */
  function applyRun(run: Run): void {
    const i = runs.value.findIndex((r) => r.id === run.id)
    if (i === -1) runs.value.push(run)
    else runs.value[i] = run
  }

  /** Loads the whole history (`runs.list`); errors end up in `error`, never thrown. */
  async function load(): Promise<void> {
    loading.value = true
    try {
      const list = await useApi().call('runs.list', {})
      runs.value = list
      error.value = null
      loaded.value = true
    } catch (err) {
      error.value = errorMessage(err)
    } finally {
      loading.value = false
    }
  }

  /** Fetches one run (`runs.get`) and stores it; throws ApiError (e.g. not_found) for the view to show. */
  async function fetchRun(runId: string): Promise<Run> {
    const run = await useApi().call('runs.get', { runId })
    applyRun(run)
    return run
  }

  /** Starts a search (`runs.start`); resolves to the new run. Throws ApiError with a readable message. */
  async function start(config: RunConfig): Promise<Run> {
    const run = await useApi().call('runs.start', config)
    applyRun(run)
    return run
  }

  /** Asks main to cancel a run (`runs.cancel`); the returned state is applied at once. */
  async function cancel(runId: string): Promise<Run> {
    const run = await useApi().call('runs.cancel', { runId })
    applyRun(run)
    return run
  }

  /** Pauses a running search (`runs.pause`): resolves once it is paused. Throws ApiError. */
  async function pause(runId: string): Promise<Run> {
    const run = await useApi().call('runs.pause', { runId })
    applyRun(run)
    return run
  }

  /** Continues a paused or interrupted search (`runs.resume`). Throws ApiError with a readable message. */
  async function resume(runId: string): Promise<Run> {
    const run = await useApi().call('runs.resume', { runId })
    applyRun(run)
    return run
  }

  /** Deletes a finished run (`runs.delete`) and drops it from the list. Throws ApiError. */
  async function remove(runId: string): Promise<void> {
    await useApi().call('runs.delete', { runId })
    runs.value = runs.value.filter((r) => r.id !== runId)
  }

  /** Sets a run's notes and tags (`runs.annotate`). Throws ApiError. */
  async function annotate(runId: string, notes: string, tags: string[]): Promise<Run> {
    const run = await useApi().call('runs.annotate', { runId, notes, tags })
    applyRun(run)
    return run
  }

  /** Applies 'run.updated' events from now on; returns the unsubscribe function. */
  function listen(): () => void {
    return useApi().onEvent('run.updated', applyRun)
  }

  return {
    runs,
    sorted,
    loaded,
    loading,
    error,
    byId,
    applyRun,
    load,
    fetchRun,
    start,
    cancel,
    pause,
    resume,
    remove,
    annotate,
    listen,
  }
})
