import { mkdirSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { cruise, type IConfiguration } from 'dependency-cruiser'
import { afterEach, describe, expect, it } from 'vitest'
import { makeTempDir } from '../../helpers/temp-dir'

/**
 * `npm run lint` runs dependency-cruiser with .dependency-cruiser.cjs over the repository. These cases cruise
 * small trees of files written to a temporary folder with the same rules, so a rule that silently stops
 * matching (a changed path pattern, a dependency-cruiser upgrade) fails here.
 */
const config = createRequire(import.meta.url)('../../../.dependency-cruiser.cjs') as IConfiguration

let cleanups: Array<() => void> = []
afterEach(() => {
  for (const c of cleanups) c()
  cleanups = []
})

/** Writes `files` (path -> source) under a fresh folder and returns the rule names that fail there. */
async function violations(files: Record<string, string>): Promise<string[]> {
  const { dir, cleanup } = makeTempDir('nas-import-graph-')
  cleanups.push(cleanup)
  for (const [file, code] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, file)), { recursive: true })
    writeFileSync(join(dir, file), code)
  }
  // The repository's tsconfig is not needed for relative imports between plain .ts files.
  const { tsConfig: _tsConfig, ...options } = config.options ?? {}
  const result = await cruise(['src'], {
    ...options,
    baseDir: dir,
    validate: true,
    ruleSet: { forbidden: config.forbidden ?? [] },
  })
  if (typeof result.output === 'string') throw new Error('expected a JSON result')
  return result.output.summary.violations.map((v) => v.rule.name)
}

describe('import graph rules', () => {
  it('fail on a two-file cycle', async () => {
    const found = await violations({
      'src/engine/data/a.ts': "import { b } from './b'\nexport const a = () => b",
      'src/engine/data/b.ts': "import { a } from './a'\nexport const b = () => a",
    })
    expect(found).toContain('no-circular')
  })

  it('fail on a longer cycle held together only by type imports', async () => {
    const found = await violations({
      'src/main/cli/commands.ts': "import type { Io } from './io'\nexport type Cmd = (io: Io) => void",
      'src/main/cli/io.ts': "import type { Sub } from './sub'\nexport interface Io { sub: Sub }",
      'src/main/cli/sub.ts': "import type { Cmd } from './commands'\nexport interface Sub { run: Cmd }",
    })
    expect(found).toContain('no-circular')
  })

  it('pass a tree without cycles', async () => {
    const found = await violations({
      'src/main/cli/io.ts': 'export const EXIT = { ok: 0 }',
      'src/main/cli/sub.ts': "import { EXIT } from './io'\nexport const run = () => EXIT.ok",
      'src/main/cli/commands.ts':
        "import { run } from './sub'\nimport { EXIT } from './io'\nexport const go = () => run() + EXIT.ok",
    })
    expect(found).toEqual([])
  })

  it.each(['ipc', 'server'])('fail when src/main/%s imports src/main/db', async (layer) => {
    const found = await violations({
      'src/main/db/runs-repo.ts': 'export const rows = () => []',
      [`src/main/${layer}/index.ts`]: "import { rows } from '../db/runs-repo'\nexport const r = rows",
    })
    expect(found).toEqual(['no-db-from-transport'])
  })

  it('let src/main/services import src/main/db', async () => {
    const found = await violations({
      'src/main/db/runs-repo.ts': 'export const rows = () => []',
      'src/main/services/runs-service.ts': "import { rows } from '../db/runs-repo'\nexport const r = rows",
      'src/main/server/index.ts': "import { r } from '../services/runs-service'\nexport const s = r",
    })
    expect(found).toEqual([])
  })
})
