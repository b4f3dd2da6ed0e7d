import { randomBytes } from 'node:crypto'
import { mkdirSync, readdirSync, statSync, symlinkSync, writeFileSync } from 'node:fs'
import { connect, type Socket } from 'node:net'
import { join, relative } from 'node:path'
import { pathToFileURL } from 'node:url'
import fc from 'fast-check'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { WebSocket } from 'ws'
import * as engine from '../../../src/engine'
import { createTrustedSenderCheck, registerIpc } from '../../../src/main/ipc'
import { startWebServer, type WebServer } from '../../../src/main/server'
import { presetSpaceId } from '../../../src/main/services'
import {
  ERROR_CODES,
  IPC_INVOKE_CHANNEL,
  METHODS,
  WEB_MAX_BODY_BYTES,
  WEB_EVENTS_READY,
  api,
  type Method,
  type Result,
  type RunConfig,
} from '../../../src/shared'
import { FakeIpcMain } from '../../helpers/fake-ipc'
import { httpRequest, type RawResponse } from '../../helpers/http'
import { makeServices } from '../../helpers/services'
import { makeTempDir } from '../../helpers/temp-dir'

/**
 * The fuzz test: well over 10,000 malformed contract calls against a real web-mode server and
 * the real IPC gateway, both over real services and a real SQLite file holding a finished run. Every call
 * must be refused with a clear error (the right HTTP status, error code and a readable message), the server
 * must keep answering valid calls, and nothing stored may change (every table, and every file of the data
 * folder, compared before and after). Cases come from fast-check with a fixed seed (FUZZ_SEED overrides it),
 * so a failure is reproducible.
 */
const SEED = Number(process.env.FUZZ_SEED ?? 20261129)

let ctx: Awaited<ReturnType<typeof makeServices>>
let server: WebServer
const ipc = new FakeIpcMain()
const ui = makeTempDir('nas-studio-fuzz-ui-')
const rendererDir = join(ui.dir, 'renderer')
const APP_URL = pathToFileURL(join(rendererDir, 'index.html')).href
const SECRET = 'TOP-SECRET-OUTSIDE-THE-UI'
const INDEX_HTML = '<!doctype html><title>NAS Studio</title>'

/** Real ids of the stored data, so malformed calls aim at things that exist. */
const ids = { runId: '', trialId: '', datasetId: '', spaceId: '' }
let runConfig: RunConfig

/** Malformed calls made, per kind (each test group checks its share against MIN_CALLS). */
const counts: Record<string, number> = {}
const failures: string[] = []
const count = (kind: string, n = 1): void => {
  counts[kind] = (counts[kind] ?? 0) + n
}
const fail = (kind: string, what: string, got: unknown): void => {
  if (failures.length < 20) failures.push(`${kind}: ${what} -> ${JSON.stringify(got)?.slice(0, 400)}`)
}

/** One valid request per method (with the real ids); methods not listed here start from `{}`. */
function validBase(method: Method): unknown {
  const bases: Partial<Record<Method, unknown>> = {
    'datasets.get': { datasetId: ids.datasetId },
    'datasets.import': { path: '/nonexistent/data', kind: 'idx' },
    'datasets.importStatus': { jobId: 'job-1' },
    'datasets.cancelImport': { jobId: 'job-1' },
    'datasets.preview': { datasetId: ids.datasetId, perClass: 2 },
    'spaces.analyze': { def: quickMlpDef(), inputShape: [28, 28, 1], numClasses: 10, samples: 4 },
    'spaces.save': { name: 'Mine', description: 'fuzz', def: quickMlpDef() },
    'spaces.delete': { spaceId: ids.spaceId },
    'runs.get': { runId: ids.runId },
    'runs.start': runConfig,
    'runs.cancel': { runId: ids.runId },
    'runs.pareto': { runId: ids.runId },
    'runs.alphas': { runId: ids.runId },
    'runs.delete': { runId: ids.runId },
    'runs.annotate': { runId: ids.runId, notes: 'changed', tags: ['x'] },
    'trials.list': { runId: ids.runId },
    'trials.epochs': { trialId: ids.trialId },
    'trials.runEpochs': { runId: ids.runId },
    'trials.analyze': { trialId: ids.trialId },
    'exports.create': { runId: ids.runId, format: 'onnx' },
    'exports.list': { runId: ids.runId },
    'exports.trials': { runId: ids.runId },
    'exports.predict': { trialId: ids.trialId, imageBase64: 'iVBORw0KGgo=' },
  }
  return method in bases ? structuredClone(bases[method]) : {}
}
const quickMlpDef = () => ctx.db.spaces.require(presetSpaceId('quick-mlp')).def

/** Methods that change what is stored when given a valid request. */
const CHANGING: Method[] = [
  'runs.start',
  'runs.delete',
  'runs.annotate',
  'runs.cancel',
  'spaces.save',
  'spaces.delete',
  'exports.create',
  'datasets.import',
]

/** Methods whose only field is an id, and that answer not_found for an id that does not exist. */
const ID_LOOKUPS: Array<[Method, string]> = [
  ['runs.get', 'runId'],
  ['runs.cancel', 'runId'],
  ['runs.delete', 'runId'],
  ['trials.list', 'runId'],
  ['trials.epochs', 'trialId'],
  ['datasets.get', 'datasetId'],
  ['datasets.importStatus', 'jobId'],
  ['datasets.cancelImport', 'jobId'],
  ['datasets.preview', 'datasetId'],
  ['spaces.delete', 'spaceId'],
]

// ---------------------------------------------------------------------------------------------------------
// What is stored: every row of every table, and every file of the data folder but the database itself.

function dumpDatabase(): string {
  const tables = ctx.db.db
    .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
    .all() as Array<{ name: string }>
  const dump: Record<string, string[]> = {}
  for (const { name } of tables) {
    const rows = ctx.db.db.prepare(`SELECT * FROM "${name.replaceAll('"', '""')}"`).all()
    dump[name] = rows
      .map((r) => JSON.stringify(r, (_k, v: unknown) => (Buffer.isBuffer(v) ? v.toString('hex') : v)))
      .sort()
  }
  return JSON.stringify(dump)
}

