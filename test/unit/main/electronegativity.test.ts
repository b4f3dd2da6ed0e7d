import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import {
  ALLOWLIST_FILE,
  evaluate,
  parseAllowlist,
  scan,
  type Finding,
} from '../../../scripts/electronegativity.mjs'
import { makeTempDir } from '../../helpers/temp-dir'

const tmp = makeTempDir('nas-studio-eneg-')
afterAll(() => tmp.cleanup())

const finding = (check: string, severity: string, file = 'main/index.ts'): Finding => ({
  check,
  severity,
  confidence: 'FIRM',
  file,
  line: 1,
  manualReview: false,
  sample: '',
})

describe('electronegativity lint (npm run lint:electron)', () => {
  it('flags an insecure window: the scanner really runs, offline, on our kind of source', async () => {
    const dir = join(tmp.dir, 'insecure', 'main')
    mkdirSync(dir, { recursive: true })
    writeFileSync(
      join(dir, 'index.ts'),
      [
        "import { BrowserWindow, shell } from 'electron'",
        'export function open(url: string): void {',
        '  const win = new BrowserWindow({',
        '    webPreferences: { contextIsolation: false, nodeIntegration: true, sandbox: false, webSecurity: false },',
        '  })',
        '  void win.loadURL(url)',
        '  void shell.openExternal(url)',
        '}',
      ].join('\n'),
    )
    const { findings, errors } = await scan(join(tmp.dir, 'insecure'))
    expect(errors).toEqual([])
    const checks = (severity: string) => findings.filter((f) => f.severity === severity).map((f) => f.check)
    expect(checks('HIGH')).toEqual(
      expect.arrayContaining(['CONTEXT_ISOLATION_JS_CHECK', 'LIMIT_NAVIGATION_GLOBAL_CHECK']),
    )
    expect(checks('MEDIUM')).toEqual(
      expect.arrayContaining([
        'SANDBOX_JS_CHECK',
        'WEB_SECURITY_JS_CHECK',
        'PERMISSION_REQUEST_HANDLER_GLOBAL_CHECK',
        'AUXCLICK_JS_CHECK',
      ]),
    )
    const { blocking } = evaluate(findings, [])
    expect(blocking.length).toBeGreaterThanOrEqual(6)
  })

  it('fails on HIGH/MEDIUM findings not allowed, passes allowed ones with their reason, ignores LOW', () => {
    const reason = 'Only http(s) URLs reach openExternal; tested in window.test.ts.'
    const result = evaluate(
      [
        finding('OPEN_EXTERNAL_JS_CHECK', 'MEDIUM'),
        finding('SANDBOX_JS_CHECK', 'MEDIUM'),
        finding('NODE_INTEGRATION_JS_CHECK', 'HIGH', 'main/other.ts'),
        finding('CSP_GLOBAL_CHECK', 'LOW'),
      ],
      [
        { check: 'OPEN_EXTERNAL_JS_CHECK', file: 'main/index.ts', reason },
        // Allowed in another file only: does not cover main/other.ts.
        { check: 'NODE_INTEGRATION_JS_CHECK', file: 'main/index.ts', reason },
      ],
    )
    expect(result.allowed.map((f) => [f.check, f.reason])).toEqual([['OPEN_EXTERNAL_JS_CHECK', reason]])
    expect(result.blocking.map((f) => f.check)).toEqual(['SANDBOX_JS_CHECK', 'NODE_INTEGRATION_JS_CHECK'])
    expect(result.other.map((f) => f.check)).toEqual(['CSP_GLOBAL_CHECK'])
    expect(result.stale.map((e) => `${e.check} ${e.file}`)).toEqual([
      'NODE_INTEGRATION_JS_CHECK main/index.ts',
    ])
  })

  it('requires every allowlist entry to name a check and a file and give a real reason', () => {
    expect(() => parseAllowlist('{}')).toThrow(/JSON array/)
    expect(() => parseAllowlist('[{"check":"X","file":"a.ts"}]')).toThrow(/entry 1 has no "reason"/)
    expect(() => parseAllowlist('[{"check":"X","file":"a.ts","reason":"ok"}]')).toThrow(/needs a real reason/)
    const entries = parseAllowlist(readFileSync(ALLOWLIST_FILE, 'utf8'))
    expect(entries.length).toBeGreaterThan(0)
    // docs/security.md explains each allowed finding too.
    const doc = readFileSync(join(ALLOWLIST_FILE, '..', 'docs', 'security.md'), 'utf8')
    for (const e of entries) expect(doc, `${e.check} in ${e.file}`).toContain(e.check)
  })
})
