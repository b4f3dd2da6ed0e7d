import { readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { z } from 'zod'
import type { SearchSpaceDef } from '../../shared'
import { NasError, searchSpaceDefSchema } from '../../shared'
import { validateSpace } from './index'

/** One search-space preset shipped with the app; `key` is the file name without `.json` (stable id). */
export interface PresetSpace {
  key: string
  name: string
  description: string
  def: SearchSpaceDef
}

const presetFileSchema = z.object({
  name: z.string().min(1).max(200),
  description: z.string(),
  def: searchSpaceDefSchema,
})

/**
 * Reads every `*.json` in `presetsDir` (resources/presets), sorted by file name, each `{ name, description, def }`.
 * Each is checked with the zod schema and validateSpace; a bad file throws NasError('invalid_space') naming it.
 */
export function loadPresetSpaces(presetsDir: string): PresetSpace[] {
  let files: string[]
  try {
    files = readdirSync(presetsDir).filter((f) => f.endsWith('.json'))
  } catch (err) {
    throw new NasError(
      'invalid_space',
      `Cannot read the presets folder ${presetsDir}: ${(err as Error).message}`,
    )
  }
  return files.sort().map((file) => {
    const where = path.join(presetsDir, file)
    let json: unknown
    try {
      json = JSON.parse(readFileSync(where, 'utf8'))
    } catch (err) {
      throw new NasError('invalid_space', `Preset ${file} is not valid JSON: ${(err as Error).message}`, {
        file: where,
      })
    }
    const parsed = presetFileSchema.safeParse(json)
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!
      throw new NasError(
        'invalid_space',
        `Preset ${file} is invalid at ${issue.path.join('.') || 'top level'}: ${issue.message}`,
        {
          file: where,
        },
      )
    }
    try {
      validateSpace(parsed.data.def)
    } catch (err) {
      throw new NasError('invalid_space', `Preset ${file}: ${(err as Error).message}`, { file: where })
    }
    return { key: file.slice(0, -'.json'.length), ...parsed.data }
  })
}
