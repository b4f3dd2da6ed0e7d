/**
 * bench:backbone — does a pretrained backbone beat searching from scratch on a small image dataset?
 * 1. Pretrains a backbone with NAS Studio's trainer on five Fashion-MNIST classes and saves it as a backbone
 *    folder (TF.js model + backbone.json), then loads it back. --split mixed (default): T-shirt, trouser, coat,
 *    sandal, bag; --split clothing: classes 0-4 (T-shirt, trouser, pullover, dress, coat).
 * 2. Task: the OTHER five classes (mixed: pullover, dress, shirt, sneaker, ankle boot; clothing: sandal, shirt,
 *    sneaker, bag, ankle boot), 100 training images per class
 *    (80 to learn from + 20 to score candidates during the search; the final training learns from all 100).
 * 3. Two searches, random search in both, the backbone one first with the budget (search + final training), the
 *    from-scratch one with at least the wall time the backbone one really took:
 *    heads on the backbone (cut, fine-tuning, pooling, dense blocks), and the tiny-cnn space from scratch.
 *    The winner of each is trained again on the 500 images and scored once on the task's 5000 test images.
 * Writes bench/results/backbone.json. Options: --budget-seconds S (per search, default 240), --pretrain-seconds
 * S (default 480), --pretrain-per-class N (default 3000 training images per class), --split mixed|clothing,
 * --seed S (default 0), --path DIR (Fashion-MNIST IDX folder), --out FILE.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { parseArgs } from 'node:util'
import type { tf } from '../src/engine/compute/backend'
import { initCompute } from '../src/engine/compute/backend'
import type { LoadedData } from '../src/engine/data/loaded-data'
import { parseIdx } from '../src/engine/data/idx'
import { loadBackboneDir } from '../src/engine/evaluate/backbone-load'
import { featureCacheStats } from '../src/engine/evaluate/backbone-train'
import { observeBuiltModels } from '../src/engine/evaluate/build-model'
import { trainArchitecture } from '../src/engine/evaluate/train'
import type { LayerWeights } from '../src/engine/export/onnx'
import { saveTrainedModel, snapshotWeights } from '../src/engine/export/trained-model'
import { Rng } from '../src/engine/rng'
import { countParams, sampleArchitecture } from '../src/engine/space'
import type { Architecture, BackboneInfo, SearchSpaceDef, TrainSettings } from '../src/shared'

const { values } = parseArgs({
  options: {
    'budget-seconds': { type: 'string' },
    'pretrain-seconds': { type: 'string' },
    'pretrain-per-class': { type: 'string' },
    split: { type: 'string' },
    seed: { type: 'string' },
    path: { type: 'string' },
    out: { type: 'string' },
  },
})
const budgetMs = Number(values['budget-seconds'] ?? 240) * 1000
const pretrainMs = Number(values['pretrain-seconds'] ?? 480) * 1000
const pretrainPerClass = Number(values['pretrain-per-class'] ?? 3000)
const split = values.split ?? 'mixed'
if (split !== 'mixed' && split !== 'clothing') throw new Error('--split is mixed or clothing')
const seed = Number(values.seed ?? 0)
const source = values.path ?? '/usr/share/datasets/fashion-mnist'
const outFile = values.out ?? path.join('bench', 'results', 'backbone.json')
const SHAPE = [28, 28, 1]
const SIZE = 28 * 28

// ---------------------------------------------------------------- data

function readPart(part: 'train' | 't10k'): { x: Uint8Array; y: Uint8Array } {
  const x = parseIdx(readFileSync(path.join(source, `${part}-images-idx3-ubyte.gz`)), 'images')
  const y = parseIdx(readFileSync(path.join(source, `${part}-labels-idx1-ubyte.gz`)), 'labels')
  return { x: x.data as Uint8Array, y: y.data as Uint8Array }
}

/** The first `perClass` samples (from `skip` on) of each class in `classes`, relabelled 0..k-1, in a seeded order. */
function pick(part: { x: Uint8Array; y: Uint8Array }, classes: number[], perClass: number, skip = 0) {
  const idx: number[] = []
  for (const c of classes) {
    let seen = 0
    for (let i = 0; i < part.y.length && seen < skip + perClass; i++)
      if (part.y[i] === c && seen++ >= skip) idx.push(i)
  }
  new Rng(seed + 17).shuffle(idx)
  const x = new Float32Array(idx.length * SIZE)
  idx.forEach((src, k) => {
    for (let j = 0; j < SIZE; j++) x[k * SIZE + j] = part.x[src * SIZE + j]! / 255
  })
  return { x, y: Int32Array.from(idx, (i) => classes.indexOf(part.y[i]!)), count: idx.length }
}

const train = readPart('train')
const test = readPart('t10k')
// 'clothing': the backbone learns from the five clothing classes and the task is mostly footwear and bags;
// 'mixed': both halves hold tops and footwear (no class shared), as when a backbone learned from a broad dataset
const [A, B] =
  split === 'clothing'
    ? [
        [0, 1, 2, 3, 4],
        [5, 6, 7, 8, 9],
      ]
    : [
        [0, 1, 4, 5, 8],
        [2, 3, 6, 7, 9],
      ]
