import type { Preprocessing } from './preprocessing'

/** File name of the export folder's guide. */
export const README_FILE = 'README.md'

const pct = (v: number | null): string => (v === null ? 'not measured' : `${(v * 100).toFixed(1)}%`)

/** Python: preprocessing.json -> one input row (image file or table row), the way the app feeds the model. */
function pythonInput(pre: Preprocessing): string {
  if (pre.image) {
    return `from PIL import Image

img = pre["image"]
picture = Image.open(sys.argv[1] if len(sys.argv) > 1 else "sample.png").convert("RGBA")
white = Image.new("RGBA", picture.size, "white")
white.alpha_composite(picture)  # transparency onto white
rgb = white.convert("RGB").resize((img["width"], img["height"]))
pixels = np.asarray(rgb, dtype=np.float32)[:, :, : img["channels"]]  # grey = the red channel
x = pixels * np.array(img["scale"], dtype=np.float32) + np.array(img["offset"], dtype=np.float32)
x = x[np.newaxis]  # a batch of one, NHWC`
  }
  if (pre.table) {
    return `table = pre["table"]
# one raw row, by column name, as written in the CSV file (fill in your values)
row = {c["column"]: "" for c in table["columns"]}
missing = set(table["missingCells"])


def number(cell):
    text = str(cell).strip()
    if text.lower() in missing:
        return None
    try:
        return float(text.replace(",", ".") if table["decimalSeparator"] == "," else text)
    except ValueError:
        return None


features = []
for c in table["columns"]:
    cell = row.get(c["column"], "")
    if c["kind"] == "numeric":
        v = number(cell)
        features.append(0.0 if v is None else (v - c["mean"]) / c["std"])
    else:
        features.extend(1.0 if cell == category else 0.0 for category in c["categories"])
x = np.array([features], dtype=np.float32)`
  }
  return `# ${pre.normalisation}
x = np.zeros([1, ${pre.inputShape.join(', ')}], dtype=np.float32)  # put your sample here`
}

/** JavaScript (Node): the same, for onnxruntime-node. */
function jsInput(pre: Preprocessing): string {
  if (pre.image) {
    return `import sharp from 'sharp'

const img = pre.image
const { data } = await sharp(process.argv[2] ?? 'sample.png')
  .flatten({ background: '#ffffff' })
  .resize(img.width, img.height, { fit: 'fill' })
  .toColourspace('srgb')
  .removeAlpha()
  .raw()
  .toBuffer({ resolveWithObject: true })
const x = new Float32Array(img.height * img.width * img.channels)
for (let p = 0; p < img.height * img.width; p++)
  for (let c = 0; c < img.channels; c++)
    x[p * img.channels + c] = data[p * 3 + c] * img.scale[c] + img.offset[c] // grey = the red channel`
  }
  if (pre.table) {
    return `const table = pre.table
// one raw row, by column name, as written in the CSV file (fill in your values)
const row = Object.fromEntries(table.columns.map((c) => [c.column, '']))
const number = (cell) => {
  const text = String(cell ?? '').trim()
  if (table.missingCells.includes(text.toLowerCase())) return null
  const v = Number(table.decimalSeparator === ',' ? text.replace(',', '.') : text)
  return Number.isFinite(v) ? v : null
}
const features = []
for (const c of table.columns) {
  const cell = row[c.column] ?? ''
  if (c.kind === 'numeric') {
    const v = number(cell)
    features.push(v === null ? 0 : (v - c.mean) / c.std)
  } else for (const category of c.categories) features.push(cell === category ? 1 : 0)
}
const x = Float32Array.from(features)`
  }
  return `// ${pre.normalisation}
const x = new Float32Array(${pre.inputShape.reduce((a, b) => a * b, 1)}) // put your sample here`
}

/**
 * The README.md of an export folder: what the model is (final model or search candidate, its test accuracy),
 * the files, how inputs are made (pointing to preprocessing.json), and a runnable Python (onnxruntime) and
 * JavaScript (onnxruntime-node, or TF.js for a TF.js export) example that predicts one sample.
 */
