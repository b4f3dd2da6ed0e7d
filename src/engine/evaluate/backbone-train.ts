import type { Architecture, Genotype, TrainSettings } from '../../shared'
import { NasError } from '../../shared'
import { tf } from '../compute/backend'
import { toBackboneInput } from '../data/backbone-input'
import type { DataPart, LoadedData } from '../data/loaded-data'
import type { LoadedBackbone } from '../space/backbones'
import { BACKBONE_NODE_PREFIX } from '../space/backbones'
import { inferShapes, inputsByNode } from '../space/shapes'
import { ensureBackbone } from './backbone-load'
import { buildModel } from './build-model'

/**
 * Training of a pretrained-backbone network, cut at the freeze boundary: the frozen part (input up to the
 * boundary) only ever runs in inference mode (batch norm on its moving statistics) and never changes; its
 * features are computed once per image and cached per dataset, backbone and boundary, so every candidate head
 * of a search trains on the cached features. The trainable rest (fine-tuned backbone blocks + head) trains
 * like any network; its backbone layers learn at a lower rate.
 */

type Gene = Extract<Genotype, { family: 'backbone' }>

/** What the ordinary trainer runs instead: the trainable part, on the features, with these settings. */
export interface BackbonePlan {
  arch: Architecture
  data: LoadedData
  settings: TrainSettings
  /** Layers whose names start with `prefix` learn at `factor` x the learning rate. */
  slow?: { prefix: string; factor: number }
}

/** Feature-cache hits and misses since the process started, per split (a miss = one pass of the frozen part over it). */
export const featureCacheStats = { hits: 0, misses: 0 }

const featureCache = new WeakMap<LoadedData, Map<string, Promise<DataPart>>>()

/** Node id where the frozen part ends, or null when nothing is frozen. */
export function freezeBoundary(gene: Gene, backbone: LoadedBackbone): string | null {
  if (gene.fineTune === 'all') return null
  const cuts = backbone.info.cutPoints
  const i = cuts.findIndex((c) => c.layer === gene.cut)
  if (i < 0) throw new NasError('invalid_space', `The backbone cannot be cut at "${gene.cut}"`)
  const k = gene.fineTune === 'frozen' ? 0 : gene.fineTune
  return k > i ? null : BACKBONE_NODE_PREFIX + cuts[i - k]!.layer
}

/**
 * `arch` split at node `boundary`: the part that computes it (output = boundary) and the rest, whose input node
 * is the boundary (same id). Throws when another path bypasses the boundary.
 */
export function splitAt(arch: Architecture, boundary: string): { frozen: Architecture; rest: Architecture } {
  const ins = inputsByNode(arch)
  const before = new Set<string>()
  const stack = [boundary]
  while (stack.length > 0) {
    const id = stack.pop()!
    if (before.has(id)) continue
    before.add(id)
    stack.push(...ins.get(id)!)
  }
  const inFrozen = (id: string): boolean => before.has(id) && id !== boundary
  for (const [from, to] of arch.edges)
    if (inFrozen(from) && !before.has(to))
      throw new NasError(
        'invalid_space',
        `The backbone cannot be split at "${boundary.slice(BACKBONE_NODE_PREFIX.length)}": a connection skips over it. Choose another cut or fine-tuning.`,
      )
  const genotype = arch.genotype ? { genotype: arch.genotype } : {}
  const frozen: Architecture = {
    version: 1,
    nodes: arch.nodes.filter((n) => before.has(n.id)),
    edges: arch.edges.filter(([f, t]) => before.has(f) && before.has(t)),
    output: boundary,
    ...genotype,
  }
  const rest: Architecture = {
    version: 1,
    nodes: [
      { id: boundary, op: 'input' },
      ...arch.nodes.filter((n) => !before.has(n.id)).map((n) => ({ ...n })),
    ],
    edges: arch.edges.filter(([, t]) => !before.has(t)),
    output: arch.output,
    ...(arch.groups ? { groups: arch.groups } : {}),
    ...genotype,
  }
  return { frozen, rest }
}

