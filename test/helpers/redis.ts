import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync, mkdirSync } from 'node:fs'
import { createServer, Socket } from 'node:net'
import { join } from 'node:path'
import { writeIdxSubset } from './idx-subset'

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
  const perClass = { train: perClassTrain, t10k: perClassTest }
  const sample = join(resourcesDir, 'sample', 'fashion-mnist')
  writeIdxSubset(sample, join(root, 'sample', 'fashion-mnist'), (part, labels, count) => {
    const taken = new Map<number, number>()
    const keep: number[] = []
    for (let i = 0; i < count; i++) {
      const label = labels[8 + i]!
      const n = taken.get(label) ?? 0
      if (n < perClass[part]) {
        taken.set(label, n + 1)
        keep.push(i)
      }
    }
    return keep
  })
}
