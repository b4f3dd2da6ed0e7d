/**
 * Web mode's wire format (HTTP + WebSocket on 127.0.0.1). The server in src/main/server and the client in
 * src/renderer/src/api both follow it:
 * - `POST /api/<method>` with the JSON request as body; answers 200 with a `Result` envelope, 401 with an
 *   `unauthorized` envelope when the token is missing or wrong, 400 for a body that is not JSON.
 * - `GET /events` upgraded to a WebSocket. The client's first message is `{"token": "<token>"}` (a browser
 *   cannot set headers on a WebSocket); the server answers WEB_EVENTS_READY, then each message is one JSON
 *   `EventMessage`. A wrong token, or none within 5 s, closes the socket (1008).
 * - The API and uploads need `Authorization: Bearer <token>`. The token is never a cookie (cookies reach
 *   every port of 127.0.0.1) and never read from the URL by the server: the page takes it from `?token=`
 *   once and keeps it. The built UI itself is served without the token.
 */
export const WEB_API_PREFIX = '/api/'
export const WEB_EVENTS_PATH = '/events'
export const WEB_TOKEN_QUERY = 'token'
/** The server's first WebSocket message once the token was accepted. */
export const WEB_EVENTS_READY = '{"ready":true}'
/** Largest accepted request body, in bytes. */
export const WEB_MAX_BODY_BYTES = 1024 * 1024

/** The line `nas-studio serve` prints; tests and scripts parse the URL out of it with WEB_URL_PATTERN. */
export const webBanner = (url: string): string => `NAS Studio web mode: ${url}`
export const WEB_URL_PATTERN = /NAS Studio web mode: (http:\/\/127\.0\.0\.1:\d+\/\?token=[A-Za-z0-9_-]+)/

/**
 * Web-mode uploads (a browser cannot hand the server a local path, so a chosen folder or file is copied to the
 * server's data folder first): `PUT /upload/<uploadId>/<relative/path/of/file>` with the raw bytes as body,
 * the same token rules as the API. `uploadId` is 8-64 characters of [A-Za-z0-9_-] chosen by the client; the
 * answer is a Result whose data is `{ root }`, the absolute folder on the server holding that upload, which
 * the client then passes to `datasets.import`.
 */
export const WEB_UPLOAD_PREFIX = '/upload/'
/** Largest accepted uploaded file, in bytes. */
export const WEB_MAX_UPLOAD_FILE_BYTES = 256 * 1024 * 1024
export const UPLOAD_ID_PATTERN = /^[A-Za-z0-9_-]{8,64}$/

/**
 * Longest base64 image exports.predict accepts (the try-it panel): fits one WEB_MAX_BODY_BYTES request with room
 * for the envelope; the page redraws bigger images smaller first.
 */
export const MAX_PREDICT_IMAGE_BASE64 = 1_000_000
