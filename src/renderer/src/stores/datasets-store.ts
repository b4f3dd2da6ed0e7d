import { defineStore } from 'pinia'
import { computed, ref } from 'vue'
import type { Dataset } from '@shared/domain'
import type { DatasetImportJob, DatasetImportRequest, DatasetPreview } from '@shared/datasets'
import { errorMessage, useApi } from '@renderer/api'

/** Where the current import stands; 'idle' before any. */
export type ImportUiState = 'idle' | 'running' | 'done' | 'failed' | 'cancelled'

/**
 * Datasets: the list from main, the one import this window is running (kept live by
 * 'dataset.importProgress' events), and previews fetched on demand. Plain JSON data only.
 */
export const useDatasetsStore = defineStore('datasets', () => {
  const datasets = ref<Dataset[]>([])
  const loaded = ref(false)
  const error = ref<string | null>(null)
  const job = ref<DatasetImportJob | null>(null)
  const importError = ref<string | null>(null)
  const previews = ref<Record<string, DatasetPreview>>({})
  const previewErrors = ref<Record<string, string>>({})
  /** A path a drop onto the window handed over, for the import form to pick up. */
  const droppedPath = ref<string | null>(null)

  const importState = computed<ImportUiState>(() =>
    importError.value ? 'failed' : (job.value?.state ?? 'idle'),
  )
  const sorted = computed(() => [...datasets.value].sort((a, b) => b.createdAt.localeCompare(a.createdAt)))

  function byId(id: string): Dataset | undefined {
    return datasets.value.find((d) => d.id === id)
  }

  /** Loads the list (`datasets.list`); errors end up in `error`. */
  async function load(): Promise<void> {
    try {
      datasets.value = await useApi().call('datasets.list', {})
      error.value = null
      loaded.value = true
    } catch (err) {
      error.value = errorMessage(err)
    }
  }

  async function applyJob(next: DatasetImportJob): Promise<void> {
    if (job.value && job.value.jobId !== next.jobId) return
    job.value = next
    if (next.state === 'done' && next.datasetId) {
      const dataset = await useApi().call('datasets.get', { datasetId: next.datasetId })
      const i = datasets.value.findIndex((d) => d.id === dataset.id)
      if (i === -1) datasets.value.push(dataset)
      else datasets.value[i] = dataset
    }
  }

  /** Starts an import (`datasets.import`); progress arrives as events. Errors go to `importError`. */
  async function startImport(req: DatasetImportRequest): Promise<void> {
    importError.value = null
    job.value = null
    try {
      const started = await useApi().call('datasets.import', req)
      job.value = started
      // an import that finished before this answer arrived sent its last event already
      const now = await useApi().call('datasets.importStatus', { jobId: started.jobId })
      if (now.state !== 'running') await applyJob(now)
    } catch (err) {
      importError.value = errorMessage(err)
    }
  }

  /** Puts a changed dataset (e.g. renamed) in the list. */
  function replace(dataset: Dataset): void {
    const i = datasets.value.findIndex((d) => d.id === dataset.id)
    if (i === -1) datasets.value.push(dataset)
    else datasets.value[i] = dataset
  }

  /** Drops a deleted dataset from the list. */
  function forget(id: string): void {
    datasets.value = datasets.value.filter((d) => d.id !== id)
  }

  /** Forgets the last import's outcome (a new pick starts with no old status showing). */
  function resetImport(): void {
    if (job.value?.state === 'running') return
    job.value = null
    importError.value = null
  }

  /** Asks main to cancel the running import. */
  async function cancelImport(): Promise<void> {
    if (!job.value || job.value.state !== 'running') return
    try {
      await useApi().call('datasets.cancelImport', { jobId: job.value.jobId })
    } catch (err) {
      importError.value = errorMessage(err)
    }
  }

  /** Fetches (once) the per-class preview of a dataset. */
  async function loadPreview(datasetId: string): Promise<void> {
    if (previews.value[datasetId]) return
    try {
      previews.value[datasetId] = await useApi().call('datasets.preview', { datasetId, perClass: 8 })
      delete previewErrors.value[datasetId]
    } catch (err) {
      previewErrors.value[datasetId] = errorMessage(err)
    }
  }

  /** Applies import progress events from now on; returns the unsubscribe function. */
  function listen(): () => void {
    return useApi().onEvent('dataset.importProgress', (next) => {
      void applyJob(next).catch((err: unknown) => (importError.value = errorMessage(err)))
    })
  }

  return {
    datasets,
    sorted,
    loaded,
    error,
    job,
    importError,
    importState,
    previews,
    previewErrors,
    droppedPath,
    byId,
    load,
    startImport,
    resetImport,
    replace,
    forget,
    cancelImport,
    loadPreview,
    listen,
  }
})
