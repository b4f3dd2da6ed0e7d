import { searchSpaceSchema, type SearchSpace } from '../../shared'
import type { Db } from './connection'
import { jsonColumn, notFound, validateRow } from './row'

interface SpaceRow {
  id: string
  name: string
  description: string
  preset: number
  def: string
  createdAt: string
}

const SELECT = `SELECT id, name, description, preset, def, created_at AS createdAt FROM spaces`

function fromRow(row: SpaceRow): SearchSpace {
  const where = `Search space ${row.id}`
  return validateRow(
    searchSpaceSchema,
    { ...row, preset: row.preset === 1, def: jsonColumn(row.def, `${where} def`) },
    where,
  )
}

/** Search spaces table: presets (unique by preset key, read-only) and the user's own spaces. */
export class SpacesRepo {
  constructor(private readonly db: Db) {}

  /** Inserts a space; `presetKey` marks a bundled preset (unique). */
  insert(space: SearchSpace, presetKey: string | null = null): void {
    this.db
      .prepare(
        `INSERT INTO spaces (id, preset_key, name, description, preset, def, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        space.id,
        presetKey,
        space.name,
        space.description,
        space.preset ? 1 : 0,
        JSON.stringify(space.def),
        space.createdAt,
      )
  }

  /** Replaces a preset's name, description and definition (when the bundled preset file changed). */
  updatePreset(id: string, space: Pick<SearchSpace, 'name' | 'description' | 'def'>): void {
    this.db
      .prepare(`UPDATE spaces SET name = ?, description = ?, def = ? WHERE id = ? AND preset = 1`)
      .run(space.name, space.description, JSON.stringify(space.def), id)
  }

  /** Replaces one of the user's own spaces' name, description and definition. */
  updateOwn(id: string, space: Pick<SearchSpace, 'name' | 'description' | 'def'>): void {
    const info = this.db
      .prepare(`UPDATE spaces SET name = ?, description = ?, def = ? WHERE id = ? AND preset = 0`)
      .run(space.name, space.description, JSON.stringify(space.def), id)
    if (info.changes === 0) throw notFound('search space', id)
  }

  /** How many runs searched this space. */
  runCount(id: string): number {
    const row = this.db.prepare(`SELECT count(*) AS n FROM runs WHERE space_id = ?`).get(id) as { n: number }
    return row.n
  }

  /** Deletes one of the user's own spaces (presets stay). */
  deleteOwn(id: string): void {
    const info = this.db.prepare(`DELETE FROM spaces WHERE id = ? AND preset = 0`).run(id)
    if (info.changes === 0) throw notFound('search space', id)
  }

  /** The space with this id, or null. */
  get(id: string): SearchSpace | null {
    const row = this.db.prepare(`${SELECT} WHERE id = ?`).get(id) as SpaceRow | undefined
    return row ? fromRow(row) : null
  }

  /** The space with this id; NasError('not_found') otherwise. */
  require(id: string): SearchSpace {
    const s = this.get(id)
    if (!s) throw notFound('search space', id)
    return s
  }

  /** The preset registered under this key, or null. */
  getByPresetKey(key: string): SearchSpace | null {
    const row = this.db.prepare(`${SELECT} WHERE preset_key = ?`).get(key) as SpaceRow | undefined
    return row ? fromRow(row) : null
  }

  /** All spaces: presets first, then the user's, each oldest first. */
  list(): SearchSpace[] {
    return (this.db.prepare(`${SELECT} ORDER BY preset DESC, created_at, id`).all() as SpaceRow[]).map(
      fromRow,
    )
  }
}
