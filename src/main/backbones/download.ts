import { createHash } from 'node:crypto'
import { createReadStream, createWriteStream } from 'node:fs'
import { rename, rm, stat } from 'node:fs/promises'
import { get as httpGet, type IncomingMessage } from 'node:http'
import { get as httpsGet } from 'node:https'

/** A download that cannot succeed as it is: the bytes are wrong, or the server refuses. Nothing is kept. */
export class DownloadRefused extends Error {}

/** A download cut off (network, server gone); what arrived is kept in the .part file for the next try. */
export class DownloadInterrupted extends Error {}

/** One file to fetch and the bytes it must have. */
export interface VerifiedDownload {
  url: string
  /** Where the verified file goes; `<dest>.part` holds it while it arrives. */
  dest: string
  sha256: string
  bytes: number
  /** Called with the bytes of the file present so far (after a restart it goes down to 0). */
  onBytes?: (have: number) => void
  signal?: AbortSignal
  /** Tries per call, each resuming where the last stopped (default 3). */
  attempts?: number
  /** The file's name as the person sees it, for messages (default: the URL's last segment). */
  label?: string
}

/**
 * Fetches `url` into `dest`, streaming to `dest.part` and moving it into place only once its size and SHA-256
 * match. A .part left by an earlier try is continued with an HTTP Range request; a server that answers the
 * Range with the whole file (200) is read again from the start. A connection cut mid-file is retried
 * (`attempts` in all). Wrong bytes (too many, or a checksum mismatch) delete the .part and throw
 * DownloadRefused; running out of tries throws DownloadInterrupted and keeps the .part for the next call.
 */
export async function downloadVerified(opts: VerifiedDownload): Promise<void> {
  const part = `${opts.dest}.part`
  const label = opts.label ?? (new URL(opts.url).pathname.split('/').pop() || opts.url)
  const attempts = Math.max(1, opts.attempts ?? 3)
  let lastError = ''
  for (let attempt = 1; attempt <= attempts; attempt++) {
    let have = await sizeOf(part)
    if (have > opts.bytes) {
      await rm(part, { force: true })
      have = 0
    }
    opts.onBytes?.(have)
    if (have < opts.bytes) {
      try {
        await fetchInto(opts, part, have, label)
      } catch (err) {
        if (opts.signal?.aborted) throw err
        if (!(err instanceof DownloadInterrupted)) {
          if (err instanceof DownloadRefused) await rm(part, { force: true })
          throw err
        }
        lastError = err.message
        continue
      }
    }
    const size = await sizeOf(part)
    if (size !== opts.bytes) {
      lastError = `${label} stopped after ${size} of ${opts.bytes} bytes`
      continue
    }
    if ((await sha256Of(part)) !== opts.sha256) {
      await rm(part, { force: true })
      throw new DownloadRefused(
        `${label} did not match its pinned checksum, so it was thrown away: the server sent other bytes than the ones NAS Studio trusts.`,
      )
    }
    await rename(part, opts.dest)
    return
  }
  throw new DownloadInterrupted(lastError || `${label} could not be downloaded`)
}

/** One HTTP request appending to (206) or rewriting (200) `part`. */
async function fetchInto(opts: VerifiedDownload, part: string, have: number, label: string): Promise<void> {
  let res: IncomingMessage
  try {
    res = await request(opts.url, have > 0 ? { Range: `bytes=${have}-` } : {}, opts.signal)
  } catch (err) {
    if (opts.signal?.aborted) throw err
    throw new DownloadInterrupted(`the server of ${label} could not be reached (${causeOf(err)})`)
  }
  const status = res.statusCode ?? 0
  let start: number
  if (status === 206 && have > 0 && rangeStart(res.headers['content-range']) === have) start = have
  else if (status === 200) start = 0
  else {
    res.resume()
    if (status === 416) {
      // the .part is not a prefix the server recognises: start over on the next try
      await rm(part, { force: true })
      throw new DownloadInterrupted(`the server refused to continue ${label}`)
    }
    if (status >= 500 || status === 206) {
      throw new DownloadInterrupted(`the server answered ${label} with HTTP ${status}`)
    }
    throw new DownloadRefused(`The server answered the request for ${label} with HTTP ${status}.`)
  }
  let now = start
  opts.onBytes?.(now)
  // Chunks are written as they arrive ('data' events) and the file is ended, not destroyed, on failure, so
  // every byte received before a connection broke is on disk for the next try to continue from.
  const out = createWriteStream(part, { flags: start === 0 ? 'w' : 'a' })
  const failure = await new Promise<unknown>((resolve) => {
    let settled = false
    const settle = (err: unknown): void => {
      if (settled) return
      settled = true
      res.removeAllListeners('data')
      resolve(err)
    }
    res.on('data', (chunk: Buffer) => {
      now += chunk.length
      if (now > opts.bytes) {
        res.destroy()
        settle(
          new DownloadRefused(
            `${label} is larger than expected (over ${opts.bytes} bytes), so it was thrown away.`,
          ),
        )
        return
      }
      if (!out.write(chunk)) {
        res.pause()
        out.once('drain', () => res.resume())
      }
      opts.onBytes?.(now)
    })
    res.on('end', () => settle(res.complete ? null : new Error('the connection closed early')))
    res.on('error', (err) => settle(err))
    res.on('aborted', () => settle(new Error('the connection was cut')))
    res.on('close', () => settle(res.complete ? null : new Error('the connection was cut')))
    out.on('error', (err) => settle(err))
  })
  await new Promise<void>((resolve) => out.end(() => resolve()))
  if (failure === null) return
  if (failure instanceof DownloadRefused || opts.signal?.aborted) throw failure
  const code = (failure as NodeJS.ErrnoException).code
  if (code === 'ENOSPC') throw new DownloadRefused(`The disk is full: ${label} could not be saved.`)
  throw new DownloadInterrupted(`the connection broke while downloading ${label} (${causeOf(failure)})`)
}

/** A GET of `url` (http or https), following up to 5 redirects; resolves once the answer's headers are in. */
function request(
  url: string,
  headers: Record<string, string>,
  signal: AbortSignal | undefined,
  redirects = 5,
): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const target = new URL(url)
    const get = target.protocol === 'https:' ? httpsGet : httpGet
    const req = get(target, { headers, ...(signal ? { signal } : {}) }, (res) => {
      const location = res.headers.location
      if (location && [301, 302, 303, 307, 308].includes(res.statusCode ?? 0) && redirects > 0) {
        res.resume()
        request(new URL(location, target).href, headers, signal, redirects - 1).then(resolve, reject)
        return
      }
      resolve(res)
    })
    req.on('error', reject)
  })
}

function rangeStart(header: string | undefined): number | null {
  const m = /^bytes (\d+)-\d+\/(\d+|\*)$/.exec(header ?? '')
  return m ? Number(m[1]) : null
}

async function sizeOf(file: string): Promise<number> {
  try {
    return (await stat(file)).size
  } catch {
    return 0
  }
}

/** SHA-256 of a file, lower-case hex. */
export async function sha256Of(file: string): Promise<string> {
  const hash = createHash('sha256')
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer)
  return hash.digest('hex')
}

function causeOf(err: unknown): string {
  const cause = (err as { cause?: { code?: string; message?: string } }).cause
  return cause?.code ?? cause?.message ?? (err as Error).message ?? String(err)
}