function listFiles(dir: string): string[] {
  const out: string[] = []
  const walk = (d: string): void => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      const full = join(d, entry.name)
      if (entry.isDirectory()) walk(full)
      else if (!/\.(db|sqlite)(-wal|-shm|-journal)?$/.test(entry.name)) {
        const st = statSync(full)
        out.push(`${relative(dir, full)} ${st.size} ${st.mtimeMs}`)
      }
    }
  }
  walk(dir)
  return out.sort()
}

// ---------------------------------------------------------------------------------------------------------
// Checks of one answer.

const STACK = /\n\s+at |node:internal|\.ts:\d+/

/** A clear refusal: a failed Result with a known code, the expected one, and a readable message. */
function isClearRefusal(body: unknown, codes: readonly string[], messageHint?: RegExp): boolean {
  if (!body || typeof body !== 'object') return false
  const r = body as Result<unknown>
  if (r.ok !== false) return false
  const { code, message } = r.error
  return (
    (ERROR_CODES as readonly string[]).includes(code) &&
    codes.includes(code) &&
    typeof message === 'string' &&
    message.length >= 10 &&
    !STACK.test(message) &&
    (messageHint === undefined || messageHint.test(message))
  )
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    return undefined
  }
}

/** Expects an HTTP answer with `status` and a clear refusal envelope. */
function expectHttpRefusal(
  kind: string,
  what: string,
  res: RawResponse,
  status: number,
  codes: readonly string[],
  hint?: RegExp,
): void {
  count(kind)
  const body = parseJson(res.body)
  if (res.status !== status || !isClearRefusal(body, codes, hint))
    fail(kind, what, { status: res.status, body })
}

/** Runs `work` over `items` with at most `width` in flight. */
async function pool<T>(items: T[], width: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < items.length) {
        const item = items[next++]!
        try {
          await work(item)
        } catch (err) {
          // A dropped connection is not a clear refusal either: record it with the case that caused it.
          fail('transport error', JSON.stringify(item)?.slice(0, 200) ?? String(item), String(err))
        }
      }
    }),
  )
}

// ---------------------------------------------------------------------------------------------------------
// Generators.

const printable = fc.string({
  unit: fc.constantFrom(
    ...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.~!$&()*+,=:@ '.split(''),
  ),
  maxLength: 80,
})
/** A long string, built by repetition (fast-check would take seconds per huge string). */
const huge = fc
  .tuple(fc.string({ minLength: 1, maxLength: 8 }), fc.integer({ min: 20_000, max: 120_000 }))
  .map(([s, n]) => s.repeat(n).slice(0, 300_000))
const junk = fc.oneof(
  { weight: 6, arbitrary: fc.anything({ maxDepth: 3, maxKeys: 6 }) },
  { weight: 1, arbitrary: huge },
  { weight: 1, arbitrary: fc.constantFrom(null, true, -1, 1e308, -0, '', [], {}, '0', 'null', '__proto__') },
  {
    weight: 1,
    arbitrary: fc.integer({ min: 50, max: 2000 }).map((d) => {
      let v: unknown = 1
      for (let i = 0; i < d; i++) v = [v]
      return v
    }),
  },
)

/** A malformed request for `method`: the valid one with a field broken, added or dropped, or replaced whole. */
function malformed(method: Method): fc.Arbitrary<unknown> {
  const base = validBase(method) as Record<string, unknown>
  const keys = base && typeof base === 'object' ? Object.keys(base) : []
  const mutations: Array<fc.Arbitrary<unknown>> = [
    junk, // replaced whole: numbers, strings, arrays, null...
    fc.tuple(printable, junk).map(([k, v]) => ({ ...base, [k]: v })), // an unknown field
    // "__proto__" and "constructor" as own keys, the way JSON.parse makes them.
    fc.constant({
      ...base,
      ...(JSON.parse(
        '{"__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}}}',
      ) as object),
    }),
  ]
  if (keys.length > 0) {
    const key = fc.constantFrom(...keys)
    mutations.push(fc.tuple(key, junk).map(([k, v]) => ({ ...base, [k]: v }))) // a field of the wrong type
    mutations.push(fc.tuple(key, huge).map(([k, v]) => ({ ...base, [k]: v }))) // a huge field
    mutations.push(
      key.map((k) => {
        const copy = { ...base }
        delete copy[k]
        return copy
      }),
    ) // a field missing
  }
  return fc.oneof(...mutations)
}

/** What the server sees for a JSON body: the parsed value, `{}` for an empty body. */
const overTheWire = (request: unknown): { body: string; parsed: unknown } => {
  const body = JSON.stringify(request) ?? ''
  return { body, parsed: body.trim() === '' ? {} : JSON.parse(body) }
}

const methodArb = fc.constantFrom(...METHODS)
/** [method, request] pairs whose request fails the method's schema as the receiver sees it. */
const badPayloadArb = (wire: boolean) =>
  methodArb
    .chain((m) => malformed(m).map((req) => [m, req] as const))
    .filter(([m, req]) => {
      const seen = wire ? overTheWire(req).parsed : req
      return !api[m].request.safeParse(seen).success
    })

const unknownIdArb = fc
  .tuple(
    fc.constantFrom(...ID_LOOKUPS),
    fc.oneof(
      printable.filter((s) => s.length > 0),
      huge,
      fc.uuid(),
    ),
  )
  .filter(([, id]) => !Object.values(ids).includes(id))
  .map(
    ([[method, field], id]) =>
      [method, { ...(method === 'datasets.preview' ? { perClass: 1 } : {}), [field]: id }] as const,
  )

