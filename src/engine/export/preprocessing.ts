import type { BackboneInfo, Dataset, Trial } from '../../shared'
import { backboneScaling, LUMA } from '../data/backbone-input'
import { readCacheHeader } from '../data/cache'
import { MISSING_CELLS } from '../data/csv'
import type { ColumnEncoding } from '../data/column-encoding'

/**
 * preprocessing.json: everything a program outside NAS Studio needs to feed the exported model, as data (not
 * only prose): how an image's pixels or a table row's cells become the input tensor, and what the outputs
 * mean. A script reading only the export folder reproduces the app's inputs from it.
 */

/** How raw pixels become the input: input[y][x][c] = pixel[y][x][c] * scale[c] + offset[c] (pixel 0-255). */
export interface ImagePreprocessing {
  height: number
  width: number
  channels: number
  /** What each input channel holds, in order: ["grey"] or ["R", "G", "B"] (sRGB). */
  channelOrder: string[]
  /** How an image file is turned into pixels before scaling. */
  decode: string
  scale: number[]
  offset: number[]
  /** For a network on a pretrained backbone: how the decoded image becomes the backbone's input size. */
  backbone?: {
    id: string
    name: string
    /** The decoded image's [height, width, channels] before the resize. */
    fromShape: number[]
    resize: string
    channels: string
  }
}

/** How a raw table row (cells by column name) becomes the feature vector, in `features` order. */
export interface TablePreprocessing {
  /** The model's input features, in input order (a categorical column gives one feature per category). */
  features: string[]
  /** The raw columns in feature order, each with its encoding (see ColumnEncoding). */
  columns: Array<ColumnEncoding & { missing: string }>
  /** Cells read as missing (compared trimmed and case-insensitive). */
  missingCells: string[]
  /** The decimal separator numbers were written with. */
  decimalSeparator: '.' | ','
}

/** The contents of preprocessing.json. */
export interface Preprocessing {
  schema: 'nas-studio-preprocessing/2'
  format: 'tfjs' | 'onnx' | 'report'
  /** Model input: [batch, ...inputShape], float32, NHWC for images (ONNX too: it transposes inside). */
  inputName: string
  inputShape: number[]
  layout: 'NHWC' | 'features'
  dtype: 'float32'
  /** How raw data becomes the input, in words; `image` or `table` says it as data. */
  normalisation: string
  image?: ImagePreprocessing
  /** Absent for a table imported before NAS Studio recorded its encodings: import it again to get it. */
  table?: TablePreprocessing
  /** Class names in output order: output[i] is the probability of classNames[i]. */
  classNames: string[]
  output: string
  /** Which model this is: the final model (retrained on train + validation) or a search candidate. */
  model: { kind: 'final model' | 'search candidate'; trial: number; testAccuracy: number | null }
  datasetName: string
  datasetHash: string
  trialId: string
  appVersion: string
  onnxOpset?: number
}

/** How the dataset's raw samples become model inputs, in words (for preprocessing.json and the report). */
export function normalisationOf(dataset: Dataset): string {
  if (dataset.inputShape.length === 3) {
    const [h, w, c] = dataset.inputShape
    return `Images: flatten onto white, resize to ${w}x${h} pixels (aspect ratio not kept), ${c === 1 ? 'greyscale (the red channel of sRGB)' : 'sRGB'}, pixel values divided by 255 (range 0-1), layout NHWC (batch, height, width, channels).`
  }
  return dataset.source === 'csv'
    ? `Table rows: ${dataset.inputShape[0]} features in the order of "table.features"; numeric columns standardised as (value - mean) / std with the training mean and std of "table.columns" (missing cells: 0), text columns one-hot over their categories (missing or unseen: all zeros).`
    : `Feature vectors of ${dataset.inputShape.join('x')} float32 values, scaled as at import.`
}

function imagePreprocessing(dataset: Dataset): ImagePreprocessing {
  const [height, width, channels] = dataset.inputShape as [number, number, number]
  return {
    height,
    width,
    channels,
    channelOrder: channels === 1 ? ['grey'] : ['R', 'G', 'B'],
    decode:
      dataset.source === 'idx'
        ? 'IDX bytes are the pixels as they are (0-255).'
        : `Flatten transparency onto white, resize to ${width}x${height} (stretch: the aspect ratio is not kept), sRGB; ${channels === 1 ? 'grey = the red channel' : 'the R, G and B channels in that order'} (0-255).`,
    scale: new Array<number>(channels).fill(1 / 255),
    offset: new Array<number>(channels).fill(0),
  }
}

