import { ESLint } from 'eslint'
import { describe, expect, it } from 'vitest'

/**
 * The import rules of ARCHITECTURE.md are enforced by ESLint. These cases lint small snippets as if they
 * were files in each layer, so a rule that silently stops matching fails here.
 */
const eslint = new ESLint()

async function restrictedImportMessages(filePath: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath })
  return (result?.messages ?? []).filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message)
}

const cases: Array<{ file: string; code: string; allowed: boolean }> = [
  {
    file: 'src/engine/space/x.ts',
    code: "import { app } from 'electron'\nexport const a = app",
    allowed: false,
  },
  {
    file: 'src/engine/space/x.ts',
    code: "import Database from 'better-sqlite3'\nexport const d = Database",
    allowed: false,
  },
  {
    file: 'src/engine/space/x.ts',
    code: "import { x } from '../../main/db/connection'\nexport const y = x",
    allowed: false,
  },
  {
    file: 'src/engine/space/x.ts',
    code: "import { NasError } from '../../shared'\nexport const e = NasError",
    allowed: true,
  },
  {
    file: 'src/renderer/src/x.ts',
    code: "import { x } from '../../main/services'\nexport const y = x",
    allowed: false,
  },
  {
    file: 'src/renderer/src/x.ts',
    code: "import { x } from '../../engine'\nexport const y = x",
    allowed: false,
  },
  {
    file: 'src/renderer/src/x.ts',
    code: "import { readFileSync } from 'node:fs'\nexport const r = readFileSync",
    allowed: false,
  },
  {
    file: 'src/renderer/src/x.ts',
    code: "import { api } from '@shared/api'\nexport const a = api",
    allowed: true,
  },
  {
    file: 'src/shared/x.ts',
    code: "import { x } from '../engine/ports'\nexport const y = x",
    allowed: false,
  },
  { file: 'src/shared/x.ts', code: "import { z } from 'zod'\nexport const s = z.string()", allowed: true },
]

describe('import boundaries', () => {
  it.each(cases)('$file: $code -> allowed=$allowed', async ({ file, code, allowed }) => {
    const messages = await restrictedImportMessages(file, code)
    if (allowed) expect(messages).toEqual([])
    else expect(messages.length).toBeGreaterThan(0)
  })
})