const unknownMethodArb = fc
  .oneof(
    fc.string({ maxLength: 40 }),
    fc.constantFrom(
      '__proto__',
      'constructor',
      'toString',
      'hasOwnProperty',
      'valueOf',
      'RUNS.LIST',
      'runs.list ',
      ' runs.get',
      'runs',
      'runs.',
      '.list',
      'app.info\0',
      'runs.list%00',
    ),
    methodArb.map((m) => m.toUpperCase()),
    methodArb.map((m) => `${m}x`),
  )
  .filter((m) => !(METHODS as string[]).includes(m))

/** A valid call (some of them would change stored data) for calls that must fail for other reasons. */
const validCallArb = fc.constantFrom(...CHANGING, 'runs.list' as Method, 'app.info' as Method)

// ---------------------------------------------------------------------------------------------------------

beforeAll(async () => {
  mkdirSync(join(rendererDir, 'assets'), { recursive: true })
  writeFileSync(join(rendererDir, 'index.html'), INDEX_HTML)
  writeFileSync(join(rendererDir, 'assets', 'app.js'), 'console.log(1)')
  writeFileSync(join(ui.dir, 'secret.txt'), SECRET)
  symlinkSync(join(ui.dir, 'secret.txt'), join(rendererDir, 'assets', 'link.txt'))

  ctx = await makeServices(engine)
  registerIpc(ipc, ctx.services.handlers, { isTrustedSender: createTrustedSenderCheck({ rendererDir }) })
  server = await startWebServer({
    handlers: ctx.services.handlers,
    events: ctx.services.events,
    port: 0,
    rendererDir,
    uploadsDir: join(ctx.dataDir, 'uploads'),
  })
  // Stored data worth protecting: a finished real run (trained on the bundled sample), a saved space, notes.
  const dataset = ctx.db.datasets.list().find((d) => d.source === 'bundled')!
  ids.datasetId = dataset.id
  runConfig = {
    name: 'fuzz target',
    datasetId: dataset.id,
    spaceId: presetSpaceId('quick-mlp'),
    strategy: 'random',
    maxTrials: 1,
    concurrency: 1,
    seed: 5,
    train: { epochs: 1, batchSize: 64, learningRate: 0.01, validationFraction: 0.1 },
  }
  const run = await ctx.services.handlers['runs.start'](runConfig)
  expect((await ctx.services.whenFinished(run.id)).status).toBe('completed')
  ids.runId = run.id
  ids.trialId = ctx.db.trials.listByRun(run.id)[0]!.id
  await ctx.services.handlers['runs.annotate']({ runId: run.id, notes: 'keep me', tags: ['fuzz'] })
  ids.spaceId = (
    await ctx.services.handlers['spaces.save']({
      name: 'Fuzz space',
      description: 'keep me',
      def: quickMlpDef(),
    })
  ).id
  mkdirSync(join(ctx.dataDir, 'uploads'), { recursive: true })
})

afterAll(async () => {
  await server?.close()
  await ctx?.dispose()
  ui.cleanup()
})

const auth = () => ({ Authorization: `Bearer ${server.token}`, 'Content-Type': 'application/json' })
const post = (method: string, body: string | Buffer, headers: Record<string, string> = auth()) =>
  httpRequest(server.port, { method: 'POST', path: `/api/${method}`, headers, body })

/** A valid call over each transport still works. */
async function expectStillServing(): Promise<void> {
  const http = parseJson((await post('runs.get', JSON.stringify({ runId: ids.runId }))).body) as Result<{
    id: string
  }>
  expect(http.ok && http.data.id).toBe(ids.runId)
  const viaIpc = (await ipc.invoke(IPC_INVOKE_CHANNEL, APP_URL, 'runs.get', { runId: ids.runId })) as Result<{
    id: string
  }>
  expect(viaIpc.ok && viaIpc.data.id).toBe(ids.runId)
}

/**
 * The least malformed calls each group makes (keyed by the start of its test name). Each group checks its
 * own share, so any one runs alone; together they are well over the 10,000 calls the fuzz promises.
 */
const MIN_CALLS: ReadonlyArray<[string, number]> = [
  ['HTTP: payloads', 2500],
  ['HTTP: ids', 300],
  ['HTTP: unknown methods', 600],
  ['HTTP: a missing or wrong token', 900],
  ['HTTP: a foreign Host', 1100],
  ['HTTP: bodies that are not JSON', 900],
  ['HTTP: other verbs', 200],
  ['HTTP: requests that are not valid HTTP', 300],
  ['HTTP: no path', 600],
  ['HTTP: uploads', 700],
  ['WebSocket: a wrong path', 400],
  ['WebSocket: garbage', 300],
  ['IPC:', 4600],
]
const totalCalls = (): number => Object.values(counts).reduce((a, b) => a + b, 0)

