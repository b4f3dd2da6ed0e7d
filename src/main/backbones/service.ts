import { randomUUID } from 'node:crypto'
import type { Logger } from '../../engine/ports'
import {
  BACKBONE_PIXEL_SCALES,
  NasError,
  toErrorData,
  type ApiHandlers,
  type BackboneDownloadJob,
  type EventMessage,
} from '../../shared'
import type { EngineApi } from '../services/engine-facade'
import { BUILTIN_CATALOGUE, catalogueBytes, isDownloadable, type CatalogueItem } from './catalogue'
import { downloadCatalogueItem } from './catalogue-download'
import { importModel, locateModel } from './import-model'
import { BackboneStore, backbonesRoot } from './store'

/** The contract methods this service serves. */
export type BackboneHandlers = Pick<
  ApiHandlers,
  | 'backbones.list'
  | 'backbones.import'
  | 'backbones.importRun'
  | 'backbones.rename'
  | 'backbones.delete'
  | 'backbones.catalogue'
  | 'backbones.download'
  | 'backbones.downloadStatus'
  | 'backbones.cancelDownload'
>

/** A run's final model written as a TF.js export: its folder and how to name it. */
export interface RunModelExport {
  dir: string
  name: string
  origin: string
}

/** Inputs of createBackboneService. */
export interface BackboneServiceOptions {
  dataDir: string
  engine: EngineApi
  publish: (message: EventMessage) => void
  /** Writes (or finds) a verified TF.js export of a run's final model, or of `trialId`. */
  exportRunModel: (runId: string, trialId: string | undefined) => Promise<RunModelExport>
  /** Default: the built-in catalogue; tests pass entries served by a local server. */
  catalogue?: readonly CatalogueItem[]
  nowIso: () => string
  logger: Logger
}

/** Backbone handlers plus what the rest of main needs. */
export interface BackboneService {
  handlers: BackboneHandlers
  store: BackboneStore
  /** Resolves with the download job once it has finished (done, failed or cancelled). */
  whenDownloaded(jobId: string): Promise<BackboneDownloadJob>
  /** Cancels downloads in progress and waits for them. */
  close(): Promise<void>
}

interface Job {
  state: BackboneDownloadJob
  abort: AbortController
  done: Promise<BackboneDownloadJob>
}

/** The folder name of a web-mode upload (see the renderer's newUploadId). */
const UPLOAD_FOLDER = /^up-[a-z0-9]{16}$/

/** Download progress is published at most this many times per download (plus start and end). */
const PROGRESS_STEPS = 50

/**
 * Backbones in <dataDir>/backbones: imported from a person's TF.js Layers model or a run's final model,
 * or downloaded from the catalogue with consent (one download per catalogue entry at a time).
 */
