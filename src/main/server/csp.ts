/**
 * The Content-Security-Policy for the UI, shared by the Electron window and web mode: only the app's own
 * scripts (no inline script, no eval; WebAssembly allowed), inline styles (Vue and cytoscape set them),
 * and network access only back to the app (`extraConnect` adds the web-mode WebSocket origins).
 */
export function contentSecurityPolicy(extraConnect: string[] = []): string {
  return [
    "default-src 'self'",
    "script-src 'self' 'wasm-unsafe-eval'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "font-src 'self' data:",
    `connect-src 'self'${extraConnect.map((c) => ` ${c}`).join('')}`,
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ')
}
