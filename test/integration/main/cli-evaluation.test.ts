import { readFileSync, writeFileSync } from 'node:fs'
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

  it('searches with a proxy, retrains the winner, prints it as the final model and exports it by number', async () => {
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
      expect(res.out).toMatch(/trial 1 +\[1\/2\] +completed +val_acc .*\[proxy 1 ep, 50% data\]/)
      expect(res.out).toMatch(/trial 2 +\[2\/2\] +completed/)
      // the final training is printed as such, epoch by epoch, and never with a validation score
      expect(res.out).toMatch(/Final training of the winner \(retrained on train \+ validation\)/)
      expect(res.out).toMatch(/final training epoch 1\/1 +loss \d\.\d{4} +train_acc 0\.\d{4}/)
      expect(res.out).toMatch(/final model +completed +test_acc 0\.\d{4} +train_acc\(last epoch\)/)
      expect(res.out).not.toMatch(/^trial 3|\[3\/2\]/m)
      expect(res.out).toMatch(/Best candidate: trial \d, quick score: 1 epoch on 50% of the data/)
      const line =
        /Final model \(trial 3\): test accuracy (0\.\d{4}) on the test split, never used for search or training \(winner retrained on train \+ validation, 1 epochs/.exec(
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
      // `runs` shows the dataset and the final model's test accuracy
      const runs = await cli(['runs', '--data-dir', tmp.dir])
      expect(runs.out).toMatch(/DATASET .*FINAL TEST ACC/)
      const row = runs.out.split('\n')[1]!
      expect(row).toContain('Fashion')
      expect(row).toContain(line![1])
      // the trial numbers it printed are what --trial takes, and the short run id works
      const runId = row.split(/\s+/)[0]!
      const out = path.join(tmp.dir, 'export-final')
      const exported = await cli([
        'export',
        runId,
        '--trial',
        '3',
        '--format',
        'report',
        '--out',
        out,
        '--data-dir',
        tmp.dir,
      ])
      expect(exported.err).toBe('')
      expect(exported.out).toMatch(/Exported the final model \(trial 3, test accuracy /)
      // its report: the test accuracy, a confusion matrix on the test split, the epochs it trained and every
      // setting that shaped it; its training figures are never called validation
      const report = readFileSync(path.join(out, 'report.html'), 'utf8')
      expect(report).toContain(
        `${(Number(line![1]) * 100).toFixed(1)} %</div><div class="label">test accuracy`,
      )
      expect(report).toMatch(/Confusion matrix \(test split, \d+ samples the model never trained on/)
      expect(report).toMatch(/1 epochs set, 1 trained on train \+ validation/)
      expect(report).toMatch(/Search: proxy<\/th><td>50% of the training data/)
      expect(report).toMatch(/Early stopping<\/th><td>off/)
      expect(report).not.toMatch(/class="label">[^<]*validation|>validation<\/text>|No per-epoch metrics/)
      expect(readFileSync(path.join(out, 'README.md'), 'utf8')).toMatch(/the \*\*final model\*\*/)
      const byDefault = await cli([
        'export',
        runId,
        '--format',
        'report',
        '--out',
        `${out}-default`,
        '--data-dir',
        tmp.dir,
      ])
      expect(byDefault.out).toMatch(/Exported the final model \(trial 3,/)
      const first = await cli([
        'export',
        runId,
        '--trial',
        '1',
        '--format',
        'report',
        '--out',
        `${out}-1`,
        '--data-dir',
        tmp.dir,
      ])
      expect(first.out).toMatch(
        /Exported trial 1 \(a search candidate, trained for the search only; the final model is --trial final\)/,
      )
      const missing = await cli([
        'export',
        runId,
        '--trial',
        '9',
        '--format',
        'report',
        '--out',
        `${out}-9`,
        '--data-dir',
        tmp.dir,
      ])
      expect(missing.code).toBe(EXIT.usage)
      expect(missing.err).toMatch(/the run has no trial 9 \(its trials are 1 to 3\)/)
    } finally {
      tmp.cleanup()
    }
  })
})
