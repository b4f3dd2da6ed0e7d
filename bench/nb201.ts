/**
 * `npm run bench:nb201 -- [--strategy all|NAME[,NAME]] [--runs N] [--seed S] [--queries Q] [--file F]`: NAS-Bench-201's
 * search protocol for our strategies (see bench/README.md). Same as `nas-studio bench nb201`; writes
 * bench/results/nb201.json.
 */
import { runCli } from '../src/main/cli/commands'

const args = process.argv.slice(2)
if (!args.includes('--out')) args.push('--out', 'bench/results/nb201.json')
const code = await runCli(['bench', 'nb201', ...args], {
  stdout: (t) => process.stdout.write(t),
  stderr: (t) => process.stderr.write(t),
  signal: new AbortController().signal,
})
process.exit(code)
