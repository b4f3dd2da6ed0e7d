import { createReadStream, existsSync, realpathSync, statSync } from 'node:fs'
import type { ServerResponse } from 'node:http'
import { extname, join, relative, resolve, isAbsolute, sep } from 'node:path'

/** Content types of the files a Vite build emits. */
export const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.ttf': 'font/ttf',
  '.wasm': 'application/wasm',
  '.txt': 'text/plain; charset=utf-8',
}

/** What a URL path names under the static root: a file to serve, nothing, or a path that is refused. */
export type StaticLookup = { kind: 'file'; file: string } | { kind: 'missing' } | { kind: 'forbidden' }

/** True when `target` is `root` itself or inside it. */
function isInside(root: string, target: string): boolean {
  const rel = relative(root, target)
  return rel === '' || (!isAbsolute(rel) && !rel.split(sep).includes('..'))
}

/**
 * Looks a URL path up inside `rootDir`. Paths that are not valid URL encoding, contain NUL or a backslash,
 * climb out of the root once decoded ("..", encoded slashes, absolute paths), or lead out of it through a
 * symbolic link are 'forbidden'; a path naming no file inside is 'missing'.
 */
export function lookupStaticFile(rootDir: string, urlPath: string): StaticLookup {
  let decoded: string
  try {
    decoded = decodeURIComponent(urlPath)
  } catch {
    return { kind: 'forbidden' }
  }
  if (decoded.includes('\0') || decoded.includes('\\')) return { kind: 'forbidden' }
  const root = resolve(rootDir)
  const candidate = resolve(join(root, decoded))
  if (!isInside(root, candidate)) return { kind: 'forbidden' }
  let real: string
  try {
    real = realpathSync(candidate)
  } catch {
    return { kind: 'missing' }
  }
  // A symbolic link inside the build that points elsewhere must not expose what it points at.
  let realRoot: string
  try {
    realRoot = realpathSync(root)
  } catch {
    return { kind: 'missing' }
  }
  if (!isInside(realRoot, real)) return { kind: 'forbidden' }
  try {
    return statSync(real).isFile() ? { kind: 'file', file: real } : { kind: 'missing' }
  } catch {
    return { kind: 'missing' }
  }
}

/** Resolves a URL path to a file inside `rootDir`, or null when it names no file there or is refused. */
export function resolveStaticFile(rootDir: string, urlPath: string): string | null {
  const found = lookupStaticFile(rootDir, urlPath)
  return found.kind === 'file' ? found.file : null
}

/**
 * Serves the built renderer: the named file if it exists, else index.html (client-side routes). Answers
 * 403 for a refused path (see lookupStaticFile) and 503 with a hint when the UI has not been built.
 */
export function serveStatic(rootDir: string, urlPath: string, res: ServerResponse, headOnly: boolean): void {
  const found = lookupStaticFile(rootDir, urlPath)
  if (found.kind === 'forbidden') {
    res.writeHead(403, { 'Content-Type': 'text/plain; charset=utf-8' })
    res.end('This path is not allowed: NAS Studio serves only its own app files.\n')
    return
  }
  const file = found.kind === 'file' ? found.file : resolveStaticFile(rootDir, '/index.html')
  if (!file || !existsSync(file)) {
    res.writeHead(503, { 'Content-Type': 'text/plain; charset=utf-8' })
    res.end('The NAS Studio UI is not built. Run "npm run build:app", then restart "nas-studio serve".\n')
    return
  }
  const type = CONTENT_TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream'
  const isIndex = extname(file) === '.html'
  res.writeHead(200, {
    'Content-Type': type,
    'Content-Length': statSync(file).size,
    // Hashed assets may be cached; index.html must not be, so a rebuilt UI is picked up.
    'Cache-Control': isIndex ? 'no-store' : 'private, max-age=3600',
  })
  if (headOnly) {
    res.end()
    return
  }
  createReadStream(file)
    .on('error', () => res.destroy())
    .pipe(res)
}
