import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { createServer, Socket } from 'node:net'
import { join } from 'node:path'
import { gunzipSync, gzipSync } from 'node:zlib'

/** Debian's redis-server (CI installs the package; tests that need it skip when it is absent). */
export const REDIS_SERVER = '/usr/bin/redis-server'
export const hasRedis = existsSync(REDIS_SERVER)

/** A free TCP port on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number }
      server.close(() => resolve(port))
    })
  })
}

/** A redis-server of our own on 127.0.0.1 (no persistence, data in `dir`), password-protected. */
export interface RedisServer {
  url: string
  port: number
  process: ChildProcess
  stop(): Promise<void>
}

/**
 * Starts redis-server on a free port (or `opts.port`) with `password`; resolves once it accepts connections.
 * `opts.persist` keeps its data in an append-only file in `dir` (fsync always), so a restart finds it again.
 */
export async function startRedis(
  dir: string,
  password: string,
  opts: { port?: number; persist?: boolean } = {},
): Promise<RedisServer> {
  mkdirSync(dir, { recursive: true })
  const p = opts.port ?? (await freePort())
  const persist = opts.persist ? ['--appendonly', 'yes', '--appendfsync', 'always'] : ['--appendonly', 'no']
  const child = spawn(
    REDIS_SERVER,
    [
      '--port',
      String(p),
      '--bind',
      '127.0.0.1',
      '--dir',
      dir,
      '--save',
      '',
      ...persist,
      '--requirepass',
      password,
      '--daemonize',
      'no',
      '--loglevel',
      'warning',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  )
  let log = ''
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`redis-server did not start: ${log}`)), 15_000)
    const check = async (): Promise<void> => {
      for (;;) {
        if (child.exitCode !== null) {
          clearTimeout(timer)
          return reject(new Error(`redis-server exited: ${log}`))
        }
        const ok = await new Promise<boolean>((res) => {
          const s = new Socket()
          s.once('error', () => res(false))
          s.connect(p, '127.0.0.1', () => {
            s.end()
            res(true)
          })
        })
        if (ok) {
          clearTimeout(timer)
          return resolve()
        }
        await new Promise((r) => setTimeout(r, 100))
      }
    }
    child.stdout?.on('data', (d: Buffer) => (log += d.toString()))
    child.stderr?.on('data', (d: Buffer) => (log += d.toString()))
    void check()
  })
  return {
    url: `redis://:${password}@127.0.0.1:${p}`,
    port: p,
    process: child,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve()
        child.once('exit', () => resolve())
        child.kill('SIGKILL')
      }),
  }
}

/**
 * Writes a small Fashion-MNIST subset (perClassTrain / perClassTest images of each class, from the bundled
 * sample) as gzipped IDX files to <root>/sample/fashion-mnist, the layout describeBundledDataset reads.
 */
export function writeSampleSubset(
  resourcesDir: string,
  root: string,
  perClassTrain: number,
  perClassTest: number,
): void {
  const src = join(resourcesDir, 'sample', 'fashion-mnist')
  const dst = join(root, 'sample', 'fashion-mnist')
  mkdirSync(dst, { recursive: true })
  for (const [part, perClass] of [
    ['train', perClassTrain],
    ['t10k', perClassTest],
  ] as const) {
    const images = gunzipSync(readFileSync(join(src, `${part}-images-idx3-ubyte.gz`)))
    const labels = gunzipSync(readFileSync(join(src, `${part}-labels-idx1-ubyte.gz`)))
    const count = labels.readUInt32BE(4)
    const rows = images.readUInt32BE(8)
    const cols = images.readUInt32BE(12)
    const size = rows * cols
    const taken = new Map<number, number>()
    const keep: number[] = []
    for (let i = 0; i < count; i++) {
      const label = labels[8 + i]!
      const n = taken.get(label) ?? 0
      if (n < perClass) {
        taken.set(label, n + 1)
        keep.push(i)
      }
    }
    const outImages = Buffer.alloc(16 + keep.length * size)
    images.copy(outImages, 0, 0, 16)
    outImages.writeUInt32BE(keep.length, 4)
    const outLabels = Buffer.alloc(8 + keep.length)
    labels.copy(outLabels, 0, 0, 8)
    outLabels.writeUInt32BE(keep.length, 4)
    keep.forEach((i, k) => {
      images.copy(outImages, 16 + k * size, 16 + i * size, 16 + (i + 1) * size)
      outLabels[8 + k] = labels[8 + i]!
    })
    writeFileSync(join(dst, `${part}-images-idx3-ubyte.gz`), gzipSync(outImages))
    writeFileSync(join(dst, `${part}-labels-idx1-ubyte.gz`), gzipSync(outLabels))
  }
}
