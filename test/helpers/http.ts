import { request } from 'node:http'

/** A raw HTTP answer. */
export interface RawResponse {
  status: number
  headers: Record<string, string | string[] | undefined>
  body: string
}

/**
 * Sends one HTTP request to 127.0.0.1:`port` with full control of the headers (fetch cannot set Host).
 * Resolves even when the server closes the connection after answering.
 */
export function httpRequest(
  port: number,
  opts: { method?: string; path: string; headers?: Record<string, string>; body?: string | Buffer },
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        method: opts.method ?? 'GET',
        path: opts.path,
        headers: {
          Host: `127.0.0.1:${port}`,
          // A body needs framing: Node sends GET, DELETE and OPTIONS bodies unframed unless told the length.
          ...(opts.body !== undefined &&
          !Object.keys(opts.headers ?? {}).some((h) => /^(content-length|transfer-encoding)$/i.test(h))
            ? { 'Content-Length': String(Buffer.byteLength(opts.body)) }
            : {}),
          ...opts.headers,
        },
      },
      (res) => {
        const chunks: Buffer[] = []
        res.on('data', (c: Buffer) => chunks.push(c))
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString('utf8'),
          }),
        )
        res.on('error', reject)
      },
    )
    req.on('error', reject)
    if (opts.body !== undefined) req.write(opts.body)
    req.end()
  })
}

/** POSTs a JSON request to /api/<method> with the Bearer token and parses the Result envelope. */
export async function postApi(
  port: number,
  token: string,
  method: string,
  body: unknown,
): Promise<{ status: number; json: unknown }> {
  const res = await httpRequest(port, {
    method: 'POST',
    path: `/api/${method}`,
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  })
  return { status: res.status, json: JSON.parse(res.body) }
}
