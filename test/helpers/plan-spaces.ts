import path from 'node:path'
import { loadPresetSpaces } from '../../src/engine/space/presets'

/** The app's preset spaces as the planner's input lists them (id = preset key). */
export const PRESET_PLAN_SPACES = loadPresetSpaces(path.resolve(__dirname, '../../resources/presets')).map(
  (p) => ({ id: p.key, name: p.name, preset: true, def: p.def }),
)