describe('fuzz: malformed calls are refused clearly and change nothing', () => {
  let dbBefore = ''
  let filesBefore: string[] = []
  let callsBefore = 0
  beforeAll(() => {
    dbBefore = dumpDatabase()
    filesBefore = listFiles(ctx.dataDir)
  })
  // Each test reports its own refusals that went wrong.
  beforeEach(() => {
    failures.length = 0
    callsBefore = totalCalls()
  })
  // After each group of malformed calls: valid calls over both transports are still answered, nothing stored
  // changed, and the group made its share of calls.
  afterEach(async (context) => {
    await expectStillServing()
    expect(dumpDatabase()).toBe(dbBefore)
    expect(listFiles(ctx.dataDir)).toEqual(filesBefore)
    const share = MIN_CALLS.find(([prefix]) => context.task.name.startsWith(prefix))
    if (share)
      expect(totalCalls() - callsBefore, `${share[0]}: malformed calls`).toBeGreaterThanOrEqual(share[1])
  })

  it('has a snapshot of everything stored, and plans at least 10,000 malformed calls', () => {
    expect(dbBefore).toContain('keep me')
    expect(dbBefore).toContain(ids.trialId)
    expect(MIN_CALLS.reduce((a, [, n]) => a + n, 0)).toBeGreaterThanOrEqual(10_000)
  })

  it('HTTP: payloads of the wrong shape get 200 + bad_request naming the method and field', async () => {
    const cases = fc.sample(badPayloadArb(true), { seed: SEED, numRuns: 2500 })
    await pool(cases, 8, async ([method, request]) => {
      const res = await post(method, overTheWire(request).body)
      expectHttpRefusal(
        'http bad payload',
        method,
        res,
        200,
        ['bad_request'],
        new RegExp(`^Invalid request for ${method.replace('.', '\\.')}: `),
      )
    })
    // The same with a __proto__ key written into the JSON text itself (JSON.parse makes it an own key).
    for (const method of METHODS) {
      const res = await post(
        method,
        `{"__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}}}`,
      )
      expectHttpRefusal('http bad payload', `${method} __proto__`, res, 200, ['bad_request'])
    }
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
    expect(failures).toEqual([])
  })

  it('HTTP: ids that do not exist (short, huge, odd) get not_found', async () => {
    const cases = fc.sample(unknownIdArb, { seed: SEED + 1, numRuns: 300 })
    await pool(cases, 8, async ([method, request]) => {
      const res = await post(method, JSON.stringify(request))
      expectHttpRefusal('http unknown id', method, res, 200, ['not_found'])
    })
    expect(failures).toEqual([])
  })

  it('HTTP: unknown methods get 404 not_found', async () => {
    const cases = fc.sample(unknownMethodArb, { seed: SEED + 2, numRuns: 600 })
    await pool(cases, 8, async (method) => {
      const encoded = encodeURIComponent(method)
      // "." and ".." are path segments, not method names: the URL parser removes them before we see them.
      if (new URL(`/api/${encoded}`, 'http://x').pathname !== `/api/${encoded}`) return
      const res = await post(encoded, '{}')
      expectHttpRefusal('http unknown method', method, res, 404, ['not_found'], /Unknown method/)
    })
    expect(failures).toEqual([])
  })

  it('HTTP: a missing or wrong token gets 401, even for valid calls that would change data', async () => {
    const tokenVariants: fc.Arbitrary<Record<string, string>> = fc.oneof<
      Array<fc.Arbitrary<Record<string, string>>>
    >(
      printable.map((t) => ({ Authorization: `Bearer ${t}` })),
      fc.integer({ min: 0, max: 42 }).map((i) => {
        const t = server.token
        const flipped = t.slice(0, i) + (t[i] === 'A' ? 'B' : 'A') + t.slice(i + 1)
        return { Authorization: `Bearer ${flipped}` }
      }),
      fc.integer({ min: 0, max: 42 }).map((n) => ({ Authorization: `Bearer ${server.token.slice(0, n)}` })),
      printable.map((s) => ({ Authorization: `Bearer ${server.token}${s}x` })),
      fc.constantFrom<Record<string, string>>(
        {},
        { Authorization: server.token },
        { Authorization: `Basic ${server.token}` },
        { Authorization: `bearer${server.token}` },
        { Authorization: 'Bearer ' },
        { 'X-Token': server.token },
      ),
      printable.map((t) => ({ Cookie: `nas_token=${encodeURIComponent(t)}` })),
      printable.map((t) => ({ Cookie: `other=${server.token}; nas_tokenx=${t}` })),
      // The right token anywhere but the Authorization header: a cookie reaches every port of 127.0.0.1.
      fc.constantFrom<Record<string, string>>(
        { Cookie: `nas_token=${server.token}` },
        { Cookie: `token=${server.token}` },
        { 'X-Token': server.token },
      ),
    )
    // The query parameter is never read by the server either, even when it holds the right token.
    const queryTokens = fc.option(fc.oneof(printable, fc.constant(server.token)))
    const cases = fc.sample(fc.tuple(validCallArb, tokenVariants, queryTokens), {
      seed: SEED + 3,
      numRuns: 900,
    })
    await pool(cases, 8, async ([method, headers, queryToken]) => {
      const query = queryToken === null ? '' : `?token=${encodeURIComponent(queryToken)}`
      const res = await httpRequest(server.port, {
        method: 'POST',
        path: `/api/${method}${query}`,
        headers: { 'Content-Type': 'application/json', ...headers },
        body: JSON.stringify(validBase(method)),
      })
      expectHttpRefusal(
        'http bad token',
        `${method} ${JSON.stringify(headers)} ${query}`,
        res,
        401,
        ['unauthorized'],
        /token/,
      )
    })
    expect(failures).toEqual([])
  })

  it('HTTP: a foreign Host or Origin (DNS rebinding) gets 403 even with the token', async () => {
    const port = server.port
    const allowed = [`127.0.0.1:${port}`, `localhost:${port}`]
    const badHost = fc
      .oneof(
        fc.domain().map((d) => `${d}:${port}`),
        fc.domain(),
        fc.constantFrom(
          '127.0.0.1',
          'localhost',
          `127.0.0.1:${port + 1}`,
          `0.0.0.0:${port}`,
          `[::1]:${port}`,
          `127.0.0.2:${port}`,
          `localhost.evil.example:${port}`,
          `127.0.0.1.nip.io:${port}`,
        ),
      )
      .filter((h) => !allowed.includes(h.toLowerCase()))
      .map((h) => ({ Host: h }))
    const badOrigin = fc
      .oneof(
        fc.webUrl().map((u) => new URL(u).origin),
        fc.constantFrom(
          'null',
          `https://127.0.0.1:${port}`,
          `http://127.0.0.1:${port + 1}`,
          `http://localhost:${port}.evil.example`,
          `file://`,
          `http://127.0.0.1:${port}/x`,
        ),
      )
      .filter((o) => !allowed.some((h) => o.toLowerCase() === `http://${h}`))
      .map((o) => ({ Origin: o }))
    const cases = fc.sample(fc.tuple(validCallArb, fc.oneof(badHost, badOrigin)), {
      seed: SEED + 4,
      numRuns: 900,
    })
    await pool(cases, 8, async ([method, headers]) => {
      const res = await post(method, JSON.stringify(validBase(method)), { ...auth(), ...headers })
      expectHttpRefusal(
        'http bad host/origin',
        `${method} ${JSON.stringify(headers)}`,
        res,
        403,
        ['unauthorized'],
        /not allowed/,
      )
    })
    // A second Host header (Node keeps only the first) or an absolute-form target naming another host.
    const ours = `127.0.0.1:${port}`
    const smuggled = fc.tuple(
      validCallArb,
      fc.oneof(
        fc.domain().map((d) => ({ target: null, hosts: [ours, d] })),
        fc.domain().map((d) => ({ target: null, hosts: [d, ours] })),
        fc.constant({ target: null, hosts: [ours, ours] }),
        fc.constant({ target: null, hosts: [ours, `localhost:${port}`] }),
        fc.domain().map((d) => ({ target: `http://${d}`, hosts: [ours] })),
        fc.constant({ target: `http://${ours}`, hosts: [ours] }),
      ),
    )
    await pool(fc.sample(smuggled, { seed: SEED + 17, numRuns: 200 }), 8, async ([method, v]) => {
      count('http smuggled host')
      const body = JSON.stringify(validBase(method))
      const head = [
        `POST ${v.target ?? ''}/api/${method} HTTP/1.1`,
        ...v.hosts.map((h) => `Host: ${h}`),
        `Authorization: Bearer ${server.token}`,
        'Content-Type: application/json',
        `Content-Length: ${Buffer.byteLength(body)}`,
        'Connection: close',
        '',
        body,
      ].join('\r\n')
      const answer = (await rawExchange(port, Buffer.from(head))).toString('utf8')
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1])
      if (status !== 403 || !answer.includes('"code":"unauthorized"'))
        fail('http smuggled host', `${method} ${JSON.stringify(v)}`, answer.slice(0, 120))
    })
    expect(failures).toEqual([])
  })

  it('HTTP: bodies that are not JSON get 400 bad_request', async () => {
    const notJson = fc
      .oneof(
        fc.string({ minLength: 1, maxLength: 200 }).map((s) => Buffer.from(s)),
        fc.uint8Array({ minLength: 1, maxLength: 300 }).map((a) => Buffer.from(a)),
        fc
          .constantFrom('{', '{"runId":', "{'a':1}", '[1,]', 'undefined', 'NaN', '{"a":1}{"b":2}', '\u0000')
          .map((s) => Buffer.from(s)),
        huge.map((s) => Buffer.from(`{"x":"${s}`)),
      )
      .filter((b) => {
        const text = b.toString('utf8')
        return text.trim().length > 0 && parseJson(text) === undefined
      })
    const cases = fc.sample(fc.tuple(methodArb, notJson), { seed: SEED + 5, numRuns: 900 })
    await pool(cases, 8, async ([method, body]) => {
      const res = await post(method, body)
      expectHttpRefusal(
        'http malformed JSON',
        `${method} ${body.subarray(0, 40).toString('hex')}`,
        res,
        400,
        ['bad_request'],
        /not valid JSON/,
      )
    })
    expect(failures).toEqual([])
  })

  it('HTTP: other verbs on the API get 405; oversized bodies get 413', async () => {
    const cases = fc.sample(
      fc.tuple(validCallArb, fc.constantFrom('GET', 'PUT', 'DELETE', 'PATCH', 'OPTIONS')),
      {
        seed: SEED + 6,
        numRuns: 200,
      },
    )
    await pool(cases, 8, async ([method, verb]) => {
      const res = await httpRequest(server.port, {
        method: verb,
        path: `/api/${method}`,
        headers: auth(),
        body: verb === 'GET' ? undefined : '{}',
      })
      expectHttpRefusal('http wrong verb', `${verb} ${method}`, res, 405, ['bad_request'], /Use POST/)
    })
    const oversized = ['runs.start', 'spaces.save', 'runs.annotate', 'exports.predict', 'app.info'].flatMap(
      (method, i) => [
        { method, chunked: false, pad: WEB_MAX_BODY_BYTES + i * 1000 },
        { method, chunked: true, pad: WEB_MAX_BODY_BYTES + i * 1000 },
        { method, chunked: false, pad: 4 * WEB_MAX_BODY_BYTES },
      ],
    )
    await pool(oversized, 4, async ({ method, chunked, pad }) => {
      const big = JSON.stringify({ ...(validBase(method as Method) as object), pad: 'x'.repeat(pad) })
      const headers: Record<string, string> = chunked ? { ...auth(), 'Transfer-Encoding': 'chunked' } : auth()
      const res = await post(method, big, headers)
      expectHttpRefusal(
        'http oversized',
        `${method} ${pad} chunked=${chunked}`,
        res,
        413,
        ['bad_request'],
        /larger than/,
      )
    })
    expect(failures).toEqual([])
  })

  it('HTTP: requests that are not valid HTTP get 400 / 431 with an envelope and a closed connection', async () => {
    const port = server.port
    const t = server.token
    const line = (request: string, headers: string[]) =>
      Buffer.from(
        [request, `Host: 127.0.0.1:${port}`, `Authorization: Bearer ${t}`, ...headers, '', ''].join('\r\n'),
      )
    const raw = fc.oneof(
      fc
        .uint8Array({ minLength: 1, maxLength: 200 })
        .map((a) => Buffer.concat([Buffer.from(a), Buffer.from('\r\n\r\n')])),
      fc
        .constantFrom('G@T', 'GET GET', 'P OST', '\u0000', 'GET\t')
        .map((m) => line(`${m} /api/runs.list HTTP/1.1`, [])),
      fc
        .constantFrom('HTTP/9.9', 'HTTP/1.1x', 'HTTPS/1.1', 'http/1.1')
        .map((v) => line(`POST /api/runs.list ${v}`, [])),
      fc
        .constantFrom('no colon here', 'X-Bad\u0000: 1', 'X Bad: 1', ': empty name', 'X-Null: a\u0000b')
        .map((h) => line('POST /api/runs.list HTTP/1.1', [h, 'Content-Length: 2'])),
      fc
        .constantFrom(
          ['Content-Length: -1'],
          ['Content-Length: abc'],
          ['Content-Length: 2', 'Content-Length: 3'],
          ['Content-Length: 2', 'Transfer-Encoding: chunked'],
          ['Transfer-Encoding: chunked, identity'],
        )
        .map((h) => line('POST /api/runs.list HTTP/1.1', [...h])),
      fc
        .integer({ min: 17_000, max: 40_000 })
        .map((n) => line('POST /api/runs.list HTTP/1.1', [`X-Big: ${'a'.repeat(n)}`])),
    )
    const cases = fc.sample(raw, { seed: SEED + 16, numRuns: 300 })
    await pool(cases, 8, async (data) => {
      count('http not HTTP')
      const answer = (await rawExchange(port, data)).toString('latin1')
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1])
      const body = parseJson(answer.slice(answer.indexOf('\r\n\r\n') + 4))
      if (![400, 431].includes(status) || !isClearRefusal(body, ['bad_request']))
        fail('http not HTTP', data.subarray(0, 60).toString('latin1'), answer.slice(0, 200))
    })
    expect(failures).toEqual([])
  })

  it('HTTP: no path reaches a file outside the UI folder', async () => {
    const pieces = [
      '..',
      '%2e%2e',
      '%2E%2E',
      '.%2e',
      '..%2f',
      '..%5c',
      '%2f',
      '%5c',
      '%00',
      '%252e%252e',
      '~',
      'etc',
      'passwd',
      'secret.txt',
      'assets',
      'link.txt',
      '.',
      '%c0%ae%c0%ae',
      '%ff',
    ]
    const pathArb = fc
      .array(fc.constantFrom(...pieces), { minLength: 1, maxLength: 8 })
      .map((parts) => `/${parts.join('/')}`)
    const cases = fc.sample(pathArb, { seed: SEED + 7, numRuns: 600 })
    await pool(cases, 8, async (path) => {
      count('http static path')
      const res = await httpRequest(server.port, {
        path,
        headers: { Authorization: `Bearer ${server.token}` },
      })
      // Refused (403 with a message), or the app's own page for a route inside it; never anything else.
      const ok =
        !res.body.includes(SECRET) &&
        !res.body.includes('root:') &&
        ((res.status === 403 && /not allowed/.test(res.body)) ||
          (res.status === 200 && (res.body === INDEX_HTML || res.body === 'console.log(1)')))
      if (!ok) fail('http static path', path, { status: res.status, body: res.body.slice(0, 100) })
    })
    const link = await httpRequest(server.port, {
      path: '/assets/link.txt',
      headers: { Authorization: `Bearer ${server.token}` },
    })
    expect(link.status).toBe(403)
    expect(failures).toEqual([])
  })

  it('HTTP: uploads to paths outside their folder, or without the token, are refused and write nothing', async () => {
    const badId = fc.oneof(
      fc.string({ maxLength: 7 }),
      fc.constantFrom('..', '%2e%2e', 'abc/def', 'a'.repeat(65), 'bad id!!', '........'),
    )
    const goodId = fc.stringMatching(/^[A-Za-z0-9_-]{8,20}$/)
    const okSegment = fc.stringMatching(/^[a-z0-9]{1,8}$/)
    const badSegment = fc.constantFrom(
      '..',
      '%2e%2e',
      '%2E%2E',
      '.',
      '',
      'a%2f..%2f..%2fb',
      'a%5cb',
      '..%5c..',
      'a%00b',
      '%01',
      '%0a',
      '%7f',
      'a%7Fb',
      '%C2%9F',
      '%2fetc%2fpasswd',
      'x'.repeat(256),
    )
    const badPath = fc
      .tuple(fc.array(okSegment, { maxLength: 3 }), badSegment, fc.array(okSegment, { maxLength: 3 }))
      .map(([a, bad, b]) => [...a, bad, ...b].join('/'))
    const tooDeep = fc
      .integer({ min: 33, max: 60 })
      .map((n) => Array.from({ length: n }, () => 'd').join('/'))
    const target = fc.oneof(
      fc.tuple(goodId, badPath).map(([id, p]) => `/upload/${id}/${p}`),
      fc.tuple(goodId, tooDeep).map(([id, p]) => `/upload/${id}/${p}`),
      fc.tuple(badId, okSegment).map(([id, p]) => `/upload/${encodeURIComponent(id)}/${p}`),
      goodId.map((id) => `/upload/${id}`),
    )
    // A "." or ".." segment (also as %2e) is removed by the URL parser before the server looks at the path,
    // which can leave an ordinary path inside the upload's folder: such cases are not malformed.
    const cases = fc
      .sample(target, { seed: SEED + 8, numRuns: 700 })
      .filter((path) => new URL(path, 'http://x').pathname === path)
    await pool(cases, 8, async (path) => {
      const res = await httpRequest(server.port, { method: 'PUT', path, headers: auth(), body: 'payload' })
      expectHttpRefusal('http upload bad path', path, res, 400, ['bad_request'])
    })
    const noToken = fc.sample(fc.tuple(goodId, okSegment), { seed: SEED + 9, numRuns: 100 })
    await pool(noToken, 8, async ([id, name]) => {
      const res = await httpRequest(server.port, {
        method: 'PUT',
        path: `/upload/${id}/${name}`,
        body: 'payload',
      })
      expectHttpRefusal('http upload no token', id, res, 401, ['unauthorized'])
    })
    expect(failures).toEqual([])
  })

  it('WebSocket: a wrong path, Host or Origin is refused with 404 / 403; a wrong token closes the socket 1008', async () => {
    const port = server.port
    const variant = fc.record({
      path: fc.oneof(
        { weight: 3, arbitrary: fc.constant('/events') },
        {
          weight: 1,
          arbitrary: fc.constantFrom('/event', '/events/', '/api/runs.list', '/', '/Events', '/events%00'),
        },
      ),
      host: fc.oneof(
        { weight: 3, arbitrary: fc.constant(`127.0.0.1:${port}`) },
        { weight: 1, arbitrary: fc.domain() },
        { weight: 1, arbitrary: fc.domain().map((d) => `127.0.0.1:${port}\r\nHost: ${d}`) },
      ),
      origin: fc.oneof(
        { weight: 3, arbitrary: fc.constant(null) },
        { weight: 1, arbitrary: fc.webUrl().map((u) => new URL(u).origin) },
      ),
      // The right token in the URL or a cookie authorises nothing; only the first message can.
      where: fc.constantFrom('query', 'cookie', 'none'),
      // What the first message carries: a wrong token, something that is not a token message, or nothing.
      message: fc.oneof(
        printable.map((t) => JSON.stringify({ token: t })),
        fc.constant(JSON.stringify({ token: `${server.token}x` })),
        fc.constant(JSON.stringify({ token: server.token.slice(0, -1) })),
        fc.constant(JSON.stringify({ tokens: server.token })),
        fc.constant(server.token),
        fc.constant(JSON.stringify({ token: [server.token] })),
        printable,
      ),
    })
    const cases = fc.sample(variant, { seed: SEED + 10, numRuns: 400 })
    await pool(cases, 8, async (v) => {
      const expected =
        v.path !== '/events' ? 404 : v.host !== `127.0.0.1:${port}` || v.origin !== null ? 403 : 101
      const head = [
        `GET ${v.path}${v.where === 'query' ? `?token=${server.token}` : ''} HTTP/1.1`,
        `Host: ${v.host}`,
        ...(v.origin === null ? [] : [`Origin: ${v.origin}`]),
        ...(v.where === 'cookie' ? [`Cookie: nas_token=${server.token}`] : []),
        'Upgrade: websocket',
        'Connection: Upgrade',
        `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}`,
        'Sec-WebSocket-Version: 13',
        '',
        '',
      ].join('\r\n')
      if (expected !== 101) {
        const answer = await rawExchange(port, Buffer.from(head))
        count('ws refused upgrade')
        const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(answer.toString('latin1'))?.[1])
        if (status !== expected)
          fail('ws refused upgrade', JSON.stringify(v), answer.toString('latin1').slice(0, 80))
        return
      }
      count('ws wrong token')
      const firstMessage = maskedFrame(0x81, Buffer.from(v.message), randomBytes(4))
      const code = await sendGarbage(port, Buffer.from(head), firstMessage)
      // Text that is not UTF-8 fails the frame check first (1007); anything else is a wrong token (1008).
      if (code !== 1008 && code !== 1007) fail('ws wrong token', JSON.stringify(v), code)
    })
    expect(failures).toEqual([])
  })

  it('WebSocket: garbage frames, oversized frames and unwanted messages close the socket with a reason code', async () => {
    const mask = fc.uint8Array({ minLength: 4, maxLength: 4 })
    const frame = maskedFrame
    const bytes = (max: number) => fc.uint8Array({ maxLength: max }).map((a) => Buffer.from(a))
    type Garbage = { kind: string; data: Buffer; codes: number[] }
    const garbage: fc.Arbitrary<Garbage> = fc.oneof(
      // Reserved bits set (no extension was negotiated) or a reserved opcode: a protocol error.
      fc
        .tuple(fc.integer({ min: 1, max: 7 }), fc.constantFrom(1, 2), bytes(100), mask)
        .map(([rsv, op, p, k]) => ({
          kind: 'rsv',
          data: frame(0x80 | (rsv << 4) | op, p, k),
          codes: [1002],
        })),
      fc
        .tuple(fc.constantFrom(3, 4, 5, 6, 7, 11, 12, 13, 14, 15), bytes(100), mask)
        .map(([op, p, k]) => ({ kind: 'opcode', data: frame(0x80 | op, p, k), codes: [1002] })),
      // An unmasked client frame, and a continuation with nothing to continue.
      fc
        .tuple(bytes(100), mask)
        .map(([p, k]) => ({ kind: 'unmasked', data: frame(0x81, p, k, false), codes: [1002] })),
      fc
        .tuple(bytes(100), mask)
        .map(([p, k]) => ({ kind: 'continuation', data: frame(0x80, p, k), codes: [1002] })),
      // A frame over the 4 KiB limit.
      fc
        .tuple(fc.integer({ min: 4097, max: 60_000 }), mask)
        .map(([n, k]) => ({ kind: 'oversized', data: frame(0x82, Buffer.alloc(n, 7), k), codes: [1009] })),
      // Well-formed messages: the event socket accepts none (text that is not UTF-8 fails first).
      fc
        .tuple(bytes(2000), mask)
        .map(([p, k]) => ({ kind: 'text', data: frame(0x81, p, k), codes: [1007, 1008] })),
      fc
        .tuple(bytes(2000), mask)
        .map(([p, k]) => ({ kind: 'binary', data: frame(0x82, p, k), codes: [1008] })),
    )
    const cases = fc.sample(garbage, { seed: SEED + 11, numRuns: 300 })
    await pool(cases, 8, async (g) => {
      count('ws garbage frame')
      const head = [
        `GET /events HTTP/1.1`,
        `Host: 127.0.0.1:${server.port}`,
        `Authorization: Bearer ${server.token}`,
        'Upgrade: websocket',
        'Connection: Upgrade',
        `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}`,
        'Sec-WebSocket-Version: 13',
        '',
        '',
      ].join('\r\n')
      const code = await sendGarbage(server.port, Buffer.from(head), g.data)
      if (!g.codes.includes(code))
        fail('ws garbage frame', `${g.kind} ${g.data.subarray(0, 16).toString('hex')}`, code)
    })
    expect(failures).toEqual([])
  })

  it('IPC: other senders are refused even for valid calls; our page gets bad_request / not_found', async () => {
    const call = (url: string | null, method: unknown, request: unknown) =>
      ipc.invoke(IPC_INVOKE_CHANNEL, url, method, request) as Promise<Result<unknown>>
    const badSender = fc.oneof(
      fc.webUrl({ withQueryParameters: true, withFragments: true }),
      fc.constantFrom(
        null,
        '',
        'about:blank',
        'file:///etc/passwd',
        pathToFileURL(join(rendererDir, 'other.html')).href,
        pathToFileURL(join(rendererDir, 'assets', 'app.js')).href,
        `${APP_URL.replace('index.html', 'index.htm')}`,
        'http://localhost:5173/',
        'devtools://devtools/bundled/inspector.html',
        'data:text/html,<script>1</script>',
        'chrome-extension://abc/index.html',
      ),
    )
    const senders = fc.sample(fc.tuple(badSender, validCallArb), { seed: SEED + 12, numRuns: 1200 })
    for (const [url, method] of senders) {
      count('ipc bad sender')
      const res = await call(url, method, validBase(method))
      if (!isClearRefusal(res, ['unauthorized'], /not allowed/))
        fail('ipc bad sender', `${url} ${method}`, res)
    }
    const payloads = fc.sample(badPayloadArb(false), { seed: SEED + 13, numRuns: 2500 })
    for (const [method, request] of payloads) {
      count('ipc bad payload')
      const res = await call(APP_URL, method, request)
      if (
        !isClearRefusal(
          res,
          ['bad_request'],
          new RegExp(`^Invalid request for ${method.replace('.', '\\.')}: `),
        )
      )
        fail('ipc bad payload', method, res)
    }
    const methods = fc.sample(
      fc
        .oneof(fc.anything({ maxDepth: 2 }), unknownMethodArb)
        .filter((m) => !(METHODS as unknown[]).includes(m)),
      {
        seed: SEED + 14,
        numRuns: 600,
      },
    )
    for (const method of methods) {
      count('ipc unknown method')
      const res = await call(APP_URL, method, {})
      if (!isClearRefusal(res, ['not_found'], /Unknown method/))
        fail('ipc unknown method', String(method), res)
    }
    for (const [method, request] of fc.sample(unknownIdArb, { seed: SEED + 15, numRuns: 300 })) {
      count('ipc unknown id')
      const res = await call(APP_URL, method, request)
      if (!isClearRefusal(res, ['not_found'])) fail('ipc unknown id', method, res)
    }
    expect(failures).toEqual([])
  })

  it('still admits an event-socket client that sends the token first', async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${server.port}/events`)
    await new Promise((resolve, reject) => {
      ws.once('open', resolve)
      ws.once('error', reject)
    })
    const ready = new Promise<string>((resolve) => ws.once('message', (d) => resolve(String(d))))
    ws.send(JSON.stringify({ token: server.token }))
    expect(await ready).toBe(WEB_EVENTS_READY)
    ws.close()
  })
})

// ---------------------------------------------------------------------------------------------------------
// Raw sockets: refused upgrades and hand-made WebSocket frames (the ws client cannot send broken frames).

/** A WebSocket frame with first byte `first` (FIN + opcode), masked with `key` unless `masked` is false. */
function maskedFrame(first: number, payload: Buffer, key: Uint8Array, masked = true): Buffer {
  const len = payload.length
  const header =
    len < 126
      ? Buffer.from([first, (masked ? 0x80 : 0) | len])
      : Buffer.from([first, (masked ? 0x80 : 0) | 126, len >> 8, len & 0xff])
  const body = Buffer.from(payload.map((b, i) => b ^ key[i % 4]!))
  return Buffer.concat([header, masked ? Buffer.from(key) : Buffer.alloc(0), masked ? body : payload])
}

/** Writes `data`, then collects what the server sends until it closes the connection (or 5 s pass). */
function rawExchange(port: number, data: Buffer): Promise<Buffer> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = []
    const socket = connect({ host: '127.0.0.1', port }, () => socket.write(data))
    const done = (): void => {
      clearTimeout(timer)
      socket.destroy()
      resolve(Buffer.concat(chunks))
    }
    const timer = setTimeout(done, 5000)
    socket.on('data', (c: Buffer) => chunks.push(c))
    socket.on('close', done)
    socket.on('error', done)
  })
}

/**
 * Opens a real WebSocket by hand, sends `garbage`, and answers the close code of the server's close frame
 * (0 when none came within 5 s).
 */
function sendGarbage(port: number, handshake: Buffer, garbage: Buffer): Promise<number> {
  return new Promise((resolve) => {
    let buffered = Buffer.alloc(0)
    let upgraded = false
    let settled = false
    const socket: Socket = connect({ host: '127.0.0.1', port }, () => socket.write(handshake))
    const finish = (code: number): void => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      socket.destroy()
      resolve(code)
    }
    const timer = setTimeout(() => finish(0), 5000)
    socket.on('data', (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk])
      if (!upgraded) {
        const end = buffered.indexOf('\r\n\r\n')
        if (end < 0) return
        if (!buffered.subarray(0, 12).toString('latin1').includes('101')) return finish(-1)
        upgraded = true
        buffered = buffered.subarray(end + 4)
        socket.write(garbage)
      }
      // Server frames are unmasked; skip any event frames until the close frame (opcode 8).
      while (buffered.length >= 2) {
        const op = buffered[0]! & 0x0f
        let len = buffered[1]! & 0x7f
        let offset = 2
        if (len === 126) {
          if (buffered.length < 4) return
          len = buffered.readUInt16BE(2)
          offset = 4
        } else if (len === 127) {
          return finish(-2)
        }
        if (buffered.length < offset + len) return
        if (op === 8) return finish(len >= 2 ? buffered.readUInt16BE(offset) : 1005)
        buffered = buffered.subarray(offset + len)
      }
    })
    socket.on('close', () => finish(0))
    socket.on('error', () => finish(0))
  })
}
