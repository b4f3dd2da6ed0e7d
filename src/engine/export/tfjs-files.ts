import { mkdir, readFile, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { NasError } from '../../shared'
import { tf } from '../compute/backend'
import type { LayerWeights } from './onnx'

/**
 * TF.js models on disk without tfjs-node: pure @tensorflow/tfjs has no file:// handler in Node, so these
 * IOHandlers write and read the standard layers format (model.json + one weights.bin shard) themselves.
 */

/** File names of a saved TF.js layers model. */
export const MODEL_JSON = 'model.json'
export const WEIGHTS_BIN = 'weights.bin'

/** An IOHandler that writes `dir`/model.json and `dir`/weights.bin (creates `dir`). */
export function fileSaveHandler(dir: string): tf.io.IOHandler {
  return tf.io.withSaveHandler(async (artifacts) => {
    await mkdir(dir, { recursive: true })
    const data = artifacts.weightData
    const bytes =
      data === undefined
        ? new Uint8Array(0)
        : new Uint8Array(Array.isArray(data) ? tf.io.concatenateArrayBuffers(data) : data)
    const modelJson = {
      format: 'layers-model',
      generatedBy: artifacts.generatedBy ?? `TensorFlow.js tfjs-layers v${tf.version.tfjs}`,
      convertedBy: 'NAS Studio',
      modelTopology: artifacts.modelTopology,
      weightsManifest: [{ paths: [`./${WEIGHTS_BIN}`], weights: artifacts.weightSpecs ?? [] }],
    }
    await writeFile(path.join(dir, WEIGHTS_BIN), bytes)
    await writeFile(path.join(dir, MODEL_JSON), JSON.stringify(modelJson))
    return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts) }
  })
}

/** An IOHandler that reads a layers model written by fileSaveHandler (or any single- or multi-shard one). */
export function fileLoadHandler(dir: string): tf.io.IOHandler {
  return {
    load: async () => {
      let json: {
        modelTopology: object
        weightsManifest: Array<{ paths: string[]; weights: tf.io.WeightsManifestEntry[] }>
        format?: string
        generatedBy?: string
        convertedBy?: string
      }
      try {
        json = JSON.parse(await readFile(path.join(dir, MODEL_JSON), 'utf8'))
      } catch (err) {
        // the folder goes in details (logs), not in the message a person reads
        const why =
          (err as NodeJS.ErrnoException).code === 'ENOENT'
            ? 'its model.json is missing'
            : 'its model.json is not valid JSON'
        throw new NasError('not_found', `The saved model cannot be read: ${why}`, { dir })
      }
      const specs: tf.io.WeightsManifestEntry[] = []
      const buffers: ArrayBuffer[] = []
      for (const group of json.weightsManifest) {
        specs.push(...group.weights)
        for (const p of group.paths) {
          const buf = await readFile(path.join(dir, p))
          buffers.push(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) as ArrayBuffer)
        }
      }
      return {
        modelTopology: json.modelTopology,
        weightSpecs: specs,
        weightData: tf.io.concatenateArrayBuffers(buffers),
        format: json.format,
        generatedBy: json.generatedBy,
        convertedBy: json.convertedBy,
      }
    },
  }
}

/** Loads a layers model from `dir` (custom NAS layers must be registered: import custom-layers first). */
export async function loadModelDir(dir: string): Promise<tf.LayersModel> {
  return tf.loadLayersModel(fileLoadHandler(dir))
}

/** Copies a model's weights out as plain arrays by layer name and weight name (kernel, bias, gamma, ...). */
export function readLayerWeights(model: tf.LayersModel): LayerWeights {
  const out: LayerWeights = new Map()
  for (const layer of model.layers) {
    const entry: LayerWeights extends Map<string, infer V> ? V : never = {}
    for (const w of layer.weights) {
      const key = w.originalName.slice(w.originalName.lastIndexOf('/') + 1)
      entry[key] = {
        shape: [...w.shape] as number[],
        data: Float32Array.from(w.read().dataSync() as Float32Array),
      }
    }
    if (layer.weights.length > 0) out.set(layer.name, entry)
  }
  return out
}

/** Sets every layer's weights from plain arrays (layers without an entry keep their initial weights). */
export function writeLayerWeights(model: tf.LayersModel, weights: LayerWeights): void {
  for (const layer of model.layers) {
    const entry = weights.get(layer.name)
    if (!entry || layer.weights.length === 0) continue
    const values = layer.weights.map((w) => {
      const key = w.originalName.slice(w.originalName.lastIndexOf('/') + 1)
      const src = entry[key]
      if (!src) throw new NasError('internal', `No weight "${key}" for layer ${layer.name}`)
      return tf.tensor(src.data, src.shape, 'float32')
    })
    layer.setWeights(values)
    tf.dispose(values)
  }
}
