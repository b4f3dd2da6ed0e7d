import { writeFileSync } from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { runCli } from '../../../src/main/cli/commands'
import { EXIT } from '../../../src/main/cli/io'
import { openAppDb } from '../../../src/main/db'
import { makeTempDir } from '../../helpers/temp-dir'

async function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = ''
  let err = ''
  const code = await runCli(args, {
    stdout: (t) => (out += t),
    stderr: (t) => (err += t),
    signal: new AbortController().signal,
  })
  return { code, out, err }
}

describe('nas-studio search with evaluation settings (--settings)', () => {
  it('rejects a settings file with an invalid field, naming it', async () => {
    const tmp = makeTempDir()
    try {
      const file = path.join(tmp.dir, 'bad.json')
      writeFileSync(file, JSON.stringify({ train: { dataFraction: 3 } }))
      const res = await cli(['search', '--space', 'quick-mlp', '--settings', file, '--data-dir', tmp.dir])
      expect(res.code).toBe(EXIT.usage)
      expect(res.err).toMatch(/--settings .*bad\.json: train\.dataFraction: /)
    } finally {
      tmp.cleanup()
    }
  })

  it('searches with a proxy, retrains the winner and prints its test accuracy', async () => {
    const tmp = makeTempDir()
    try {
      const file = path.join(tmp.dir, 'settings.json')
      writeFileSync(
        file,
        JSON.stringify({
          train: { dataFraction: 0.5, schedule: 'cosine', warmupEpochs: 0.5 },
          finalTraining: { epochs: 1 },
        }),
      )
      const res = await cli([
        'search',
        '--space',
        'quick-mlp',
        '--trials',
        '2',
        '--settings',
        file,
        '--data-dir',
        tmp.dir,
      ])
      expect(res.err).toBe('')
      expect(res.code).toBe(EXIT.ok)
      expect(res.out).toMatch(/trial 1\/2 +completed .*\[proxy 1 ep, 50% data\]/)
      expect(res.out).toMatch(/\[FINAL test_acc 0\.\d{4}\]/)
      const line =
        /Final training: test accuracy (0\.\d{4}) \(winner retrained on train \+ validation, 1 epochs/.exec(
          res.out,
        )
      expect(line).not.toBeNull()
      // what it printed is what the run stored
      const db = openAppDb(tmp.dir)
      try {
        const run = db.runs.list()[0]!
        expect(run.finalTestAccuracy!.toFixed(4)).toBe(line![1])
        expect(run.config.train.dataFraction).toBe(0.5)
      } finally {
        db.close()
      }
    } finally {
      tmp.cleanup()
    }
  })
})
