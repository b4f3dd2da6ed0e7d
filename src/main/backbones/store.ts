import { randomBytes } from 'node:crypto'
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { BACKBONE_INFO_FILE, NasError, backboneInfoSchema, type BackboneInfo } from '../../shared'

/** Where backbones live in a data folder: `<dataDir>/backbones/<id>/`. */
export const backbonesRoot = (dataDir: string): string => join(dataDir, 'backbones')

/**
 * The backbones of one data folder. Each is a folder `<root>/<id>/` with a TF.js Layers model and
 * backbone.json; a folder appears only once complete (it is assembled elsewhere under <root>/.work and
 * renamed into place), so a crash never leaves a half backbone in the list. Folders starting with "." are
 * work areas (.work: imports being assembled; .downloads: catalogue files being fetched).
 */
export class BackboneStore {
  constructor(readonly root: string) {}

  /** Every complete backbone, oldest first; a folder with a missing or damaged backbone.json is skipped. */
  list(): BackboneInfo[] {
    if (!existsSync(this.root)) return []
    const out: BackboneInfo[] = []
    for (const entry of readdirSync(this.root, { withFileTypes: true })) {
      if (!entry.isDirectory() || entry.name.startsWith('.')) continue
      const info = this.read(entry.name)
      if (info) out.push(info)
    }
    return out.sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id))
  }

  get(id: string): BackboneInfo | null {
    if (!backboneInfoSchema.shape.id.safeParse(id).success) return null
    return this.read(id)
  }

  require(id: string): BackboneInfo {
    const info = this.get(id)
    if (!info) throw new NasError('not_found', `There is no backbone "${id}"; it may have been deleted.`)
    return info
  }

  /** The folder the engine loads backbone `id` from (model.json is in it). */
  dirOf(id: string): string {
    return join(this.root, this.require(id).id)
  }

  rename(id: string, name: string): BackboneInfo {
    const info = { ...this.require(id), name }
    writeInfo(join(this.root, id), info)
    return info
  }

  delete(id: string): void {
    this.require(id)
    // rename first, so the backbone vanishes from the list at once even if removing its files is slow or fails
    const doomed = join(this.workRoot(), `deleted-${id}-${randomBytes(4).toString('hex')}`)
    renameSync(join(this.root, id), doomed)
    rmSync(doomed, { recursive: true, force: true })
  }

  /** A new, empty folder to assemble a backbone in (under <root>/.work). */
  workDir(): string {
    const dir = join(this.workRoot(), randomBytes(8).toString('hex'))
    mkdirSync(dir, { recursive: true })
    return dir
  }

  /** A free id made from `name` ("My cats model" -> "my-cats-model", then "my-cats-model-2" ...). */
  freeId(name: string): string {
    const base =
      name
        .normalize('NFKD')
        .toLowerCase()
        .replace(/[^a-z0-9]+/g, '-')
        .replace(/^-+|-+$/g, '')
        .slice(0, 48) || 'backbone'
    for (let n = 1; ; n++) {
      const id = n === 1 ? base : `${base}-${n}`
      if (!existsSync(join(this.root, id))) return id
    }
  }

  /**
   * Writes `info` as backbone.json into `dir` (holding the model files) and moves `dir` into place as
   * <root>/<info.id>. Refused when that id is taken.
   */
  install(dir: string, info: BackboneInfo): BackboneInfo {
    const checked = backboneInfoSchema.parse(info)
    const target = join(this.root, checked.id)
    if (existsSync(target)) throw new NasError('conflict', `A backbone "${checked.id}" already exists.`)
    writeInfo(dir, checked)
    renameSync(dir, target)
    return checked
  }

  /** Removes what imports left half-done (a crash mid-import); call at start, before any import runs. */
  removeLeftovers(): void {
    rmSync(join(this.root, '.work'), { recursive: true, force: true })
  }

  private workRoot(): string {
    const dir = join(this.root, '.work')
    mkdirSync(dir, { recursive: true })
    return dir
  }

  private read(id: string): BackboneInfo | null {
    try {
      const parsed = backboneInfoSchema.safeParse(
        JSON.parse(readFileSync(join(this.root, id, BACKBONE_INFO_FILE), 'utf8')),
      )
      return parsed.success && parsed.data.id === id ? parsed.data : null
    } catch {
      return null
    }
  }
}

/** backbone.json written whole or not at all (temporary file, then rename). */
function writeInfo(dir: string, info: BackboneInfo): void {
  const tmp = join(dir, `${BACKBONE_INFO_FILE}.tmp`)
  writeFileSync(tmp, `${JSON.stringify(info, null, 2)}\n`)
  renameSync(tmp, join(dir, BACKBONE_INFO_FILE))
}
