import type { Architecture, Dataset, Run, Trial, TrialEpoch } from '../../shared'
import { searchScoreName, TIE_BREAK_RULE } from '../../shared'
import { archToSvg } from './arch-svg'
import { seedCheckSection } from './report-seed-check'
import { settingsRows } from './report-settings'

/**
 * The export report: one self-contained, printable HTML file (no scripts, no external files) with the
 * architecture picture, the trial's metrics, a confusion matrix, learning curves, the search settings, the
 * dataset hash and the app version, so the result can be understood and reproduced later.
 */

/** Everything the report shows; `confusion[i][j]` counts samples of true class i predicted as j. */
export interface ReportData {
  appName: string
  appVersion: string
  createdAt: string
  run: Run
  trial: Trial
  architecture: Architecture
  dataset: Dataset
  epochs: TrialEpoch[]
  confusion: number[][]
  /** Which split the confusion matrix counts ('validation' or 'test'). */
  confusionSplit: string
  flops: number
  backend: string
  preprocessing: string
  /** Name of the run's search space (default: its id). */
  spaceName?: string
}

const esc = (s: string): string =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;')
const pct = (v: number | null): string => (v === null ? '—' : `${(v * 100).toFixed(1)} %`)
const num = (v: number): string => v.toLocaleString('en-US')
const seconds = (ms: number | null): string => (ms === null ? '—' : `${(ms / 1000).toFixed(1)} s`)
const metric = (label: string, value: string): string =>
  `<div class="metric"><div class="value">${value}</div><div class="label">${label}</div></div>`
const compact = (v: number): string =>
  v >= 1e9
    ? `${(v / 1e9).toFixed(2)} G`
    : v >= 1e6
      ? `${(v / 1e6).toFixed(2)} M`
      : v >= 1e3
        ? `${(v / 1e3).toFixed(1)} k`
        : String(Math.round(v))

/** A small line chart as SVG: one polyline per series over epochs 1..n, y from 0 to the data's maximum. */
export function lineChart(
  title: string,
  series: Array<{ name: string; color: string; values: number[]; dashed?: boolean }>,
  opts: { yMax?: number; percent?: boolean } = {},
): string {
  const w = 440
  const h = 220
  const m = { l: 46, r: 12, t: 28, b: 34 }
  const n = Math.max(1, ...series.map((s) => s.values.length))
  const all = series.flatMap((s) => s.values).filter(Number.isFinite)
  const yMax = opts.yMax ?? (all.length ? Math.max(...all) * 1.1 || 1 : 1)
  const x = (i: number): number => m.l + (n === 1 ? (w - m.l - m.r) / 2 : (i / (n - 1)) * (w - m.l - m.r))
  const y = (v: number): number => m.t + (1 - Math.min(v, yMax) / yMax) * (h - m.t - m.b)
  const ticks = [0, 0.25, 0.5, 0.75, 1].map((f) => f * yMax)
  const grid = ticks
    .map(
      (t) =>
        `<line x1="${m.l}" x2="${w - m.r}" y1="${y(t)}" y2="${y(t)}" stroke="#e2e8f0"/><text x="${m.l - 6}" y="${y(t) + 4}" text-anchor="end" font-size="10" fill="#475569">${opts.percent ? `${Math.round(t * 100)}%` : t.toFixed(2)}</text>`,
    )
    .join('')
  const xTicks = Array.from({ length: n }, (_, i) => i)
    .filter((i) => n <= 10 || i % Math.ceil(n / 10) === 0 || i === n - 1)
    .map(
      (i) =>
        `<text x="${x(i)}" y="${h - m.b + 14}" text-anchor="middle" font-size="10" fill="#475569">${i + 1}</text>`,
    )
    .join('')
  const lines = series
    .map((s) => {
      const pts = s.values.map((v, i) => `${x(i).toFixed(1)},${y(v).toFixed(1)}`).join(' ')
      const dots = s.values
        .map((v, i) => `<circle cx="${x(i).toFixed(1)}" cy="${y(v).toFixed(1)}" r="2.5" fill="${s.color}"/>`)
        .join('')
      return `<polyline points="${pts}" fill="none" stroke="${s.color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="5 3"' : ''}/>${dots}`
    })
    .join('')
  const legend = series
    .map(
      (s, i) =>
        `<g transform="translate(${m.l + i * 120}, 12)"><line x1="0" x2="18" y1="0" y2="0" stroke="${s.color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="5 3"' : ''}/><text x="24" y="4" font-size="11" fill="#0f172a">${esc(s.name)}</text></g>`,
    )
    .join('')
  return `<figure class="chart"><svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" viewBox="0 0 ${w} ${h}" role="img" aria-label="${esc(title)}">${grid}${xTicks}<text x="${(w + m.l) / 2}" y="${h - 4}" text-anchor="middle" font-size="10" fill="#475569">epoch</text>${lines}${legend}</svg><figcaption>${esc(title)}</figcaption></figure>`
}

