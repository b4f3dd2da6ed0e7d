import { createReadStream, existsSync, statSync } from 'node:fs'
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

/**
 * Resolves a URL path to a file inside `rootDir`, or null when it names no file there. Decoded segments
 * that climb out of the root ("..", encoded slashes, absolute paths, NUL) are refused.
 */
export function resolveStaticFile(rootDir: string, urlPath: string): string | null {
  let decoded: string
  try {
    decoded = decodeURIComponent(urlPath)
  } catch {
    return null
  }
  if (decoded.includes('\0')) return null
  const root = resolve(rootDir)
  const candidate = resolve(join(root, decoded))
  const rel = relative(root, candidate)
  if (rel.startsWith('..') || isAbsolute(rel) || rel.split(sep).includes('..')) return null
  try {
    return statSync(candidate).isFile() ? candidate : null
  } catch {
    return null
  }
}

/**
 * Serves the built renderer: the named file if it exists, else index.html (client-side routes). Answers
 * 503 with a hint when the UI has not been built.
 */
export function serveStatic(rootDir: string, urlPath: string, res: ServerResponse, headOnly: boolean): void {
  const file = resolveStaticFile(rootDir, urlPath) ?? resolveStaticFile(rootDir, '/index.html')
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
