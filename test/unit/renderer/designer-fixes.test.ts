import { beforeEach, describe, expect, it } from 'vitest'
import { mount } from '@vue/test-utils'
import { createPinia, setActivePinia } from 'pinia'
import { setApi } from '@renderer/api'
import {
  blockTitle,
  chainOrder,
  emptyGraph,
  graphToSpaceDef,
  newNode,
  type DesignGraph,
} from '@renderer/designer/designer-model'
import { freeSpot, overlapsBlock } from '@renderer/designer/placement'
import { useDesignerStore } from '@renderer/stores/designer-store'
import SwitchRow from '@renderer/components/designer/SwitchRow.vue'
import BlockInspector from '@renderer/components/designer/BlockInspector.vue'
import { createFakeApi } from './fake-api'

/** The designer's fixes: blocks never land on each other, ordered canvases append in order, names, fields. */

beforeEach(() => {
  setActivePinia(createPinia())
  setApi(createFakeApi())
})

/** True when no two nodes of the canvas cover each other. */
function noOverlap(g: DesignGraph): boolean {
  return g.nodes.every((n) => !overlapsBlock(g, n.x, n.y, n.id))
}

describe('placing blocks', () => {
  it('a block dropped on another lands just below it, never on top', () => {
    const store = useDesignerStore()
    store.startEmpty('chain')
    const output = store.graph.nodes.find((n) => n.id === 'output')!
    const a = store.addBlock('conv', output.x, output.y)
    const b = store.addBlock('dense', output.x + 10, output.y + 5)
    const placed = (id: string) => store.graph.nodes.find((n) => n.id === id)!
    expect(placed(a).y).toBeGreaterThan(output.y)
    expect(placed(b).y).toBeGreaterThan(placed(a).y)
    expect(noOverlap(store.graph)).toBe(true)
    // keyboard adds (no drop point) never overlap either
    for (let i = 0; i < 6; i++) store.addBlock('dropout')
    expect(noOverlap(store.graph)).toBe(true)
  })

  it('freeSpot keeps a free point where it is', () => {
    const g = emptyGraph('chain')
    expect(freeSpot(g, 900, 900)).toEqual({ x: 900, y: 900 })
  })

  it('"Keep this order": each new block is the next layer, connected after the last one', () => {
    const store = useDesignerStore()
    store.startEmpty('sequential')
    store.setOrdered(true)
    const conv = store.addBlock('conv', 50, 50)
    const pool = store.addBlock('pool', 600, 20)
    const dense = store.addBlock('dense')
    const g = store.graph
    expect(chainOrder(g)).toEqual([conv, pool, dense])
    const links = g.edges.map((e) => `${e.source}->${e.target}`).sort()
    expect(links).toEqual(
      [`input->${conv}`, `${conv}->${pool}`, `${pool}->${dense}`, `${dense}->output`].sort(),
    )
    expect(noOverlap(g)).toBe(true)
    const mapped = graphToSpaceDef(g)
    expect(mapped.problems).toEqual([])
    expect(mapped.def?.family === 'sequential' && mapped.def.slots?.map((s) => s.ops[0]!.op)).toEqual([
      'conv2d',
      'maxPool2d',
      'dense',
    ])
  })
})

describe('naming blocks in the problem list as the canvas labels them', () => {
  it('uses the layer number on an ordered canvas and the choices where names repeat', () => {
    const store = useDesignerStore()
    store.startEmpty('sequential')
    store.setOrdered(true)
    const a = store.addBlock('dense')
    const b = store.addBlock('dense')
    expect(blockTitle(store.graph, a)).toBe('1. Dense')
    expect(blockTitle(store.graph, b)).toBe('2. Dense')
    const g = emptyGraph('chain')
    const c1 = newNode(g, 'conv', 0, 0)
    g.nodes.push(c1)
    const c2 = newNode(g, 'conv', 0, 100)
    g.nodes.push(c2)
    c2.choices = { ...c2.choices, filters: [64] }
    expect(blockTitle(g, c1.id)).toMatch(/^Convolution · /)
    expect(blockTitle(g, c2.id)).toContain('64 filters')
    expect(blockTitle(g, c1.id)).not.toBe(blockTitle(g, c2.id))
    expect(blockTitle(g, 'gone')).toBe('A removed block')
    expect(blockTitle(g, c1.id)).not.toMatch(/\bb\d+\b/)
  })
})

describe('the Connect words and the repeat fields', () => {
  it('clicking the words of a switch toggles it', async () => {
    const w = mount(SwitchRow, { props: { modelValue: false, title: 'Connect', testid: 'connect-mode' } })
    await w.find('[data-testid="connect-mode-label"]').trigger('click')
    expect(w.emitted('update:modelValue')).toEqual([[true]])
    await w.setProps({ modelValue: true })
    await w.find('[data-testid="connect-mode-label"]').trigger('click')
    expect(w.emitted('update:modelValue')!.at(-1)).toEqual([false])
  })

  it('a repeat bound takes the value typed over the selection; an impossible one is put back', async () => {
    const g = emptyGraph('sequential')
    const node = newNode(g, 'dense', 0, 0)
    const w = mount(BlockInspector, { props: { node, edge: null, family: 'sequential', problems: [] } })
    const max = w.find('[data-testid="repeat-max"]')
    await max.setValue('2')
    expect(w.emitted('repeat')).toEqual([[node.id, { min: node.repeat.min, max: 2 }]])
    await max.setValue('40')
    expect(w.emitted('repeat')).toHaveLength(1)
    expect((max.element as HTMLInputElement).value).toBe(String(node.repeat.max))
  })
})
