import { defineStore } from 'pinia'
import { computed, ref } from 'vue'
import type { Trial, TrialEpoch } from '@shared/domain'
import { isBetterResult } from '@shared/ranking'
import { errorMessage, useApi } from '@renderer/api'

/** One point of the best-so-far curve: after trial `index` finished, the best validation accuracy seen. */
export interface BestSoFarPoint {
  index: number
  best: number | null
}

/**
 * The candidates the search itself trained: every trial but the final retraining of the winner (its scores are
 * training and test figures, not comparable with the candidates' validation accuracy).
 */
export function searchTrials<T extends Pick<Trial, 'isFinal'>>(trials: readonly T[]): T[] {
  return trials.filter((t) => !t.isFinal)
}

/**
 * The best completed search trial, as the search picks it (highest validation accuracy; ties: lower validation
 * loss, then fewer weights, then the earliest; early-stopped trials never win), or null.
 */
export function bestTrialOf(trials: readonly Trial[]): Trial | null {
  let best: (Trial & { valAccuracy: number }) | null = null
  for (const t of searchTrials(trials)) {
    if (t.status !== 'completed' || t.valAccuracy === null || t.stoppedEarly) continue
    const scored = { ...t, valAccuracy: t.valAccuracy }
    if (!best || isBetterResult(scored, best)) best = scored
  }
  return best === null ? null : (trials.find((t) => t.id === best!.id) ?? null)
}

/** The best-so-far curve over trial index, for every search trial that has finished (completed or failed). */
export function bestSoFar(trials: readonly Trial[]): BestSoFarPoint[] {
  const points: BestSoFarPoint[] = []
  let best: number | null = null
  for (const t of searchTrials(trials).sort((a, b) => a.index - b.index)) {
    if (t.status === 'queued' || t.status === 'running') continue
    if (t.status === 'completed' && t.valAccuracy !== null) best = Math.max(best ?? -Infinity, t.valAccuracy)
    points.push({ index: t.index, best })
  }
  return points
}

/**
 * Trials of the run on screen, kept live by 'trial.updated' (status, scores) and 'trial.epoch' (the latest
 * epoch of each trial, for progress while it trains). Events for other runs are ignored.
 */
export const useTrialsStore = defineStore('trials', () => {
  const runId = ref<string | null>(null)
  const trials = ref<Trial[]>([])
  const latestEpochs = ref<Record<string, TrialEpoch>>({})
  /** Every epoch of each trial (learning curves), from `trials.runEpochs` then live events. */
  const epochs = ref<Record<string, TrialEpoch[]>>({})
  const selectedTrialId = ref<string | null>(null)
  const loading = ref(false)
  const error = ref<string | null>(null)
  /** Events that arrived while the list was loading; re-applied on top of it so none is lost. */
  let pending: Trial[] = []

  const best = computed(() => bestTrialOf(trials.value))
  const curve = computed(() => bestSoFar(trials.value))
  /** The trial whose architecture is drawn: the one clicked, else the best, else the newest. */
  const selected = computed<Trial | null>(() => {
    const chosen = trials.value.find((t) => t.id === selectedTrialId.value)
    return chosen ?? best.value ?? trials.value[trials.value.length - 1] ?? null
  })

  /** Inserts or replaces one trial of the current run, keeping index order. */
  function applyTrial(trial: Trial): void {
    if (trial.runId !== runId.value) return
    if (loading.value) pending.push(trial)
    const i = trials.value.findIndex((t) => t.id === trial.id)
    if (i === -1) {
      trials.value.push(trial)
      trials.value.sort((a, b) => a.index - b.index)
    } else trials.value[i] = trial
  }

  /** Records the newest epoch of a trial of the current run. */
  function applyEpoch(epoch: TrialEpoch): void {
    if (epoch.runId !== runId.value) return
    const previous = latestEpochs.value[epoch.trialId]
    if (!previous || previous.epoch <= epoch.epoch) latestEpochs.value[epoch.trialId] = epoch
    const list = (epochs.value[epoch.trialId] ??= [])
    const at = list.findIndex((e) => e.epoch === epoch.epoch)
    if (at === -1) list.push(epoch)
    else list[at] = epoch
    list.sort((a, b) => a.epoch - b.epoch)
  }

  /** Loads every epoch of the run (learning curves); a failure leaves the curves empty, nothing else. */
  async function loadEpochs(id: string): Promise<void> {
    try {
      const list = await useApi().call('trials.runEpochs', { runId: id })
      if (runId.value !== id) return
      const next: Record<string, TrialEpoch[]> = {}
      for (const e of list) (next[e.trialId] ??= []).push(e)
      for (const l of Object.values(next)) l.sort((a, b) => a.epoch - b.epoch)
      epochs.value = next
      // a trial still training (the final training, often) shows its progress on a reopened run too
      for (const [id, l] of Object.entries(next)) {
        const newest = l[l.length - 1]!
        const previous = latestEpochs.value[id]
        if (!previous || previous.epoch < newest.epoch) latestEpochs.value[id] = newest
      }
    } catch {
      // curves are a nicety: the table and charts of scores still work
    }
  }

  /** Switches to `id`'s trials (`trials.list`); errors end up in `error`. */
  async function load(id: string): Promise<void> {
    if (runId.value !== id) {
      trials.value = []
      latestEpochs.value = {}
      epochs.value = {}
      selectedTrialId.value = null
    }
    runId.value = id
    loading.value = true
    pending = []
    try {
      const list = await useApi().call('trials.list', { runId: id })
      if (runId.value !== id) return
      trials.value = [...list].sort((a, b) => a.index - b.index)
      error.value = null
    } catch (err) {
      error.value = errorMessage(err)
    } finally {
      loading.value = false
      for (const t of pending) applyTrial(t)
      pending = []
    }
  }

  /** Chooses which trial's architecture is shown. */
  function select(trialId: string | null): void {
    selectedTrialId.value = trialId
  }

  /** Applies trial events from now on; returns the unsubscribe function. */
  function listen(): () => void {
    const api = useApi()
    const offTrial = api.onEvent('trial.updated', applyTrial)
    const offEpoch = api.onEvent('trial.epoch', applyEpoch)
    return () => {
      offTrial()
      offEpoch()
    }
  }

  return {
    runId,
    trials,
    latestEpochs,
    epochs,
    loadEpochs,
    selectedTrialId,
    loading,
    error,
    best,
    curve,
    selected,
    applyTrial,
    applyEpoch,
    load,
    select,
    listen,
  }
})
