import type { ArchGroup, ArchNode, Architecture, Genotype } from '../../shared'
import { inputsByNode, nodeOutputShape, topoOrder } from './shapes'

type WithoutIds<T> = T extends unknown ? Omit<T, 'id' | 'group'> : never
/** A node to add: any ArchNode without its id and group (the builder assigns both). */
export type NodeSpec = WithoutIds<Exclude<ArchNode, { op: 'input' }>>

/**
 * Builds an Architecture node by node while tracking every node's output shape, so family builders can align
 * shapes (projections, pooling) as they go. Ids are `n0`, `n1`, ... in creation order; nodes get the group that
 * is open when they are added. `finish` drops nodes that do not lead to the output (tf.js would drop them too).
 */
export class GraphBuilder {
  private readonly nodes: ArchNode[] = []
  private readonly edges: Array<[string, string]> = []
  private readonly groups: ArchGroup[] = []
  private readonly shapes = new Map<string, number[]>()
  private current: string | undefined

  /** Starts the graph with its input node; returns the input id. */
  constructor(inputShape: number[]) {
    this.nodes.push({ id: 'n0', op: 'input' })
    this.shapes.set('n0', [...inputShape])
  }

  /** Id of the input node. */
  get input(): string {
    return 'n0'
  }

  /** Output shape of node `id` (without the batch axis). */
  shape(id: string): number[] {
    return this.shapes.get(id)!
  }

  /** Channels (last axis) of node `id`. */
  channels(id: string): number {
    const s = this.shape(id)
    return s[s.length - 1]!
  }

  /** Opens a group; nodes added until the next openGroup/closeGroup belong to it. Returns the group id. */
  openGroup(label: string, kind: ArchGroup['kind']): string {
    const id = `g${this.groups.length}`
    this.groups.push({ id, label, kind })
    this.current = id
    return id
  }

  /** Nodes added from now on belong to no group. */
  closeGroup(): void {
    this.current = undefined
  }

  /** Adds one node fed by `inputs` (in order) and returns its id; throws if the shapes do not fit. */
  add(spec: NodeSpec, inputs: string[]): string {
    const id = `n${this.nodes.length}`
    const node = { ...spec, id, ...(this.current ? { group: this.current } : {}) } as ArchNode
    this.shapes.set(
      id,
      nodeOutputShape(
        node,
        inputs.map((i) => this.shape(i)),
      ),
    )
    this.nodes.push(node)
    for (const from of inputs) this.edges.push([from, id])
    return id
  }

  /**
   * Copies the part of `sub` that leads to its node `upTo` after this graph's input (sub's input node becomes
   * this graph's input; `inputShape` must be sub's input shape). Node ids become `prefix` + sub's id. Returns the
   * new id of `upTo`.
   */
  graft(sub: Architecture, upTo: string, prefix: string): string {
    const ins = inputsByNode(sub)
    const needed = new Set<string>([upTo])
    const order = topoOrder(sub)
    for (let i = order.length - 1; i >= 0; i--) {
      const id = order[i]!.id
      if (needed.has(id)) for (const f of ins.get(id)!) needed.add(f)
    }
    const rename = new Map<string, string>()
    for (const node of order) {
      if (!needed.has(node.id)) continue
      if (node.op === 'input') {
        rename.set(node.id, this.input)
        continue
      }
      const id = prefix + node.id
      const inputs = ins.get(node.id)!.map((f) => rename.get(f)!)
      const copy = { ...node, id, ...(this.current ? { group: this.current } : {}) } as ArchNode
      if (!this.current) delete (copy as { group?: string }).group
      this.shapes.set(
        id,
        nodeOutputShape(
          copy,
          inputs.map((i) => this.shape(i)),
        ),
      )
      this.nodes.push(copy)
      for (const from of inputs) this.edges.push([from, id])
      rename.set(node.id, id)
    }
    return rename.get(upTo)!
  }

  /** Chains single-input nodes after `from`; returns the last id. */
  chain(from: string, specs: NodeSpec[]): string {
    return specs.reduce((prev, spec) => this.add(spec, [prev]), from)
  }

  /** The sum of `terms`: the term itself when there is one, an add node otherwise (null when empty). */
  sum(terms: string[]): string | null {
    if (terms.length === 0) return null
    return terms.length === 1 ? terms[0]! : this.add({ op: 'add' }, terms)
  }

  /** Channel concatenation of `parts` (the part itself when there is one). */
  concat(parts: string[]): string {
    return parts.length === 1 ? parts[0]! : this.add({ op: 'concat' }, parts)
  }

  /** ReLU -> conv (no bias) -> batch norm, the usual cell primitive. */
  reluConvBn(from: string, filters: number, kernelSize: number, strides = 1): string {
    return this.chain(from, [
      { op: 'activation', activation: 'relu' },
      { op: 'conv2d', filters, kernelSize, strides, activation: 'linear', useBias: false },
      { op: 'batchNorm' },
    ])
  }

  /**
   * The Architecture, keeping only nodes that lead to `output` and groups that still have nodes. Node ids are
   * kept as created (gaps are harmless).
   */
  finish(output: string, genotype?: Genotype): Architecture {
    const draft: Architecture = { version: 1, nodes: this.nodes, edges: this.edges, output }
    const ins = inputsByNode(draft)
    const live = new Set<string>([output, 'n0'])
    const order = topoOrder(draft)
    for (let i = order.length - 1; i >= 0; i--) {
      const id = order[i]!.id
      if (live.has(id) && id !== 'n0') for (const f of ins.get(id)!) live.add(f)
    }
    const nodes = this.nodes.filter((n) => live.has(n.id))
    const edges = this.edges.filter(([f, t]) => live.has(f) && live.has(t))
    const used = new Set(nodes.map((n) => n.group))
    const groups = this.groups.filter((g) => used.has(g.id))
    return {
      version: 1,
      nodes,
      edges,
      output,
      ...(groups.length > 0 ? { groups } : {}),
      ...(genotype ? { genotype } : {}),
    }
  }
}
