import { readFile, stat } from 'node:fs/promises'
import path from 'node:path'
import { BACKBONE_MODEL_FILE, NasError } from '../../shared'

/**
 * Reads and checks a TF.js Layers model's files before anything loads them: model.json must be a Layers model
 * (not a graph model) and every weight file it names must be there, inside the model's folder, and hold the
 * bytes its weights need. Every error speaks of the files the person picked, never of our folders.
 */

/** A Keras layer as model.json describes it. */
export interface LayerJson {
  class_name: string
  config?: { name?: string; [key: string]: unknown }
}

/** What the checks found: the topology, its layers, the weights and their files, the bytes of all files. */
export interface ModelFiles {
  modelTopology: object
  layers: LayerJson[]
  /** The weights' specs in shard order (tfjs's WeightsManifestEntry). */
  weightSpecs: unknown[]
  /** Weight files relative to the folder, in the order their bytes concatenate. */
  weightPaths: string[]
  sizeBytes: number
}

/** Bytes per value of the dtypes a weights manifest can carry. */
const DTYPE_BYTES: Record<string, number> = {
  float32: 4,
  int32: 4,
  bool: 1,
  uint8: 1,
  int8: 1,
  uint16: 2,
  int16: 2,
  float16: 2,
  complex64: 8,
}

interface WeightSpec {
  name?: unknown
  shape?: unknown
  dtype?: unknown
  quantization?: { dtype?: unknown }
}

const bad = (message: string): NasError => new NasError('bad_request', message)

/**
 * Reads `<dir>/<modelFile>` (default model.json) and checks it and its weight files; throws
 * NasError('bad_request') in plain words.
 */
export async function readModelFiles(dir: string, modelFile = BACKBONE_MODEL_FILE): Promise<ModelFiles> {
  let text: string
  try {
    text = await readFile(path.join(dir, modelFile), 'utf8')
  } catch {
    throw bad(
      'There is no model.json among the chosen files. A TF.js Layers model is a model.json with its weight files (.bin); pick them together.',
    )
  }
  let json: Record<string, unknown>
  try {
    const parsed: unknown = JSON.parse(text)
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('not an object')
    json = parsed as Record<string, unknown>
  } catch {
    throw bad('model.json is not valid JSON, so it is not a TF.js model.')
  }
  const topology = json.modelTopology as Record<string, unknown> | undefined
  if (json.format === 'graph-model' || (topology && Array.isArray(topology.node))) {
    throw bad(
      'This is a TF.js graph model; NAS Studio can only use TF.js Layers models as backbones. Convert the original Keras model with the TF.js converter\'s "tfjs_layers_model" output format.',
    )
  }
  const modelConfig = (topology?.model_config ?? topology) as Record<string, unknown> | undefined
  const layers = layersOf(modelConfig)
  if (!topology || !layers || !Array.isArray(json.weightsManifest)) {
    throw bad(
      'model.json is not a TF.js Layers model: it lacks the model topology or the list of weight files.',
    )
  }
  const weightPaths: string[] = []
  const weightSpecs: unknown[] = []
  let neededBytes = 0
  for (const group of json.weightsManifest as Array<{ paths?: unknown; weights?: unknown }>) {
    if (!Array.isArray(group?.paths) || !Array.isArray(group.weights)) {
      throw bad("model.json's list of weight files is damaged (a group without paths or weights).")
    }
    for (const p of group.paths) weightPaths.push(checkWeightPath(p))
    for (const spec of group.weights as WeightSpec[]) neededBytes += bytesOf(spec)
    weightSpecs.push(...(group.weights as unknown[]))
  }
  let sizeBytes = Buffer.byteLength(text)
  let weightBytes = 0
  for (const p of weightPaths) {
    let size: number
    try {
      const s = await stat(path.join(dir, p))
      if (!s.isFile()) throw new Error('not a file')
      size = s.size
    } catch {
      throw bad(
        `The weight file "${p}" that model.json names is missing. Pick it together with model.json (all its .bin files).`,
      )
    }
    weightBytes += size
  }
  sizeBytes += weightBytes
  if (weightBytes !== neededBytes) {
    throw bad(
      `The weight files hold ${weightBytes} bytes but model.json describes ${neededBytes}: a file is incomplete or belongs to another model.`,
    )
  }
  return { modelTopology: topology, layers, weightSpecs, weightPaths, sizeBytes }
}

/** The layers of a Sequential or functional model config, or null when it is neither. */
function layersOf(config: Record<string, unknown> | undefined): LayerJson[] | null {
  if (!config || typeof config.class_name !== 'string') return null
  const inner = config.config as Record<string, unknown> | unknown[] | undefined
  const list = Array.isArray(inner) ? inner : inner?.layers
  if (!Array.isArray(list)) return null
  const layers = list.filter((l): l is LayerJson => !!l && typeof (l as LayerJson).class_name === 'string')
  return layers.length === list.length ? layers : null
}

/** A weight file name from model.json, refused when it would leave the model's folder. */
function checkWeightPath(p: unknown): string {
  if (typeof p !== 'string' || p.length === 0 || p.length > 255) {
    throw bad("model.json's list of weight files holds a name that is not a file name.")
  }
  const norm = path.posix.normalize(p.replace(/^\.\//, ''))
  if (norm.startsWith('..') || path.isAbsolute(norm) || norm.includes('\\') || /^[a-z]+:/i.test(norm)) {
    throw bad(
      `model.json names the weight file "${p}" outside the model's own folder; NAS Studio only reads weight files beside model.json.`,
    )
  }
  return norm
}

/** Bytes one weight takes in its shard (quantised weights take their stored dtype's size). */
function bytesOf(spec: WeightSpec): number {
  const shape = spec.shape
  if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && (d as number) >= 0)) {
    throw bad(
      `model.json describes the weight "${String(spec.name)}" with a shape that is not a list of sizes.`,
    )
  }
  const dtype = String(spec.quantization?.dtype ?? spec.dtype ?? 'float32')
  const per = DTYPE_BYTES[dtype]
  if (per === undefined) throw bad(`model.json stores a weight as "${dtype}", which TF.js cannot read.`)
  return (shape as number[]).reduce((n, d) => n * d, 1) * per
}
