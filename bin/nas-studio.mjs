#!/usr/bin/env node
// The `nas-studio` command: runs the bundled CLI (out/main/cli.js), built by `npm run build:app`.
import { existsSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const cli = join(root, 'out', 'main', 'cli.js')

if (!existsSync(cli)) {
  process.stderr.write('nas-studio is not built yet: run "npm run build:app" first, then try again.\n')
  process.exit(1)
}
await import(pathToFileURL(cli).href)
