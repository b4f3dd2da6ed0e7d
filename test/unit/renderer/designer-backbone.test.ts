import { describe, expect, it } from 'vitest'
import { mount } from '@vue/test-utils'
import {
  edgeId,
  emptyGraph,
  graphToSpaceDef,
  newNode,
  spaceDefToGraph,
  type DesignGraph,
} from '@renderer/designer/designer-model'
import BlockInspector from '@renderer/components/designer/BlockInspector.vue'

/** The Pretrained backbone block on the designer canvas: canvas <-> definition, its problems, its inspector. */

function canvas(): { graph: DesignGraph; backbone: string } {
  const graph = emptyGraph('backbone')
  const bb = newNode(graph, 'backbone', 0, 100)
  graph.nodes.push(bb)
  const pool = newNode(graph, 'pool', 0, 200)
  graph.nodes.push(pool)
  const dense = newNode(graph, 'dense', 0, 300)
  dense.repeat = { min: 0, max: 2 }
  graph.nodes.push(dense)
  const ids = ['input', bb.id, pool.id, dense.id, 'output']
  for (let i = 0; i + 1 < ids.length; i++)
    graph.edges.push({
      id: edgeId(ids[i]!, ids[i + 1]!),
      source: ids[i]!,
      target: ids[i + 1]!,
      optional: false,
    })
  return { graph, backbone: bb.id }
}

describe('Pretrained backbone block', () => {
  it('asks in plain words for the backbone, then maps the canvas to a backbone space and back', () => {
    const { graph, backbone } = canvas()
    const empty = graphToSpaceDef(graph)
    expect(empty.def).toBeNull()
    expect(empty.problems).toContainEqual({
      nodeId: backbone,
      message: 'Choose at least one backbone in the Pretrained backbone block.',
    })
    const node = graph.nodes.find((n) => n.id === backbone)!
    node.choices = { backbone: ['fmnist-a'], cut: ['n7', 'n9'], fineTune: ['frozen', 1] }
    const mapped = graphToSpaceDef(graph)
    expect(mapped.problems).toEqual([])
    expect(mapped.def).toMatchObject({
      family: 'backbone',
      backbones: [{ id: 'fmnist-a', cuts: ['n7', 'n9'] }],
      fineTune: ['frozen', 1],
      pooling: ['globalAvg'],
      minBlocks: 0,
      maxBlocks: 2,
      dropout: [0],
    })
    expect(graphToSpaceDef(spaceDefToGraph(mapped.def!)).def).toEqual(mapped.def)
  })

  it('offers the backbones on this computer and their cut layers in the inspector', async () => {
    const { graph, backbone } = canvas()
    const node = graph.nodes.find((n) => n.id === backbone)!
    node.choices = { backbone: ['fmnist-a'], cut: [], fineTune: ['frozen'] }
    const w = mount(BlockInspector, {
      props: {
        node,
        edge: null,
        family: 'backbone',
        problems: [],
        backbones: [
          { id: 'fmnist-a', name: 'Fashion (5 classes)', cuts: ['n7', 'n9'] },
          { id: 'other', name: 'Other', cuts: ['x1'] },
        ],
      },
    })
    expect(w.find('[data-testid="field-backbone"]').text()).toContain('Fashion (5 classes)')
    const cut = w.find('[data-testid="field-cut"]')
    expect(cut.text()).toContain('n9')
    expect(cut.text()).not.toContain('x1')
    await cut.findAll('.n-checkbox')[1]!.trigger('click')
    expect(w.emitted('choices')).toEqual([[backbone, { ...node.choices, cut: ['n9'] }]])
    expect(w.find('[data-testid="field-fineTune"]').text()).toContain('last 1')
  })
})
