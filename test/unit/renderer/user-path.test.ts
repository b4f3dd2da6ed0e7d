import { describe, expect, it } from 'vitest'
import { isUploadPath, userPath } from '@renderer/user-path'
import { chosenName, type ChosenFile } from '@renderer/components/data/pick-files'
import { errorMessage, ApiError } from '@renderer/api'

const UP = '/home/me/.local/share/nas-studio/uploads/up-abcdefghij012345'

describe('userPath: no internal path reaches a person', () => {
  it('cuts the upload folder, leaving the name the person chose', () => {
    expect(userPath(`${UP}/shapes`)).toBe('shapes')
    expect(userPath(`${UP}/shapes/circles/a.png is not an image`)).toBe(
      'shapes/circles/a.png is not an image',
    )
    expect(userPath(`No class folders in ${UP}/shapes. Put images in one folder per class.`)).toBe(
      'No class folders in shapes. Put images in one folder per class.',
    )
    expect(userPath('C:\\Users\\me\\AppData\\nas\\uploads\\up-abcdefghij012345\\iris.csv')).toBe('iris.csv')
    expect(isUploadPath(`${UP}/shapes`)).toBe(true)
    expect(isUploadPath('/home/me/photos')).toBe(false)
  })

  it("names NAS Studio's decoded copy instead of its folder", () => {
    const cache = `/data/nas/cache/${'a'.repeat(64)}/train.bin`
    expect(userPath(`Cannot read ${cache}: it changed`)).toBe(
      "Cannot read NAS Studio's copy of the data: it changed",
    )
  })

  it('leaves a path on the person’s own computer alone, and cleans error messages', () => {
    expect(userPath('/home/me/photos does not exist.')).toBe('/home/me/photos does not exist.')
    expect(errorMessage(new ApiError('dataset_error', `${UP}/shapes holds no images.`))).toBe(
      'shapes holds no images.',
    )
  })
})

describe('chosenName', () => {
  const f = (relPath: string): ChosenFile => ({ relPath, file: new Blob([]), localPath: '' })
  it('is the chosen folder, the one file, or "Uploaded files"', () => {
    expect(chosenName([f('shapes/circles/a.png'), f('shapes/squares/b.png')])).toBe('shapes')
    expect(chosenName([f('iris.csv')])).toBe('iris.csv')
    expect(chosenName([f('train-images-idx3-ubyte.gz'), f('train-labels-idx1-ubyte.gz')])).toBe(
      'Uploaded files',
    )
  })
})
