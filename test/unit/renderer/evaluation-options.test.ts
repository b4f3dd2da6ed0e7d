import { describe, expect, it } from 'vitest'
import { mount } from '@vue/test-utils'
import { runConfigSchema } from '@shared/domain'
import TrialTable from '@renderer/components/trials/TrialTable.vue'
import EvaluationOptions from '@renderer/components/search/EvaluationOptions.vue'
import {
  DEFAULT_EVALUATION,
  EVALUATION_TEXT,
  evaluationSettings,
} from '@renderer/components/search/evaluation-options'
import { makeRun, makeTrial } from './fixtures'

const base = { epochs: 4, batchSize: 64, learningRate: 0.001, validationFraction: 0.2 }

describe('evaluation choices of the New Search form', () => {
  it('turns the default choices into the sound recipe, early stopping and final training', () => {
    const s = evaluationSettings(DEFAULT_EVALUATION, base, [28, 28, 1])
    expect(s.train).toEqual({
      ...base,
      schedule: 'cosine',
      warmupEpochs: 1,
      augment: { shift: 2, flip: false },
    })
    expect(s.earlyStop).toEqual({ minEpochs: 2, topK: 3 })
    expect(s.finalTraining).toMatchObject({ epochs: 10, train: { epochs: 10, schedule: 'cosine' } })
    // what the form sends is a valid run config
    const config = { ...makeRun().config, ...s }
    expect(runConfigSchema.safeParse(config).success).toBe(true)
  })

  it('mirrors images only when the person chooses it, and says when that helps', () => {
    expect(DEFAULT_EVALUATION.mirror).toBe(false)
    const mirrored = evaluationSettings({ ...DEFAULT_EVALUATION, mirror: true }, base, [28, 28, 1])
    expect(mirrored.train.augment).toEqual({ shift: 2, flip: true })
    expect(mirrored.finalTraining!.train!.augment).toEqual({ shift: 2, flip: true })
    expect(EVALUATION_TEXT.recipe.recommended).not.toMatch(/mirror/)
    expect(EVALUATION_TEXT.mirror).toMatch(/leave it off for digits, letters/)
    const form = mount(EvaluationOptions, {
      props: { modelValue: DEFAULT_EVALUATION, isImage: true, epochs: 4 },
    })
    expect(form.find('[data-testid="mirror-toggle"]').exists()).toBe(true)
    const table = mount(EvaluationOptions, {
      props: { modelValue: DEFAULT_EVALUATION, isImage: false, epochs: 4 },
    })
    expect(table.find('[data-testid="mirror-toggle"]').exists()).toBe(false)
  })

  it('adds the chosen proxies to the search only, never to the final training; images only for augmentation', () => {
    const choice = { ...DEFAULT_EVALUATION, dataFraction: 0.25, resolution: 0.5, widthMultiplier: 0.5 }
    const img = evaluationSettings(choice, base, [28, 28, 1])
    expect(img.train).toMatchObject({ dataFraction: 0.25, resolution: 0.5, widthMultiplier: 0.5 })
    expect(img.finalTraining!.train).not.toHaveProperty('dataFraction')
    expect(img.finalTraining!.train).not.toHaveProperty('resolution')
    expect(img.finalTraining!.train).not.toHaveProperty('widthMultiplier')
    const table = evaluationSettings(choice, base, [12])
    expect(table.train).not.toHaveProperty('augment')
    expect(table.train).not.toHaveProperty('resolution')
    const basic = evaluationSettings(
      { ...DEFAULT_EVALUATION, recipe: 'basic', earlyStop: false, finalTraining: false },
      base,
      [28, 28, 1],
    )
    expect(basic).toEqual({ train: base })
    // early stopping needs a few epochs to read a learning curve from
    expect(
      evaluationSettings(DEFAULT_EVALUATION, { ...base, epochs: 2 }, [28, 28, 1]).earlyStop,
    ).toBeUndefined()
  })

  it('shows each option with its plain sentence and reports changes', async () => {
    const w = mount(EvaluationOptions, {
      props: { modelValue: DEFAULT_EVALUATION, isImage: true, epochs: 4 },
    })
    const text = w.text()
    for (const sentence of [
      EVALUATION_TEXT.recipe.recommended,
      EVALUATION_TEXT.recipe.basic,
      EVALUATION_TEXT.dataFraction,
      EVALUATION_TEXT.resolution,
      EVALUATION_TEXT.widthMultiplier,
      EVALUATION_TEXT.earlyStop,
      EVALUATION_TEXT.finalTraining,
    ])
      expect(text).toContain(sentence)
    await w.get('[data-testid="proxy-data"]').setValue('0.25')
    await w.get('[data-testid="early-stop-toggle"]').setValue(false)
    const events = w.emitted('update:modelValue')!
    expect(events[0]![0]).toMatchObject({ dataFraction: 0.25 })
    expect(events[1]![0]).toMatchObject({ earlyStop: false })
    // tables have no image size to cut
    const t = mount(EvaluationOptions, {
      props: { modelValue: DEFAULT_EVALUATION, isImage: false, epochs: 4 },
    })
    expect(t.find('[data-testid="proxy-resolution"]').exists()).toBe(false)
  })
})

describe('TrialTable: how each trial was scored', () => {
  it('shows the proxy, an early stop with its prediction and reason, and the final model with its test score', () => {
    const trials = [
      makeTrial(0, { valAccuracy: 0.8, proxy: { epochs: 3, dataFraction: 0.1, widthMultiplier: 0.5 } }),
      makeTrial(1, {
        valAccuracy: 0.4,
        proxy: { epochs: 3, dataFraction: 0.1 },
        stoppedEarly: true,
        predictedAccuracy: 0.52,
        stopReason:
          'After epoch 2 of 3 its learning curve predicts 52.0% at the end, below the top-3 bar of 80.0%',
      }),
      makeTrial(2, { valAccuracy: 0.95, isFinal: true, testAccuracy: 0.9312 }),
      makeTrial(3, { valAccuracy: 0.7 }),
    ]
    const w = mount(TrialTable, { props: { trials, bestTrialId: 't0' } })
    const scored = w.findAll('[data-testid="scored-by"]').map((c) => c.text())
    expect(scored).toEqual([
      '3 epochs · 10% of the data · 50% width',
      '3 epochs · 10% of the data',
      'final training on train + validation',
      'full training',
    ])
    const stopped = w.get('[data-testid="stopped-early"]')
    expect(stopped.text()).toContain('stopped early · predicted 52.0%')
    expect(stopped.attributes('title')).toMatch(/below the top-3 bar/)
    expect(w.get('[data-testid="final-trial"]').text()).toContain('test 93.1%')
  })

  it('has no "Scored by" column for plain runs', () => {
    const w = mount(TrialTable, { props: { trials: [makeTrial(0)], bestTrialId: null } })
    expect(w.find('[data-testid="scored-by"]').exists()).toBe(false)
    expect(w.text()).not.toContain('Scored by')
  })
})
