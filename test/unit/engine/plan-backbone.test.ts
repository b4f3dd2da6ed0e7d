import { describe, expect, it } from 'vitest'
import { searchPlanSchema } from '../../../src/shared/plan'
import { planSearch, type PlanData } from '../../../src/engine/plan'
import { PRESET_PLAN_SPACES } from '../../helpers/plan-spaces'

/** The time-first planner proposes a search over heads on a pretrained backbone for small image datasets. */
const SPACES = PRESET_PLAN_SPACES
const classes = (n: number): string[] => Array.from({ length: n }, (_, i) => `c${i}`)
const SMALL: PlanData = { inputShape: [28, 28, 1], classNames: classes(5), numTrain: 500, numTest: 5000 }
const LARGE: PlanData = { inputShape: [28, 28, 1], classNames: classes(10), numTrain: 60000, numTest: 10000 }
const BACKBONE = {
  id: 'fmnist-0-4',
  name: 'Fashion classes 0-4',
  inputShape: [28, 28, 1] as [number, number, number],
  cutPoints: [
    { layer: 'p2', outputShape: [14, 14, 32] },
    { layer: 'b5', outputShape: [7, 7, 96] },
    { layer: 'gap', outputShape: [96] },
  ],
  fineTunableBlocks: 2,
}

describe('planSearch with backbones', () => {
  it('proposes heads on a fitting backbone for a few images per class, and says why', () => {
    const plan = planSearch({ data: SMALL, minutes: 5, spaces: SPACES, backbones: [BACKBONE] })
    expect(searchPlanSchema.parse(plan)).toEqual(plan)
    expect(plan.backbone).toMatchObject({
      id: 'fmnist-0-4',
      space: {
        family: 'backbone',
        backbones: [{ id: 'fmnist-0-4', cuts: ['b5', 'gap'] }],
        fineTune: ['frozen', 1],
      },
    })
    expect(plan.reasons[0]).toContain('only about 100 training images per class')
    expect(plan.reasons[0]).toContain('"Fashion classes 0-4"')
    // the from-scratch choice stays for when the person declines
    expect(SPACES.map((s) => s.id)).toContain(plan.spaceId)
  })

  it('proposes a backbone of another image size, saying the images are resized for it', () => {
    const colour = { ...SMALL, inputShape: [32, 32, 3] }
    const plan = planSearch({ data: colour, minutes: 5, spaces: SPACES, backbones: [BACKBONE] })
    expect(plan.backbone).toMatchObject({ id: 'fmnist-0-4' })
    expect(plan.reasons[0]).toContain('Your images are resized to 28 × 28 and turned grey for it')
  })

  it('proposes none for plenty of images, channels no backbone takes, or no backbone', () => {
    expect(
      planSearch({ data: LARGE, minutes: 5, spaces: SPACES, backbones: [BACKBONE] }).backbone,
    ).toBeUndefined()
    const twoChannels = { ...SMALL, inputShape: [32, 32, 2] }
    expect(
      planSearch({ data: twoChannels, minutes: 5, spaces: SPACES, backbones: [BACKBONE] }).backbone,
    ).toBeUndefined()
    const plan = planSearch({ data: SMALL, minutes: 5, spaces: SPACES })
    expect(plan.backbone).toBeUndefined()
    expect(plan.reasons.join(' ')).not.toContain('backbone')
  })
})