export function exportReadme(pre: Preprocessing): string {
  const what =
    pre.model.kind === 'final model'
      ? `the **final model** of the search (trial ${pre.model.trial}: the winner retrained on training + validation data), test accuracy ${pct(pre.model.testAccuracy)} on data never used for search or training`
      : `a **search candidate** (trial ${pre.model.trial}), trained for the search only (on its quick-score settings), not the final model`
  const onnx = pre.format === 'onnx'
  const shape = `[1, ${pre.inputShape.join(', ')}]`
  const files =
    pre.format === 'onnx'
      ? '- `model.onnx`: the model (ONNX opset 13)'
      : pre.format === 'tfjs'
        ? '- `model.json` + `weights.bin`: the model (TensorFlow.js layers format)'
        : '- `report.html`: the report (architecture, scores, confusion matrix, learning curves, settings)'
  const python = onnx
    ? `\`\`\`python
# pip install onnxruntime numpy${pre.image ? ' pillow' : ''}
import json
import sys

import numpy as np
import onnxruntime as ort

pre = json.load(open("preprocessing.json"))
${pythonInput(pre)}

session = ort.InferenceSession("model.onnx")
probabilities = session.run(None, {session.get_inputs()[0].name: x})[0][0]
best = int(np.argmax(probabilities))
print(pre["classNames"][best], float(probabilities[best]))
\`\`\``
    : 'Python: export the ONNX format (it loads in onnxruntime); the steps to make an input are the same.'
  const js = onnx
    ? `\`\`\`js
// predict.mjs: npm install onnxruntime-node${pre.image ? ' sharp' : ''}; node predict.mjs${pre.image ? ' sample.png' : ''}
import { readFileSync } from 'node:fs'
import * as ort from 'onnxruntime-node'

const pre = JSON.parse(readFileSync('preprocessing.json', 'utf8'))
${jsInput(pre)}

const session = await ort.InferenceSession.create('model.onnx')
const input = new ort.Tensor('float32', x, [1, ...pre.inputShape])
const output = await session.run({ [session.inputNames[0]]: input })
const probabilities = Array.from(output[session.outputNames[0]].data)
const best = probabilities.indexOf(Math.max(...probabilities))
console.log(pre.classNames[best], probabilities[best])
\`\`\``
    : pre.format === 'tfjs'
      ? `\`\`\`js
// predict.mjs: npm install @tensorflow/tfjs${pre.image ? ' sharp' : ''}; node predict.mjs${pre.image ? ' sample.png' : ''}
import { readFileSync } from 'node:fs'
import * as tf from '@tensorflow/tfjs'

const pre = JSON.parse(readFileSync('preprocessing.json', 'utf8'))
${jsInput(pre)}

const weights = readFileSync('weights.bin')
const artifacts = JSON.parse(readFileSync('model.json', 'utf8'))
const model = await tf.loadLayersModel(
  tf.io.fromMemory({
    modelTopology: artifacts.modelTopology,
    weightSpecs: artifacts.weightsManifest[0].weights,
    weightData: weights.buffer.slice(weights.byteOffset, weights.byteOffset + weights.byteLength),
  }),
)
const probabilities = Array.from(model.predict(tf.tensor(x, [1, ...pre.inputShape])).dataSync())
const best = probabilities.indexOf(Math.max(...probabilities))
console.log(pre.classNames[best], probabilities[best])
\`\`\``
      : 'JavaScript: export the ONNX or TF.js format to run the model; the steps to make an input are the same.'
  return `# ${pre.datasetName}: ${pre.model.kind}, trial ${pre.model.trial}

This folder holds ${what}. Exported by NAS Studio ${pre.appVersion}.

${files}
- \`preprocessing.json\`: how to turn a sample into the model's input, as data${pre.image ? ' ("image": size, channel order, scale and offset per channel)' : pre.table ? ' ("table": the features in input order, each column\'s mean and std, the categories of text columns, how missing cells are filled)' : ''}, and the class names in output order
- \`README.md\`: this file

## Input and output

- Input \`${pre.inputName}\`: float32, shape ${shape}${pre.layout === 'NHWC' ? ' (batch, height, width, channels)' : ' (batch, features)'}. ${pre.normalisation}
- Output: ${pre.output}
- Classes in output order: ${pre.classNames.map((c) => `\`${c}\``).join(', ')}

## Predict one sample in Python

${python}

## Predict one sample in JavaScript (Node.js)

${js}
`
}
