import { describe, expect, it } from 'vitest'
import {
  chosenFiles,
  localImportPath,
  newUploadId,
  uploadForImport,
  type ChosenFile,
} from '@renderer/components/data/pick-files'
import { UPLOAD_ID_PATTERN } from '@shared/web-protocol'

const blob = (text: string) => new Blob([text])
const folder: ChosenFile[] = [
  { relPath: 'shapes/circles/a.png', file: blob('a'), localPath: '' },
  { relPath: 'shapes/squares/b.png', file: blob('b'), localPath: '' },
]

describe('chosen files -> what to import', () => {
  it('uses the folder-relative path of a folder pick and the name of a file pick', () => {
    const inFolder = new File(['x'], 'a.png')
    Object.defineProperty(inFolder, 'webkitRelativePath', { value: 'shapes/circles/a.png' })
    const loose = new File(['y'], 'table.csv')
    const files = chosenFiles([inFolder, loose], (f) => `/home/me/${f.name}`)
    expect(files.map((f) => [f.relPath, f.localPath])).toEqual([
      ['shapes/circles/a.png', '/home/me/a.png'],
      ['table.csv', '/home/me/table.csv'],
    ])
  })

  it('imports the chosen folder, file or file group directly where local paths are known', () => {
    const local = (relPath: string, localPath: string): ChosenFile => ({ relPath, file: blob(''), localPath })
    expect(localImportPath([local('shapes/circles/a.png', '/data/photos/shapes/circles/a.png')])).toBe(
      '/data/photos/shapes',
    )
    expect(localImportPath([local('iris.csv', '/data/iris.csv')])).toBe('/data/iris.csv')
    expect(
      localImportPath([
        local('train-images-idx3-ubyte.gz', '/data/fmnist/train-images-idx3-ubyte.gz'),
        local('train-labels-idx1-ubyte.gz', '/data/fmnist/train-labels-idx1-ubyte.gz'),
      ]),
    ).toBe('/data/fmnist')
    expect(localImportPath(folder)).toBeNull()
  })

  it('uploads every file under one id and imports the uploaded folder', async () => {
    const calls: Array<[string, string, string]> = []
    const progress: Array<[number, number]> = []
    const api = {
      uploadFile: async (id: string, relPath: string, body: Blob) => {
        calls.push([id, relPath, await body.text()])
        return { root: `/srv/uploads/${id}` }
      },
    }
    const path = await uploadForImport(api, folder, (d, t) => progress.push([d, t]), undefined, 'up-test0001')
    expect(calls).toEqual([
      ['up-test0001', 'shapes/circles/a.png', 'a'],
      ['up-test0001', 'shapes/squares/b.png', 'b'],
    ])
    expect(progress).toEqual([
      [0, 2],
      [1, 2],
      [2, 2],
    ])
    expect(path).toBe('/srv/uploads/up-test0001/shapes')
  })

  it('imports one uploaded file by its own path and several by their folder', async () => {
    const api = { uploadFile: async (id: string) => ({ root: `/srv/${id}` }) }
    const one = [{ relPath: 'iris.csv', file: blob('x'), localPath: '' }]
    expect(await uploadForImport(api, one, () => {}, undefined, 'up-test0002')).toBe(
      '/srv/up-test0002/iris.csv',
    )
    const two = [...one, { relPath: 'more.csv', file: blob('y'), localPath: '' }]
    expect(await uploadForImport(api, two, () => {}, undefined, 'up-test0003')).toBe('/srv/up-test0003')
  })

  it('stops when there is no upload (desktop app) and makes ids the server accepts', async () => {
    await expect(uploadForImport({}, folder, () => {})).rejects.toThrow(/only in web mode|only possible/)
    expect(newUploadId()).toMatch(UPLOAD_ID_PATTERN)
  })
})
