import { beforeEach, describe, expect, it } from 'vitest'
import { flushPromises, mount } from '@vue/test-utils'
import { createPinia, setActivePinia } from 'pinia'
import type { Dataset } from '@shared/domain'
import { ApiError, setApi } from '@renderer/api'
import { useDatasetsStore } from '@renderer/stores/datasets-store'
import DatasetManage from '@renderer/components/data/DatasetManage.vue'
import { createFakeApi, type FakeApi } from './fake-api'

let api: FakeApi
const drawings: Dataset = {
  id: 'd1',
  name: 'drawings',
  source: 'image-folder',
  path: '/home/me/drawings',
  hash: 'h',
  inputShape: [28, 28, 3],
  classNames: ['a', 'b'],
  numTrain: 10,
  numTest: 2,
  createdAt: '2026-12-01T00:00:00.000Z',
}

beforeEach(() => {
  setActivePinia(createPinia())
  api = createFakeApi()
  setApi(api)
  useDatasetsStore().datasets = [drawings]
})

describe('rename and delete a dataset from the Data view', () => {
  it('renames it in the list', async () => {
    api.handle('datasets.rename', ({ name }) => ({ ...drawings, name: name.trim() }))
    const w = mount(DatasetManage, { props: { dataset: drawings } })
    await w.find('[data-testid="dataset-rename"]').trigger('click')
    await w.find('[data-testid="dataset-new-name"]').setValue('My drawings')
    await w.find('form').trigger('submit')
    await flushPromises()
    expect(useDatasetsStore().datasets[0]!.name).toBe('My drawings')
  })

  it('asks once more, and shows why main refused (the runs that use it)', async () => {
    const why = '"drawings" is used by the run "first try". Delete that run in History first.'
    api.handle('datasets.delete', () => {
      throw new ApiError('conflict', why)
    })
    const w = mount(DatasetManage, { props: { dataset: drawings } })
    await w.find('[data-testid="dataset-delete"]').trigger('click')
    expect(w.text()).toContain('Your own files stay where they are.')
    await w.find('[data-testid="dataset-delete-confirm"]').trigger('click')
    await flushPromises()
    expect(w.find('[data-testid="dataset-manage-error"]').text()).toBe(why)
    expect(useDatasetsStore().datasets).toHaveLength(1)

    api.handle('datasets.delete', () => ({ deleted: true as const, id: 'd1' }))
    await w.find('[data-testid="dataset-delete"]').trigger('click')
    await w.find('[data-testid="dataset-delete-confirm"]').trigger('click')
    await flushPromises()
    expect(useDatasetsStore().datasets).toHaveLength(0)
    expect(w.emitted('deleted')).toHaveLength(1)
  })
})