function confusionTable(classNames: string[], confusion: number[][]): string {
  const max = Math.max(1, ...confusion.flat())
  const head = `<tr><th class="corner">true \\ predicted</th>${classNames.map((c) => `<th class="col">${esc(c)}</th>`).join('')}<th>recall</th></tr>`
  const rows = confusion
    .map((row, i) => {
      const total = row.reduce((a, b) => a + b, 0)
      const cells = row
        .map((v, j) => {
          const alpha = v === 0 ? 0 : 0.12 + 0.78 * (v / max)
          const color =
            i === j ? `rgba(22, 163, 74, ${alpha.toFixed(2)})` : `rgba(220, 38, 38, ${alpha.toFixed(2)})`
          const dark = alpha > 0.55
          return `<td style="background:${color};${dark ? 'color:#fff' : ''}">${v}</td>`
        })
        .join('')
      return `<tr><th>${esc(classNames[i] ?? String(i))}</th>${cells}<td class="recall">${total ? pct(row[i]! / total) : '—'}</td></tr>`
    })
    .join('')
  return `<table class="confusion">${head}${rows}</table>`
}

/** The report's HTML (a complete document). */
export function renderReport(d: ReportData): string {
  const { run, trial, dataset } = d
  const c = run.config
  const correct = d.confusion.reduce((a, row, i) => a + (row[i] ?? 0), 0)
  const total = d.confusion.flat().reduce((a, b) => a + b, 0)
  const ep = d.epochs
  const final = trial.isFinal === true
  const settings = settingsRows(
    run,
    trial,
    ep.length,
    esc(d.spaceName ?? c.spaceId),
    esc(run.backend ?? d.backend),
  )
  const title = final ? 'final model' : `trial ${trial.index + 1} (search candidate)`
  const metrics = final
    ? [
        metric(
          'test accuracy (test split, never used for search or training)',
          pct(trial.testAccuracy ?? null),
        ),
        metric('training accuracy, last epoch (not a held-out score)', pct(trial.valAccuracy)),
        metric('parameters', compact(trial.params)),
        metric('FLOPs per sample', compact(d.flops)),
        metric(
          `training time, ${ep.length || (trial.proxy?.epochs ?? c.finalTraining?.epochs ?? '?')} epochs`,
          seconds(trial.trainTimeMs),
        ),
      ]
    : [
        metric(`${esc(searchScoreName(c))}`, pct(trial.valAccuracy)),
        metric('validation loss', trial.valLoss === null ? '—' : trial.valLoss.toFixed(4)),
        metric('parameters', compact(trial.params)),
        metric('FLOPs per sample', compact(d.flops)),
        metric('training time', seconds(trial.trainTimeMs)),
      ]
  const finalNote = final
    ? ''
    : run.finalTestAccuracy != null
      ? `<p class="note">This is a search candidate, trained for the search only. The run's final model (the winner retrained on all training data) scored ${pct(run.finalTestAccuracy)} on the test split: export it for use.</p>`
      : '<p class="note">This run has no final training: this candidate was trained for the search only (on its quick-score settings). Turn on final training to get a model trained on all the data and a test score.</p>'
  const curves =
    ep.length === 0
      ? '<p class="sub">No per-epoch metrics were recorded for this trial.</p>'
      : final
        ? `<p class="sub">The final model learns from the validation split too, so its curves are training figures (with augmentation and dropout on); its only held-out score is the test accuracy above.</p><div class="charts">${lineChart(
            'Training loss (cross-entropy)',
            [{ name: 'train', color: '#2563eb', values: ep.map((e) => e.loss) }],
          )}${lineChart(
            'Training accuracy',
            [{ name: 'train', color: '#2563eb', values: ep.map((e) => e.accuracy) }],
            {
              yMax: 1,
              percent: true,
            },
          )}</div>`
        : `<div class="charts">${lineChart('Loss (cross-entropy)', [
            { name: 'train', color: '#2563eb', values: ep.map((e) => e.loss) },
            { name: 'validation', color: '#ea580c', values: ep.map((e) => e.valLoss), dashed: true },
          ])}${lineChart(
            'Accuracy',
            [
              { name: 'train', color: '#2563eb', values: ep.map((e) => e.accuracy) },
              { name: 'validation', color: '#ea580c', values: ep.map((e) => e.valAccuracy), dashed: true },
            ],
            { yMax: 1, percent: true },
          )}</div>`
  const data: Array<[string, string]> = [
    ['Name', esc(dataset.name)],
    ['Source', `${dataset.source} (${esc(dataset.path)})`],
    ['Input shape', dataset.inputShape.join(' × ')],
    ['Classes', `${dataset.classNames.length}: ${esc(dataset.classNames.join(', '))}`],
    ['Samples', `${num(dataset.numTrain)} train, ${num(dataset.numTest)} test`],
    ['Content hash (sha256)', `<code>${esc(dataset.hash)}</code>`],
    ['Preprocessing', esc(d.preprocessing)],
  ]
  const kv = (rows: Array<[string, string]>): string =>
    `<table class="kv">${rows.map(([k, v]) => `<tr><th>${k}</th><td>${v}</td></tr>`).join('')}</table>`
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(d.appName)} report: ${esc(run.config.name)}, ${title}</title>
<style>
  :root { color-scheme: light; }
  * { box-sizing: border-box; }
  body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #0f172a; margin: 0; background: #f8fafc; }
  main { max-width: 1040px; margin: 0 auto; padding: 28px 32px 48px; background: #fff; }
  header { border-bottom: 2px solid #0f172a; padding-bottom: 12px; margin-bottom: 20px; }
  h1 { font-size: 24px; margin: 0 0 4px; }
  h2 { font-size: 17px; margin: 28px 0 10px; padding-bottom: 4px; border-bottom: 1px solid #e2e8f0; }
  .sub { color: #475569; }
  .note { background: #fef9c3; border: 1px solid #fde68a; border-radius: 8px; padding: 8px 12px; }
  .metrics { display: grid; grid-template-columns: repeat(5, 1fr); gap: 10px; }
  .metric { border: 1px solid #e2e8f0; border-radius: 8px; padding: 10px 12px; }
  .metric .value { font-size: 20px; font-weight: 650; }
  .metric .label { color: #475569; font-size: 12px; }
  .arch { overflow-x: auto; border: 1px solid #e2e8f0; border-radius: 8px; padding: 8px; text-align: center; }
  .charts { display: flex; flex-wrap: wrap; gap: 16px; }
  figure { margin: 0; }
  figcaption { color: #475569; font-size: 12px; text-align: center; }
  table { border-collapse: collapse; }
  table.kv th { text-align: left; font-weight: 500; color: #475569; padding: 3px 18px 3px 0; vertical-align: top; white-space: nowrap; }
  table.kv td { padding: 3px 0; overflow-wrap: anywhere; }
  table.kv code { word-break: break-all; }
  table.confusion { font-size: 12px; }
  table.confusion th, table.confusion td { border: 1px solid #e2e8f0; padding: 4px 7px; text-align: center; min-width: 34px; }
  table.confusion th { background: #f1f5f9; font-weight: 550; }
  table.confusion th.col { max-width: 90px; }
  table.confusion td.recall { background: #f8fafc; font-weight: 550; }
  .grid2 { display: grid; grid-template-columns: 1fr 1fr; gap: 24px; }
  footer { margin-top: 32px; color: #64748b; font-size: 12px; border-top: 1px solid #e2e8f0; padding-top: 8px; }
  code { font-size: 12px; }
  @media print {
    body { background: #fff; }
    main { padding: 0; max-width: none; }
    h2 { break-after: avoid; }
    .arch, .charts, table.confusion { break-inside: avoid; }
  }
</style></head>
<body><main>
<header>
  <h1>${esc(run.config.name)}: ${title}</h1>
  <div class="sub">${esc(d.appName)} ${esc(d.appVersion)} · report written ${esc(d.createdAt.replace('T', ' ').slice(0, 19))} UTC · run <code>${esc(run.id)}</code> · trial <code>${esc(trial.id)}</code>${run.bestTrialId === trial.id ? ' · best candidate of the search' : ''}</div>
</header>
<section>
  <div class="metrics">
    ${metrics.join('\n    ')}
  </div>
  ${finalNote}
</section>
${seedCheckSection(run)}
<h2>Architecture</h2>
<div class="arch">${archToSvg(d.architecture)}</div>
<h2>Learning curves</h2>
${curves}
<h2>Confusion matrix (${esc(d.confusionSplit)} split, ${num(total)} samples the model never trained on, ${pct(total ? correct / total : null)} correct)</h2>
${confusionTable(dataset.classNames, d.confusion)}
<div class="grid2">
  <section><h2>Settings that shaped it</h2>${kv(settings)}<p class="sub">${esc(TIE_BREAK_RULE)}</p></section>
  <section><h2>Dataset</h2>${kv(data)}</section>
</div>
<footer>Reproduce: the same dataset (hash above), search space, strategy, seed and settings give the same search. Generated by ${esc(d.appName)} ${esc(d.appVersion)}.</footer>
</main></body></html>
`
}
