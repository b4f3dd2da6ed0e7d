import { readFileSync } from 'node:fs'
import path from 'node:path'
import * as ort from 'onnxruntime-node'

/**
 * A program outside NAS Studio using an ONNX export: it reads only the export folder (model.onnx and
 * preprocessing.json) and makes each input from a raw sample with the rules preprocessing.json states, as its
 * README tells a person to. Nothing here imports the app.
 */

interface NumericColumn {
  column: string
  kind: 'numeric'
  mean: number
  std: number
}
interface CategoricalColumn {
  column: string
  kind: 'categorical'
  categories: string[]
}
interface PreprocessingJson {
  inputShape: number[]
  classNames: string[]
  image?: { height: number; width: number; channels: number; scale: number[]; offset: number[] }
  table?: {
    features: string[]
    columns: Array<NumericColumn | CategoricalColumn>
    missingCells: string[]
    decimalSeparator: '.' | ','
  }
}

/** A raw sample: an image's pixels (0-255, height x width x channels) or a table row's cells by column name. */
export type RawSample = { pixels: Uint8Array } | { row: Record<string, string> }

function imageInput(pre: PreprocessingJson, pixels: Uint8Array): Float32Array {
  const img = pre.image!
  const x = new Float32Array(img.height * img.width * img.channels)
  for (let i = 0; i < x.length; i++) {
    const c = i % img.channels
    x[i] = pixels[i]! * img.scale[c]! + img.offset[c]!
  }
  return x
}

function tableInput(pre: PreprocessingJson, row: Record<string, string>): Float32Array {
  const table = pre.table!
  const number = (cell: string): number | null => {
    const text = cell.trim()
    if (table.missingCells.includes(text.toLowerCase())) return null
    const v = Number(table.decimalSeparator === ',' ? text.replace(',', '.') : text)
    return Number.isFinite(v) ? v : null
  }
  const features: number[] = []
  for (const c of table.columns) {
    const cell = row[c.column] ?? ''
    if (c.kind === 'numeric') {
      const v = number(cell)
      features.push(v === null ? 0 : (v - c.mean) / c.std)
    } else for (const category of c.categories) features.push(cell === category ? 1 : 0)
  }
  if (features.length !== table.features.length) throw new Error('feature count differs from table.features')
  return Float32Array.from(features)
}

/** The class names predicted for `samples` by the export in `dir`, in sample order. */
export async function predictWithExport(dir: string, samples: RawSample[]): Promise<string[]> {
  const pre = JSON.parse(readFileSync(path.join(dir, 'preprocessing.json'), 'utf8')) as PreprocessingJson
  const session = await ort.InferenceSession.create(path.join(dir, 'model.onnx'))
  try {
    const size = pre.inputShape.reduce((a, b) => a * b, 1)
    const x = new Float32Array(samples.length * size)
    samples.forEach((s, i) =>
      x.set('pixels' in s ? imageInput(pre, s.pixels) : tableInput(pre, s.row), i * size),
    )
    const input = new ort.Tensor('float32', x, [samples.length, ...pre.inputShape])
    const out = await session.run({ [session.inputNames[0]!]: input })
    const probs = out[session.outputNames[0]!]!.data as Float32Array
    const k = pre.classNames.length
    return samples.map((_, i) => {
      let best = 0
      for (let j = 1; j < k; j++) if (probs[i * k + j]! > probs[i * k + best]!) best = j
      return pre.classNames[best]!
    })
  } finally {
    await session.release()
  }
}
