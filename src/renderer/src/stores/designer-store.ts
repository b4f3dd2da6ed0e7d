import { defineStore } from 'pinia'
import { computed, ref, shallowRef } from 'vue'
import type { SearchSpace, SearchSpaceDef, SpaceAnalysis, SpaceFamilyName } from '@shared/index'
import { searchSpaceDefSchema } from '@shared/domain'
import { errorMessage, useApi } from '@renderer/api'
import {
  cloneJson,
  edgeId,
  emptyGraph,
  graphToSpaceDef,
  dropStructure,
  isFixedNode,
  newNode,
  placeErrors,
  reorderAfterMove,
  spaceDefToGraph,
  type BlockChoices,
  type BlockKind,
  type DesignGraph,
  type DesignProblem,
  type RepeatRange,
} from '@renderer/designer/designer-model'
import { UndoHistory } from '@renderer/designer/history'
import { appendInOrder, freeSpot } from '@renderer/designer/placement'

/** A one-line description of a drawn space, for the space list when the person wrote none. */
export function describeDef(def: SearchSpaceDef): string {
  const range = (lo: number, hi: number, what: string) =>
    lo === hi ? `${lo} ${what}${lo === 1 ? '' : 's'}` : `${lo}–${hi} ${what}s`
  switch (def.family) {
    case 'sequential': {
      if (def.slots) {
        const steps = def.slots.map((s) => {
          const ops = s.ops.map((o) => o.op).join('/')
          return s.min === s.max ? `${ops} ×${s.min}` : `${ops} ×${s.min}–${s.max}`
        })
        return `Drawn in the designer: layers in this order: ${steps.join(', ')}.`
      }
      const ops = def.ops.map((o) => o.op).join(', ')
      return `Drawn in the designer: ${range(def.minLayers, def.maxLayers, 'layer')}, each one of ${ops}.`
    }
    case 'chain':
      return `Drawn in the designer: a chain of ${range(def.minBlocks, def.maxBlocks, 'block')} (${def.ops.map((o) => o.op).join(', ')}).`
    case 'mlp':
      return `Drawn in the designer: ${range(def.minBlocks, def.maxBlocks, 'dense block')} of ${def.units.join('/')} units.`
    case 'cell':
      return `Drawn in the designer: cells of ${def.nodes} nodes choosing among ${def.ops.length} operations.`
    case 'nb201':
      return `Drawn in the designer: NAS-Bench-201 cells with ${def.ops.length} operations.`
    case 'backbone':
      return `Drawn in the designer: the pretrained backbone ${def.backbones.map((b) => b.id).join(' or ')}, then a head of ${range(def.minBlocks, def.maxBlocks, 'dense block')}.`
  }
}

/** The file format of "Save as file": the canvas and the definition it stands for. */
export interface DesignFile {
  format: 'nas-studio-space'
  version: 1
  name: string
  description: string
  graph: DesignGraph
  def: SearchSpaceDef | null
}

const ANALYZE_DELAY_MS = 250

/**
 * The space designer: the canvas model (with undo / redo), the selection, and the live analysis main makes
 * of the definition it maps to. The history object is kept outside the reactive state (it holds strings).
 */