export function createBackboneService(opts: BackboneServiceOptions): BackboneService {
  const store = new BackboneStore(backbonesRoot(opts.dataDir))
  store.removeLeftovers()
  const catalogue = opts.catalogue ?? BUILTIN_CATALOGUE
  const jobs = new Map<string, Job>()
  const inspect = (): NonNullable<EngineApi['inspectBackbone']> => {
    const fn = opts.engine.inspectBackbone
    if (!fn) throw new NasError('internal', 'Backbones are not available in this build of NAS Studio')
    return fn.bind(opts.engine)
  }
  const requireJob = (jobId: string): Job => {
    const job = jobs.get(jobId)
    if (!job) throw new NasError('not_found', `There is no download "${jobId}"`)
    return job
  }
  const publish = (job: Job): void => opts.publish({ event: 'backbone.download', payload: { ...job.state } })

  function startDownload(item: CatalogueItem): Job {
    const running = [...jobs.values()].find(
      (j) => j.state.catalogueId === item.id && j.state.state === 'downloading',
    )
    if (running) return running
    const abort = new AbortController()
    const job: Job = {
      state: {
        jobId: randomUUID(),
        catalogueId: item.id,
        state: 'downloading',
        receivedBytes: 0,
        totalBytes: catalogueBytes(item) ?? 0,
        backboneId: null,
        error: null,
      },
      abort,
      done: Promise.resolve(null as unknown as BackboneDownloadJob),
    }
    let lastStep = -1
    job.done = downloadCatalogueItem(item, {
      store,
      inspect: inspect(),
      nowIso: opts.nowIso,
      signal: abort.signal,
      onBytes: (received, total) => {
        job.state.receivedBytes = received
        const step = total > 0 ? Math.floor((received / total) * PROGRESS_STEPS) : 0
        if (step !== lastStep) {
          lastStep = step
          publish(job)
        }
      },
    }).then(
      (info) => {
        job.state = { ...job.state, state: 'done', backboneId: info.id, receivedBytes: job.state.totalBytes }
        opts.logger.info('Downloaded a catalogue backbone', { id: info.id })
        publish(job)
        return job.state
      },
      (err: unknown) => {
        const data = toErrorData(err)
        job.state = {
          ...job.state,
          state: data.code === 'cancelled' ? 'cancelled' : 'failed',
          error: data.message,
        }
        opts.logger.warn('A catalogue download ended without a backbone', {
          id: item.id,
          error: data.message,
        })
        publish(job)
        return job.state
      },
    )
    jobs.set(job.state.jobId, job)
    publish(job)
    return job
  }

  const handlers: BackboneHandlers = {
    'backbones.list': async () => store.list(),
    'backbones.import': async ({ path, name, pixels }) => {
      const located = await locateModel(path)
      // a web-mode upload's folder is named by its upload id, which means nothing to the person
      const chosen = UPLOAD_FOLDER.test(located.label) ? null : located.label
      return importModel(located.dir, located.file, {
        store,
        inspect: inspect(),
        name: (found) => name ?? chosen ?? (found.modelName || 'My model'),
        source: 'file',
        origin: chosen ? `Your model "${chosen}"` : 'Your model',
        normalisation: BACKBONE_PIXEL_SCALES[pixels ?? 'unit'],
        nowIso: opts.nowIso,
      })
    },
    'backbones.importRun': async ({ runId, trialId, name }) => {
      const exported = await opts.exportRunModel(runId, trialId)
      return importModel(exported.dir, 'model.json', {
        store,
        inspect: inspect(),
        name: name ?? exported.name,
        source: 'run',
        origin: exported.origin,
        // NAS Studio's own data pipeline scales pixels to [0, 1]
        normalisation: BACKBONE_PIXEL_SCALES.unit,
        nowIso: opts.nowIso,
      })
    },
    'backbones.rename': async ({ backboneId, name }) => store.rename(backboneId, name),
    'backbones.delete': async ({ backboneId }) => {
      const running = [...jobs.values()].find(
        (j) => j.state.catalogueId === backboneId && j.state.state === 'downloading',
      )
      if (running)
        throw new NasError('conflict', 'This backbone is still downloading; cancel the download first.')
      store.delete(backboneId)
      return { deleted: true, id: backboneId }
    },
    'backbones.catalogue': async () =>
      catalogue.map((item) => {
        const downloadable = isDownloadable(item)
        return {
          id: item.id,
          name: item.name,
          description: item.description,
          source: hostOf(item.files[0]?.url),
          sizeBytes: catalogueBytes(item),
          downloadable,
          unavailableReason: downloadable ? null : (item.missing ?? 'Its files are not known.'),
          installedId: store.get(item.id) ? item.id : null,
        }
      }),
    'backbones.download': async ({ catalogueId }) => {
      const item = catalogue.find((c) => c.id === catalogueId)
      if (!item) throw new NasError('not_found', `The catalogue has no backbone "${catalogueId}"`)
      if (!isDownloadable(item)) {
        throw new NasError(
          'conflict',
          `${item.name} cannot be downloaded: ${item.missing ?? 'its files are not known.'}`,
        )
      }
      return { ...startDownload(item).state }
    },
    'backbones.downloadStatus': async ({ jobId }) => ({ ...requireJob(jobId).state }),
    'backbones.cancelDownload': async ({ jobId }) => {
      const job = requireJob(jobId)
      job.abort.abort()
      return { ...(await job.done) }
    },
  }

  return {
    handlers,
    store,
    whenDownloaded: async (jobId) => requireJob(jobId).done,
    close: async () => {
      for (const job of jobs.values()) job.abort.abort()
      await Promise.all([...jobs.values()].map((j) => j.done))
    },
  }
}

function hostOf(url: string | undefined): string {
  try {
    return url ? new URL(url).host : 'unknown'
  } catch {
    return 'unknown'
  }
}
