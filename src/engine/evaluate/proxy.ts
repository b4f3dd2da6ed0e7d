import type { Architecture, ArchNode, SearchSpaceDef, TrainSettings, TrialProxy } from '../../shared'
import { BACKBONE_NODE_PREFIX } from '../space/backbones'
import { buildCells } from '../space/cell'
import { buildNb201, nb201FromString } from '../space/nb201'
import { inputsByNode, nodeOutputShape, topoOrder } from '../space/shapes'

/**
 * Model-side proxy tasks: a narrower network (width multiplier) and fewer cells per stage. The trial keeps the
 * full candidate; only the network actually trained is the cut-down one.
 */

type Scalable = Extract<ArchNode, { op: 'conv2d' | 'sepConv2d' | 'dense' }>

/** Layers the width proxy may narrow: never a pretrained backbone's (their weights have fixed shapes). */
function isScalable(n: ArchNode): n is Scalable {
  return (
    (n.op === 'conv2d' || n.op === 'sepConv2d' || n.op === 'dense') && !n.id.startsWith(BACKBONE_NODE_PREFIX)
  )
}

/** Nodes that pass their input's channel count through unchanged (walked through to find a layer to resize). */
const PASS_THROUGH = new Set<ArchNode['op']>(['batchNorm', 'activation', 'dropout', 'identity'])

/**
 * `arch` with the filters of every conv / separable conv and the units of every hidden dense layer multiplied
 * by `factor` (rounded, at least 1); the classifier keeps its units. Additions whose inputs then disagree on
 * channels (a 1x1 projection sized from a concatenation) are reconciled by resizing the layers feeding them.
 */
export function scaleWidth(arch: Architecture, factor: number, inputShape: number[]): Architecture {
  if (factor >= 1) return arch
  const nodes = arch.nodes.map((n) =>
    isScalable(n) && n.id !== arch.output
      ? n.op === 'dense'
        ? { ...n, units: Math.max(1, Math.round(n.units * factor)) }
        : { ...n, filters: Math.max(1, Math.round(n.filters * factor)) }
      : { ...n },
  )
  const out: Architecture = { ...arch, nodes }
  const byId = new Map(nodes.map((n) => [n.id, n]))
  const ins = inputsByNode(out)
  const order = topoOrder(out).map((n) => n.id)
  /** The resizable layer that sets `id`'s channels, walking back through pass-through nodes; null if none. */
  const sourceLayer = (id: string): Scalable | null => {
    let cur = byId.get(id)!
    while (PASS_THROUGH.has(cur.op)) cur = byId.get(ins.get(cur.id)![0]!)!
    return isScalable(cur) && cur.op !== 'dense' ? cur : null
  }
  for (let pass = 0; pass < 8; pass++) {
    const shapes = new Map<string, number[]>()
    let changed = false
    for (const id of order) {
      const node = byId.get(id)!
      const inputs = (ins.get(id) ?? []).map((i) => shapes.get(i)!)
      if (node.op === 'input') {
        shapes.set(id, inputShape)
        continue
      }
      if (node.op === 'add') {
        const chans = inputs.map((s) => s[s.length - 1]!)
        if (new Set(chans).size > 1) {
          const layers = ins.get(id)!.map(sourceLayer)
          const fixed = chans.filter((_, i) => layers[i] === null)
          const target = fixed.length > 0 ? fixed[0]! : Math.max(...chans)
          layers.forEach((layer, i) => {
            if (layer !== null && chans[i] !== target) {
              ;(layer as { filters: number }).filters = target
              changed = true
            }
          })
          if (changed) break
        }
      }
      shapes.set(id, nodeOutputShape(node, inputs))
    }
    if (!changed) return out
  }
  // why: a proxy must never fail a candidate; a network whose channels cannot be reconciled trains at full width
  return arch
}

/** `arch` rebuilt with at most `maxCells` cells per stage (cell and NAS-Bench-201 spaces; others unchanged). */
export function capCells(
  arch: Architecture,
  maxCells: number,
  space: SearchSpaceDef,
  inputShape: number[],
  numClasses: number,
): Architecture {
  const g = arch.genotype
  if (g === undefined || !('cellsPerStage' in g) || g.cellsPerStage <= maxCells) return arch
  if (g.family === 'nb201')
    return buildNb201(nb201FromString(g.cell), g.channels, maxCells, inputShape, numClasses)
  if (g.family === 'cell' && space.family === 'cell')
    return buildCells(space, { ...g, cellsPerStage: maxCells }, inputShape, numClasses)
  return arch
}

/** The network a trial actually trains under the model-side proxies of `settings`. */
export function proxyArchitecture(
  arch: Architecture,
  settings: TrainSettings,
  space: SearchSpaceDef,
  inputShape: number[],
  numClasses: number,
): Architecture {
  let a = arch
  if (settings.maxCellsPerStage !== undefined)
    a = capCells(a, settings.maxCellsPerStage, space, inputShape, numClasses)
  if ((settings.widthMultiplier ?? 1) < 1) a = scaleWidth(a, settings.widthMultiplier!, inputShape)
  return a
}

/** What a trial trained with `settings` was cut down by, or undefined when it is full training. */
export function describeProxy(settings: TrainSettings, fullEpochs: number): TrialProxy | undefined {
  const p: TrialProxy = { epochs: settings.epochs }
  if ((settings.dataFraction ?? 1) < 1) p.dataFraction = settings.dataFraction
  if ((settings.resolution ?? 1) < 1) p.resolution = settings.resolution
  if ((settings.widthMultiplier ?? 1) < 1) p.widthMultiplier = settings.widthMultiplier
  if (settings.maxCellsPerStage !== undefined) p.maxCellsPerStage = settings.maxCellsPerStage
  return Object.keys(p).length === 1 && settings.epochs >= fullEpochs ? undefined : p
}

/** The search's settings without their proxies: the full recipe for final training. */
export function withoutProxies(settings: TrainSettings): TrainSettings {
  const { dataFraction: _f, resolution: _r, widthMultiplier: _w, maxCellsPerStage: _c, ...full } = settings
  return full
}