async function tablePreprocessing(dataset: Dataset): Promise<TablePreprocessing | undefined> {
  const header = dataset.cacheDir ? await readCacheHeader(dataset.cacheDir) : null
  if (!header?.columns) return undefined
  return {
    features: header.featureNames,
    columns: header.columns.map((c) => ({
      ...c,
      missing:
        c.kind === 'numeric'
          ? 'a missing or non-numeric cell is the training mean: feature 0'
          : 'a missing or unseen value: every feature of the column 0',
    })),
    missingCells: [...MISSING_CELLS],
    decimalSeparator: header.decimalSeparator ?? '.',
  }
}

/** preprocessing.json of `trial` of a run on `dataset`, written as `format`. */
export async function preprocessingFor(
  format: Preprocessing['format'],
  dataset: Dataset,
  trial: Trial,
  appVersion: string,
): Promise<Preprocessing> {
  const isImage = dataset.inputShape.length === 3
  const table = isImage || dataset.source !== 'csv' ? undefined : await tablePreprocessing(dataset)
  return {
    schema: 'nas-studio-preprocessing/2',
    format,
    inputName: 'input',
    inputShape: [...dataset.inputShape],
    layout: isImage ? 'NHWC' : 'features',
    dtype: 'float32',
    normalisation: normalisationOf(dataset),
    ...(isImage ? { image: imagePreprocessing(dataset) } : {}),
    ...(table ? { table } : {}),
    classNames: [...dataset.classNames],
    output: 'Class probabilities (softmax), one per class in classNames order; shape [batch, classes].',
    model: {
      kind: trial.isFinal ? 'final model' : 'search candidate',
      trial: trial.index + 1,
      testAccuracy: trial.testAccuracy ?? null,
    },
    datasetName: dataset.name,
    datasetHash: dataset.hash,
    trialId: trial.id,
    appVersion,
  }
}

/**
 * preprocessing.json of a network on a pretrained backbone: the input is the backbone's size and scaling, not
 * the dataset's; the image is decoded as for the dataset, then resized, converted and scaled as the app does
 * when it trains (data/backbone-input.ts). Tables have no backbone, so `pre` must describe images.
 */
export function withBackboneInput(
  pre: Preprocessing,
  info: BackboneInfo,
  dataShape: number[],
): Preprocessing {
  const [height, width, channels] = info.inputShape
  const [h, w, c] = dataShape as [number, number, number]
  const { scale, offset } = backboneScaling(info)
  const resize =
    h === height && w === width
      ? 'none (the image already has the backbone size)'
      : `bilinear from ${w}x${h} to ${width}x${height} pixels, half-pixel centres (as Pillow's and OpenCV's bilinear resize)`
  const convert =
    c === channels
      ? 'none'
      : c === 1
        ? 'the grey value repeated into R, G and B'
        : `grey = ${LUMA[0]} R + ${LUMA[1]} G + ${LUMA[2]} B (ITU-R BT.601 luma)`
  const scaled = scale
    .map((a, i) => `x * ${+a.toPrecision(6)} + ${+offset[i]!.toPrecision(6)}`)
    .filter((v, i, all) => all.indexOf(v) === i)
  return {
    ...pre,
    inputShape: [...info.inputShape],
    normalisation: `${pre.normalisation} Then, for the pretrained backbone "${info.name}": resize ${resize}; channels: ${convert}; each pixel value x (0-255) becomes ${scaled.join(' / ')} (per channel, in channel order). Input [batch, ${height}, ${width}, ${channels}], NHWC.`,
    image: {
      height,
      width,
      channels,
      channelOrder: channels === 1 ? ['grey'] : ['R', 'G', 'B'],
      decode: pre.image?.decode ?? '',
      scale,
      offset,
      backbone: { id: info.id, name: info.name, fromShape: [...dataShape], resize, channels: convert },
    },
  }
}