const names = ['T-shirt', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Boot']
const dataOf = (
  classes: number[],
  t: ReturnType<typeof pick>,
  v: ReturnType<typeof pick>,
  te: ReturnType<typeof pick>,
): LoadedData => ({
  inputShape: SHAPE,
  classNames: classes.map((c) => names[c]!),
  numClasses: classes.length,
  train: t,
  validation: v,
  test: te,
})
const pretrainData = dataOf(
  A,
  pick(train, A, pretrainPerClass),
  pick(train, A, 200, pretrainPerClass),
  pick(test, A, 1000),
)
const task = dataOf(B, pick(train, B, 80), pick(train, B, 20, 80), pick(test, B, 1000))

// ---------------------------------------------------------------- 1. pretraining

const conv = (id: string, filters: number) =>
  ({ id, op: 'conv2d', filters, kernelSize: 3, activation: 'relu' }) as const
const BACKBONE: Architecture = {
  version: 1,
  nodes: [
    { id: 'in', op: 'input' },
    // stride 2 first: a quarter of the work per image, so the pretraining fits several epochs on 2 cores
    { ...conv('c1', 32), strides: 2 },
    { id: 'b1', op: 'batchNorm' },
    conv('c2', 32),
    { id: 'b2', op: 'batchNorm' },
    { id: 'p2', op: 'maxPool2d', poolSize: 2 },
    conv('c3', 64),
    { id: 'b3', op: 'batchNorm' },
    conv('c4', 64),
    { id: 'b4', op: 'batchNorm' },
    { id: 'p4', op: 'maxPool2d', poolSize: 2 },
    conv('c5', 96),
    { id: 'b5', op: 'batchNorm' },
    { id: 'gap', op: 'globalAvgPool' },
    { id: 'fc', op: 'dense', units: 5, activation: 'softmax' },
  ],
  edges: [],
  output: 'fc',
}
for (let i = 1; i < BACKBONE.nodes.length; i++)
  BACKBONE.edges.push([BACKBONE.nodes[i - 1]!.id, BACKBONE.nodes[i]!.id])

const backend = await initCompute()
const work = mkdtempSync(path.join(os.tmpdir(), 'nas-bench-backbone-'))
const log = (s: string) => console.log(`[${new Date().toISOString().slice(11, 19)}] ${s}`)

async function train1(
  arch: Architecture,
  data: LoadedData,
  settings: TrainSettings,
  timeLimitMs: number,
  mode: 'search' | 'final',
  s: number,
) {
  let model: tf.LayersModel | null = null
  let weights: Promise<LayerWeights> | null = null
  const stop = observeBuiltModels((m) => (model = m))
  try {
    const result = await trainArchitecture(arch, data, settings, {
      seed: s,
      mode,
      timeLimitMs,
      onEpoch: () => {
        if (mode === 'final') weights = snapshotWeights(model!)
      },
    })
    return { result, weights: weights ? await weights : null }
  } finally {
    stop()
  }
}

try {
  log(
    `backend ${backend.name}; pretraining on classes ${A.join(',')} (${pretrainData.train.count + pretrainData.validation.count} images) for up to ${pretrainMs / 1000} s`,
  )
  const pre = await train1(
    BACKBONE,
    pretrainData,
    {
      epochs: 8,
      batchSize: 64,
      learningRate: 0.003,
      validationFraction: 0.1,
      optimizer: 'adam',
      schedule: 'cosine',
      warmupEpochs: 0.3,
    },
    pretrainMs,
    'final',
    seed,
  )
  log(
    `pretrained: ${pre.result.epochs} epochs, test accuracy on its own 5 classes ${pre.result.testAccuracy?.toFixed(4)}`,
  )
  const backboneId = `fmnist-${A.join('')}`
  const dir = path.join(work, 'backbones', backboneId)
  await saveTrainedModel(BACKBONE, SHAPE, pre.weights!, dir)
  const info: BackboneInfo = {
    id: backboneId,
    name: `Fashion-MNIST classes ${A.join(', ')} (pretrained here)`,
    source: 'run',
    inputShape: [28, 28, 1],
    normalisation: { scale: 1 / 255, offset: 0 },
    cutPoints: [
      { layer: 'p2', outputShape: [7, 7, 32] },
      { layer: 'p4', outputShape: [3, 3, 64] },
      { layer: 'b5', outputShape: [3, 3, 96] },
      { layer: 'gap', outputShape: [96] },
    ],
    fineTunableBlocks: 3,
    sizeBytes: 0,
    createdAt: new Date().toISOString(),
  }
  writeFileSync(path.join(dir, 'backbone.json'), JSON.stringify(info, null, 2))
  await loadBackboneDir(dir)

  // ---------------------------------------------------------------- 2-3. the two searches

  const SEARCH: TrainSettings = {
    epochs: 20,
    batchSize: 32,
    learningRate: 0.003,
    validationFraction: 0.2,
    optimizer: 'adam',
    schedule: 'cosine',
    warmupEpochs: 0.5,
    augment: { shift: 1, flip: true },
  }
  const spaces: Record<'backbone' | 'scratch', SearchSpaceDef> = {
    backbone: {
      family: 'backbone',
      version: 1,
      backbones: [{ id: backboneId, cuts: ['p4', 'b5', 'gap'] }],
      fineTune: ['frozen', 1, 'all'],
      pooling: ['globalAvg', 'flatten'],
      minBlocks: 0,
      maxBlocks: 2,
      units: [32, 64, 128],
      activation: ['relu'],
      dropout: [0, 0.3],
    },
    scratch: JSON.parse(readFileSync(path.join('resources', 'presets', 'tiny-cnn.json'), 'utf8')).def,
  }
  const FINAL_SHARE = 0.3
  const arms: Record<string, unknown> = {}
  // the backbone search goes first; the from-scratch one then gets at least the wall time it really took (its
  // final training can overrun the budget by an epoch, and scoring passes the test images through the backbone)
  let armMs = budgetMs
  for (const name of ['backbone', 'scratch'] as const) {
    const started = performance.now()
    const searchEnd = started + armMs * (1 - FINAL_SHARE)
    const rng = new Rng(seed + 1)
    const stats0 = { ...featureCacheStats }
    let best: { arch: Architecture; val: number } | null = null
    let trials = 0
    const seen = new Set<string>()
    while (performance.now() < searchEnd) {
      const arch = sampleArchitecture(spaces[name], rng, SHAPE, 5)
      const key = JSON.stringify(arch.genotype ?? arch.nodes)
      if (seen.has(key)) continue
      seen.add(key)
      const left = searchEnd - performance.now()
      const { result } = await train1(arch, task, SEARCH, Math.min(left, armMs / 4), 'search', seed + trials)
      trials++
      log(
        `${name} candidate ${trials}: validation accuracy ${result.valAccuracy.toFixed(3)} (${result.epochs} epochs, ${countParams(arch, SHAPE, 5)} weights)`,
      )
      if (!best || result.valAccuracy > best.val) best = { arch, val: result.valAccuracy }
    }
    const finalStart = performance.now()
    const finalLeft = started + armMs - finalStart
    const final = await train1(best!.arch, task, SEARCH, Math.max(finalLeft, 5000), 'final', seed)
    const seconds = (performance.now() - started) / 1000
    // the search plus the final training's own clock (its learning and scoring); outside it, for the backbone,
    // only the one pass of the test images through the frozen backbone that scoring needs
    const budgetSeconds = (finalStart - started + final.result.trainTimeMs) / 1000
    arms[name] = {
      candidates: trials,
      bestValidationAccuracy: best!.val,
      finalTestAccuracy: final.result.testAccuracy,
      finalEpochs: final.result.epochs,
      bestWeights: countParams(best!.arch, SHAPE, 5),
      bestGenotype: best!.arch.genotype,
      givenSeconds: armMs / 1000,
      budgetSeconds,
      wallSeconds: seconds,
      ...(name === 'backbone'
        ? {
            featurePasses: featureCacheStats.misses - stats0.misses,
            featureCacheHits: featureCacheStats.hits - stats0.hits,
          }
        : {}),
    }
    if (name === 'backbone') armMs = Math.max(budgetMs, seconds * 1000)
    log(
      `${name}: ${trials} candidates, final test accuracy ${final.result.testAccuracy?.toFixed(4)} on ${task.test.count} test images; ${budgetSeconds.toFixed(0)} s of budget, ${seconds.toFixed(0)} s wall`,
    )
  }
  const result = {
    command: 'npm run bench:backbone',
    settings: {
      budgetSeconds: budgetMs / 1000,
      pretrainSeconds: pretrainMs / 1000,
      pretrainPerClass,
      split,
      seed,
      search: SEARCH,
      strategy: 'random',
    },
    machine: {
      cores: os.availableParallelism(),
      loadAverage: os.loadavg(),
      backend: backend.name,
      shared: true,
    },
    pretraining: {
      classes: A.map((c) => names[c]),
      images: pretrainData.train.count + pretrainData.validation.count,
      epochs: pre.result.epochs,
      seconds: pre.result.trainTimeMs / 1000,
      testAccuracy: pre.result.testAccuracy,
      testImages: pretrainData.test.count,
    },
    task: {
      classes: B.map((c) => names[c]),
      trainImagesPerClass: 100,
      testImages: task.test.count,
    },
    arms,
  }
  writeFileSync(outFile, `${JSON.stringify(result, null, 1)}\n`)
  console.log(JSON.stringify(result.arms, null, 1))
} finally {
  rmSync(work, { recursive: true, force: true })
}
