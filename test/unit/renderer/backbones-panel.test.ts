import { beforeEach, describe, expect, it } from 'vitest'
import { flushPromises, mount } from '@vue/test-utils'
import { createPinia, setActivePinia } from 'pinia'
import type { BackboneCatalogueEntry, BackboneDownloadJob, BackboneInfo } from '@shared/backbone'
import { setApi } from '@renderer/api'
import BackbonesPanel from '@renderer/components/backbones/BackbonesPanel.vue'
import { createFakeApi, type FakeApi } from './fake-api'

let api: FakeApi
let stored: BackboneInfo[]
let catalogue: BackboneCatalogueEntry[]

const tiny: BackboneInfo = {
  id: 'tiny',
  name: 'Tiny',
  source: 'catalogue',
  inputShape: [8, 8, 3],
  normalisation: { scale: 1 / 127.5, offset: -1 },
  cutPoints: [{ layer: 'features', outputShape: [8] }],
  fineTunableBlocks: 1,
  sizeBytes: 3_600_000,
  createdAt: '2026-12-06T00:00:00.000Z',
}
const job = (over: Partial<BackboneDownloadJob>): BackboneDownloadJob => ({
  jobId: 'j1',
  catalogueId: 'tiny',
  state: 'downloading',
  receivedBytes: 0,
  totalBytes: 3_600_000,
  backboneId: null,
  error: null,
  ...over,
})

beforeEach(() => {
  setActivePinia(createPinia())
  api = createFakeApi()
  setApi(api)
  stored = []
  catalogue = [
    {
      id: 'tiny',
      name: 'Tiny',
      description: 'A tiny test model',
      source: 'models.example',
      sizeBytes: 3_600_000,
      downloadable: true,
      unavailableReason: null,
      installedId: null,
    },
    {
      id: 'big',
      name: 'Big',
      description: 'Not pinned',
      source: 'models.example',
      sizeBytes: null,
      downloadable: false,
      unavailableReason: 'Its files have no pinned checksums in this version of NAS Studio.',
      installedId: null,
    },
  ]
  api.handle('backbones.list', () => stored)
  api.handle('backbones.catalogue', () => catalogue)
  api.handle('runs.list', () => [])
})

describe('the Backbones panel', () => {
  it('downloads only after consent that names size and source, with a progress bar, then lists it', async () => {
    api.handle('backbones.download', (req) => {
      expect(req).toEqual({ catalogueId: 'tiny', consent: true })
      return job({})
    })
    const w = mount(BackbonesPanel)
    await flushPromises()
    expect(w.find('[data-testid="backbones-empty"]').exists()).toBe(true)
    const [tinyEntry, bigEntry] = w.findAll('[data-testid="catalogue-entry"]')
    expect(bigEntry!.text()).toBe('Big')
    expect(bigEntry!.find('[data-testid="catalogue-download"]').exists()).toBe(false)
    expect(w.find('[data-testid="catalogue-unavailable"]').text()).toMatch(
      /Not downloadable yet: .*no pinned checksums/,
    )

    await tinyEntry!.find('[data-testid="catalogue-download"]').trigger('click')
    expect(api.calls.some((c) => c.method === 'backbones.download')).toBe(false)
    expect(w.find('[data-testid="catalogue-consent"]').text()).toContain('3.6 MB from models.example')
    await w.find('[data-testid="catalogue-consent-yes"]').trigger('click')
    await flushPromises()
    api.emit('backbone.download', job({ receivedBytes: 1_800_000 }))
    await flushPromises()
    expect(w.find('[data-testid="catalogue-progress"]').attributes('aria-valuenow')).toBe('50')
    expect(w.text()).toContain('1.8 MB of 3.6 MB')

    stored = [tiny]
    catalogue = [{ ...catalogue[0]!, installedId: 'tiny' }, catalogue[1]!]
    api.emit('backbone.download', job({ state: 'done', receivedBytes: 3_600_000, backboneId: 'tiny' }))
    await flushPromises()
    expect(w.find('[data-testid="catalogue-installed"]').exists()).toBe(true)
    expect(w.find('[data-testid="backbone-item"]').text()).toContain('8×8×3 input · 1 cut point · 3.6 MB')
  })

  it('shows why a download failed, as main words it', async () => {
    api.handle('backbones.download', () => job({}))
    const w = mount(BackbonesPanel)
    await flushPromises()
    await w.find('[data-testid="catalogue-download"]').trigger('click')
    await w.find('[data-testid="catalogue-consent-yes"]').trigger('click')
    await flushPromises()
    const why = 'model.json did not match its pinned checksum, so it was thrown away. Nothing was kept.'
    api.emit('backbone.download', job({ state: 'failed', error: why }))
    await flushPromises()
    expect(w.find('[data-testid="catalogue-download-error"]').text()).toBe(why)
  })

  it('renames and deletes a backbone after asking once more', async () => {
    stored = [tiny]
    api.handle('backbones.rename', ({ name }) => {
      stored = [{ ...tiny, name }]
      return stored[0]!
    })
    api.handle('backbones.delete', () => {
      stored = []
      return { deleted: true as const, id: 'tiny' }
    })
    const w = mount(BackbonesPanel)
    await flushPromises()
    await w.find('[data-testid="backbone-rename"]').trigger('click')
    await w.find('[data-testid="backbone-new-name"]').setValue('Tiny features')
    await w.find('form').trigger('submit')
    await flushPromises()
    expect(w.find('[data-testid="backbone-item"]').text()).toContain('Tiny features')
    await w.find('[data-testid="backbone-delete"]').trigger('click')
    await w.find('[data-testid="backbone-delete-confirm"]').trigger('click')
    await flushPromises()
    expect(w.findAll('[data-testid="backbone-item"]')).toHaveLength(0)
  })
})
