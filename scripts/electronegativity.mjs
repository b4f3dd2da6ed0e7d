// Electron security lint: scans the app's sources with @doyensec/electronegativity and fails on any HIGH or
// MEDIUM finding that .electronegativity-allow.json does not explain. `npm run lint:electron`; part of
// `npm test`. docs/security.md lists the findings and why each allowed one is acceptable.
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..')
/** What is scanned: every source folder (main, preload, renderer, shared, engine). */
export const SCAN_DIR = join(root, 'src')
export const ALLOWLIST_FILE = join(root, '.electronegativity-allow.json')
/** Severities that fail the lint unless allowed. */
export const BLOCKING = ['HIGH', 'MEDIUM']
/**
 * Checks that are not run: AvailableSecurityFixesGlobalCheck downloads Electron's release list from the
 * internet at every run (nothing may be downloaded at run time); the Electron version is kept current
 * through package.json and npm instead.
 */
export const EXCLUDED_CHECKS = ['AvailableSecurityFixesGlobalCheck']

/**
 * Loads electronegativity's runner with its translation download replaced by the bundled English texts:
 * the stock runner fetches translations from the internet first.
 */
function loadRunner() {
  const require = createRequire(import.meta.url)
  const runnerPath = require.resolve('@doyensec/electronegativity')
  const runnerRequire = createRequire(runnerPath)
  const i18nPath = runnerRequire.resolve('./locales/i18n')
  const i18n = runnerRequire('i18n')
  const offline = async () => {
    i18n.configure({
      locales: ['en-US'],
      defaultLocale: 'en-US',
      directory: dirname(i18nPath),
      updateFiles: false,
      objectNotation: true,
      retryInDefaultLocale: true,
      register: globalThis,
    })
    i18n.setLocale('en-US')
  }
  require.cache[i18nPath] = { id: i18nPath, filename: i18nPath, loaded: true, exports: offline }
  return runnerRequire('./runner')
}

/** The installed Electron version, so the checks use its defaults (the scanned folder has no lock file). */
export function installedElectronVersion() {
  const require = createRequire(import.meta.url)
  return JSON.parse(readFileSync(require.resolve('electron/package.json'), 'utf8')).version
}

/**
 * Scans `input` and answers the findings as plain objects (check id, severity, confidence, file relative to
 * `input`, line, sample) plus the files that could not be parsed (those would hide findings).
 */
export async function scan(input, electronVersion = installedElectronVersion()) {
  const run = loadRunner()
  const result = await run({
    input,
    isRelative: true,
    electronVersionOverride: electronVersion,
    excludeFromScan: EXCLUDED_CHECKS,
  })
  const findings = result.issues.map((i) => ({
    check: i.id,
    severity: i.severity.name,
    confidence: i.confidence.name,
    file: i.file.split('\\').join('/'),
    line: i.location.line,
    manualReview: Boolean(i.manualReview),
    sample: String(i.sample ?? '').slice(0, 100),
  }))
  const errors = result.errors
    .filter((e) => !e.tolerable)
    .map((e) => `${relative(input, e.file)}: ${e.message}`)
  return { findings, errors }
}

/**
 * Reads and checks the allowlist: an array of { check, file, reason }, each reason a real explanation
 * (at least 30 characters). Throws with the entry at fault otherwise.
 */
export function parseAllowlist(text) {
  const entries = JSON.parse(text)
  if (!Array.isArray(entries))
    throw new Error('The allowlist must be a JSON array of { check, file, reason }.')
  entries.forEach((e, i) => {
    for (const key of ['check', 'file', 'reason']) {
      if (typeof e?.[key] !== 'string' || e[key].trim() === '') {
        throw new Error(`Allowlist entry ${i + 1} has no "${key}".`)
      }
    }
    if (e.reason.trim().length < 30) {
      throw new Error(
        `Allowlist entry ${i + 1} (${e.check} in ${e.file}) needs a real reason, not "${e.reason}".`,
      )
    }
  })
  return entries
}

/**
 * Splits findings into those that fail the lint (HIGH/MEDIUM, not allowed), those allowed (with their
 * reason) and the rest; also lists allowlist entries that no longer match any finding (stale: remove them).
 */
export function evaluate(findings, allowlist) {
  const matches = (entry, f) => entry.check === f.check && entry.file === f.file
  const blocking = []
  const allowed = []
  const other = []
  for (const f of findings) {
    const entry = allowlist.find((e) => matches(e, f))
    if (!BLOCKING.includes(f.severity)) other.push(f)
    else if (entry) allowed.push({ ...f, reason: entry.reason })
    else blocking.push(f)
  }
  const stale = allowlist.filter((e) => !findings.some((f) => matches(e, f)))
  return { blocking, allowed, other, stale }
}

async function main() {
  const allowlist = parseAllowlist(readFileSync(ALLOWLIST_FILE, 'utf8'))
  const version = installedElectronVersion()
  const { findings, errors } = await scan(SCAN_DIR, version)
  const { blocking, allowed, other, stale } = evaluate(findings, allowlist)
  const line = (f) => `  ${f.severity.padEnd(13)} ${f.check.padEnd(32)} src/${f.file}:${f.line}`
  console.log(`electronegativity: ${findings.length} finding(s) in src/ (Electron ${version})`)
  for (const f of allowed) console.log(`${line(f)}  allowed: ${f.reason}`)
  for (const f of other) console.log(`${line(f)}  (below MEDIUM)`)
  for (const f of blocking) console.error(`${line(f)}  NOT EXPLAINED`)
  for (const e of errors) console.error(`  could not parse ${e}`)
  for (const e of stale) console.error(`  stale allowlist entry: ${e.check} in ${e.file} matches no finding`)
  if (blocking.length > 0 || errors.length > 0 || stale.length > 0) {
    console.error(
      `electronegativity: ${blocking.length} HIGH/MEDIUM finding(s) not explained, ${errors.length} file(s) not ` +
        `parsed, ${stale.length} stale allowlist entr(y/ies). Fix the code, or explain the finding in ` +
        '.electronegativity-allow.json and docs/security.md.',
    )
    process.exitCode = 1
    return
  }
  console.log(`electronegativity: OK (${allowed.length} explained, ${other.length} below MEDIUM)`)
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  main().catch((err) => {
    console.error(`electronegativity could not run: ${err instanceof Error ? err.message : String(err)}`)
    process.exitCode = 1
  })
}