export const useDesignerStore = defineStore('designer', () => {
  const graph = ref<DesignGraph>(emptyGraph('sequential'))
  const selectedId = ref<string | null>(null)
  const name = ref('My search space')
  const description = ref('')
  const spaceId = ref<string | null>(null)
  const canUndo = ref(false)
  const canRedo = ref(false)
  const analysis = shallowRef<SpaceAnalysis | null>(null)
  const analyzeState = ref<'idle' | 'running' | 'done' | 'error'>('idle')
  const analyzeError = ref<string | null>(null)
  const inputShape = ref<number[]>([28, 28, 1])
  const numClasses = ref(10)
  const saveState = ref<'idle' | 'saving' | 'saved' | 'error'>('idle')
  const saveError = ref<string | null>(null)
  let history = new UndoHistory<DesignGraph>(graph.value)
  let timer: ReturnType<typeof setTimeout> | null = null
  let generation = 0

  const mapped = computed(() => graphToSpaceDef(graph.value))
  /** Every problem: the canvas's own, then main's placed on blocks. */
  const problems = computed<DesignProblem[]>(() => {
    const own = mapped.value.problems
    const server =
      analysis.value && !analysis.value.valid
        ? placeErrors(graph.value, mapped.value, analysis.value.errors)
        : []
    return [...own, ...server]
  })
  const problemsByNode = computed(() => {
    const out: Record<string, string[]> = {}
    for (const p of problems.value) if (p.nodeId) (out[p.nodeId] ??= []).push(p.message)
    return out
  })
  const selectedNode = computed(() => graph.value.nodes.find((n) => n.id === selectedId.value) ?? null)
  const selectedEdge = computed(() => graph.value.edges.find((e) => e.id === selectedId.value) ?? null)

  function syncFlags(): void {
    canUndo.value = history.canUndo
    canRedo.value = history.canRedo
  }

  function scheduleAnalyze(): void {
    if (timer) clearTimeout(timer)
    timer = setTimeout(() => void analyze(), ANALYZE_DELAY_MS)
  }

  /** Asks main for the size and parameter / FLOP ranges of the current definition. */
  async function analyze(): Promise<void> {
    const def = mapped.value.def
    const mine = ++generation
    if (!def) {
      analysis.value = null
      analyzeState.value = 'done'
      return
    }
    analyzeState.value = 'running'
    try {
      const result = await useApi().call('spaces.analyze', {
        def,
        inputShape: inputShape.value,
        numClasses: numClasses.value,
        samples: 48,
      })
      if (mine !== generation) return
      analysis.value = result
      analyzeError.value = null
      analyzeState.value = 'done'
    } catch (err) {
      if (mine !== generation) return
      analyzeError.value = errorMessage(err)
      analyzeState.value = 'error'
    }
  }

  /** Applies one change as an undoable step. */
  function commit(change: (g: DesignGraph) => void): void {
    const next = cloneJson(graph.value)
    change(next)
    graph.value = next
    history.push(next)
    saveState.value = 'idle'
    syncFlags()
    scheduleAnalyze()
  }

  function replace(next: DesignGraph, resetHistory: boolean): void {
    graph.value = next
    if (resetHistory) history = new UndoHistory(next)
    else history.push(next)
    selectedId.value = null
    saveState.value = 'idle'
    syncFlags()
    scheduleAnalyze()
  }

  /** Starts from a saved or preset space (a template): its blocks, its name as a starting point. */
  function loadSpace(space: SearchSpace): void {
    spaceId.value = space.preset ? null : space.id
    name.value = space.preset ? `My ${space.name}` : space.name
    description.value = space.description
    replace(spaceDefToGraph(space.def), false)
  }

  /** An empty canvas of `family`. */
  function startEmpty(family: SpaceFamilyName): void {
    spaceId.value = null
    description.value = ''
    replace(emptyGraph(family), false)
  }

  function addBlock(kind: BlockKind, x?: number, y?: number): string {
    let id = ''
    commit((g) => {
      const blocks = g.nodes.filter((n) => n.kind !== 'input' && n.kind !== 'output')
      const px = x ?? 400 + Math.floor(blocks.length / 4) * 160
      const py = y ?? 100 + (blocks.length % 4) * 90
      const node = newNode(g, kind, px, py)
      g.nodes.push(node)
      // "Keep this order": a new block is the next layer; elsewhere it lands where dropped, beside any other
      if (!appendInOrder(g, node)) Object.assign(node, freeSpot(g, px, py, node.id))
      id = node.id
    })
    selectedId.value = id
    return id
  }

  function moveNode(id: string, x: number, y: number): void {
    const n = graph.value.nodes.find((m) => m.id === id)
    if (!n || (Math.abs(n.x - x) < 0.5 && Math.abs(n.y - y) < 0.5)) return
    commit((g) => {
      const m = g.nodes.find((k) => k.id === id)!
      m.x = Math.round(x)
      m.y = Math.round(y)
      reorderAfterMove(g, id)
    })
  }

  /** Sequential canvases: whether the layers keep the drawn order (else each layer is any of the blocks). */
  function setOrdered(ordered: boolean): void {
    if (graph.value.family !== 'sequential' || !!graph.value.ordered === ordered) return
    commit((g) => {
      g.ordered = ordered
    })
  }

  /** Connects two nodes (ignored for a self-loop, a duplicate, into Input or out of Output). */
  function connect(source: string, target: string): boolean {
    if (source === target || target === 'input' || source === 'output') return false
    const id = edgeId(source, target)
    if (graph.value.edges.some((e) => e.id === id)) return false
    commit((g) => g.edges.push({ id, source, target, optional: false }))
    return true
  }

  function removeSelected(): void {
    const id = selectedId.value
    const node = graph.value.nodes.find((n) => n.id === id)
    if (!id || (node && isFixedNode(node.kind))) return
    commit((g) => {
      g.nodes = g.nodes.filter((n) => n.id !== id)
      g.edges = g.edges.filter((e) => e.id !== id && e.source !== id && e.target !== id)
    })
    selectedId.value = null
  }

  function updateChoices(id: string, choices: BlockChoices): void {
    commit((g) => {
      const n = g.nodes.find((m) => m.id === id)
      if (n) n.choices = cloneJson(choices)
    })
  }

  function updateRepeat(id: string, repeat: RepeatRange): void {
    commit((g) => {
      const n = g.nodes.find((m) => m.id === id)
      if (n) n.repeat = { ...repeat }
    })
  }

  function setEdgeOptional(id: string, optional: boolean): void {
    commit((g) => {
      const e = g.edges.find((m) => m.id === id)
      if (e) e.optional = optional
    })
  }

  function setFamily(family: SpaceFamilyName): void {
    commit((g) => {
      g.family = family
      if (g.base.family !== family) g.base = emptyGraph(family).base
      if (family === 'sequential') g.ordered ??= true
      if (family !== 'chain') dropStructure(g)
    })
  }

  function undo(): void {
    const g = history.undo()
    if (g) graph.value = g
    syncFlags()
    scheduleAnalyze()
  }

  function redo(): void {
    const g = history.redo()
    if (g) graph.value = g
    syncFlags()
    scheduleAnalyze()
  }

  function select(id: string | null): void {
    selectedId.value = id
  }

  function setInput(shape: number[], classes: number): void {
    inputShape.value = [...shape]
    numClasses.value = classes
    scheduleAnalyze()
  }

  /** Saves the definition to the library (`spaces.save`); resolves to the saved space. */
  async function save(): Promise<SearchSpace | null> {
    const def = mapped.value.def
    if (!def) return null
    saveState.value = 'saving'
    try {
      const saved = await useApi().call('spaces.save', {
        ...(spaceId.value ? { id: spaceId.value } : {}),
        name: name.value.trim() || 'My search space',
        description: description.value.trim() || describeDef(def),
        def,
      })
      spaceId.value = saved.id
      saveState.value = 'saved'
      saveError.value = null
      return saved
    } catch (err) {
      saveError.value = errorMessage(err)
      saveState.value = 'error'
      return null
    }
  }

  /** The JSON file "Save as file" writes. */
  function toFile(): DesignFile {
    return {
      format: 'nas-studio-space',
      version: 1,
      name: name.value,
      description: description.value,
      graph: graph.value,
      def: mapped.value.def,
    }
  }

  /** Opens a file written by `toFile`, or a bare space definition; throws an Error a person can read. */
  function loadFile(text: string): void {
    let data: unknown
    try {
      data = JSON.parse(text)
    } catch {
      throw new Error('This file is not JSON. Choose a file saved with "Save as file".')
    }
    const file = data as Partial<DesignFile>
    if (file && file.format === 'nas-studio-space' && file.graph && Array.isArray(file.graph.nodes)) {
      name.value = file.name ?? name.value
      description.value = file.description ?? ''
      spaceId.value = null
      replace(file.graph, false)
      return
    }
    const def = searchSpaceDefSchema.safeParse(data)
    if (def.success) {
      spaceId.value = null
      replace(spaceDefToGraph(def.data), false)
      return
    }
    throw new Error('This file is neither a NAS Studio space file nor a search space definition.')
  }

  return {
    graph,
    selectedId,
    selectedNode,
    selectedEdge,
    name,
    description,
    spaceId,
    canUndo,
    canRedo,
    analysis,
    analyzeState,
    analyzeError,
    mapped,
    problems,
    problemsByNode,
    saveState,
    saveError,
    inputShape,
    loadSpace,
    startEmpty,
    addBlock,
    moveNode,
    setOrdered,
    connect,
    removeSelected,
    updateChoices,
    updateRepeat,
    setEdgeOptional,
    setFamily,
    undo,
    redo,
    select,
    setInput,
    analyze,
    save,
    toFile,
    loadFile,
  }
})