/** Outputs of `model` for every sample of `part`, in chunks, read back asynchronously. */
async function featuresOf(
  model: tf.LayersModel,
  part: DataPart,
  inputShape: number[],
  outSize: number,
): Promise<DataPart> {
  const size = inputShape.reduce((a, b) => a * b, 1)
  const x = new Float32Array(part.count * outSize)
  const chunk = 128
  for (let start = 0; start < part.count; start += chunk) {
    const n = Math.min(chunk, part.count - start)
    const out = tf.tidy(
      () =>
        model.predict(
          tf.tensor(part.x.subarray(start * size, (start + n) * size), [n, ...inputShape]),
        ) as tf.Tensor,
    )
    x.set((await out.data()) as Float32Array, start * outSize)
    out.dispose()
  }
  return { x, y: part.y, count: part.count }
}

/**
 * Features of the frozen part for the splits of `data` training needs (the test split only for a final
 * training), each from the cache when it was computed before.
 */
async function cachedFeatures(
  data: LoadedData,
  frozen: Architecture,
  key: string,
  shape: number[],
  withTest: boolean,
): Promise<LoadedData> {
  let perData = featureCache.get(data)
  if (!perData) featureCache.set(data, (perData = new Map()))
  const cache = perData
  let model: tf.LayersModel | null = null
  const size = shape.reduce((a, b) => a * b, 1)
  const partOf = (name: 'train' | 'validation' | 'test'): Promise<DataPart> => {
    const known = cache.get(`${key}|${name}`)
    if (known) {
      featureCacheStats.hits++
      return known
    }
    featureCacheStats.misses++
    model ??= buildModel(frozen, data.inputShape, 0)
    const computed = featuresOf(model, data[name], data.inputShape, size)
    computed.catch(() => cache.delete(`${key}|${name}`))
    cache.set(`${key}|${name}`, computed)
    return computed
  }
  try {
    const train = await partOf('train')
    const validation = await partOf('validation')
    const test = withTest ? await partOf('test') : { x: new Float32Array(0), y: new Int32Array(0), count: 0 }
    return { ...data, inputShape: shape, train, validation, test }
  } finally {
    ;(model as tf.LayersModel | null)?.dispose()
  }
}

/**
 * How to train backbone network `arch` on `data`: loads the backbone when needed, checks the data's shape,
 * and returns the trainable part with its (cached) input features; the images are resized, converted and
 * scaled to the backbone's input first (data/backbone-input.ts). Proxies that change the input (resolution)
 * and augmentation of feature maps do not apply to the features and are switched off.
 */
export async function planBackboneTraining(
  arch: Architecture,
  data: LoadedData,
  settings: TrainSettings,
  final = false,
): Promise<BackbonePlan> {
  const gene = arch.genotype as Gene
  const backbone = await ensureBackbone(gene.backbone)
  const scaledData = backboneInputCached(data, backbone)
  const slow = { prefix: BACKBONE_NODE_PREFIX, factor: gene.fineTuneRate }
  const boundary = freezeBoundary(gene, backbone)
  const { resolution: _r, ...rest } = settings
  if (boundary === null) return { arch, data: scaledData, settings: rest, slow }
  const { frozen, rest: trainable } = splitAt(arch, boundary)
  const shape = inferShapes(frozen, scaledData.inputShape).get(boundary)!
  const key = `${gene.backbone}#${backbone.generation}|${boundary}`
  const features = await cachedFeatures(scaledData, frozen, key, shape, final)
  const { augment: _a, ...noAugment } = rest
  const hasSlow = trainable.nodes.some((n) => n.id.startsWith(BACKBONE_NODE_PREFIX) && n.op !== 'input')
  return { arch: trainable, data: features, settings: noAugment, ...(hasSlow ? { slow } : {}) }
}

const backboneInputs = new WeakMap<LoadedData, Map<string, LoadedData>>()

/** toBackboneInput(), kept per dataset and backbone so the feature cache (keyed by the data object) hits. */
function backboneInputCached(data: LoadedData, backbone: LoadedBackbone): LoadedData {
  let per = backboneInputs.get(data)
  if (!per) backboneInputs.set(data, (per = new Map()))
  const key = `${backbone.info.id}#${backbone.generation}`
  let out = per.get(key)
  if (!out) per.set(key, (out = toBackboneInput(data, backbone.info)))
  return out
}
