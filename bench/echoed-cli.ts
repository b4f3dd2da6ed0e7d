import { runCli } from '../src/main/cli/commands'

/**
 * Runs one `nas-studio` command in this process against `dataDir`, echoing its output as it comes; resolves with
 * the exit code and everything it wrote to stdout (which the benchmarks parse for run ids and scores).
 */
export async function echoedCli(
  dataDir: string,
  args: string[],
  signal: AbortSignal,
): Promise<{ code: number; out: string }> {
  let out = ''
  const code = await runCli([...args, '--data-dir', dataDir], {
    stdout: (t) => {
      out += t
      process.stdout.write(t)
    },
    stderr: (t) => process.stderr.write(t),
    signal,
  })
  return { code, out }
}
