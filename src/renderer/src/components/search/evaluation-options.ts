import type { RunConfig, TrainSettings } from '@shared/domain'

/**
 * The evaluation choices of the New Search form, in a person's terms, and how they become run settings.
 * Every choice has one plain sentence (EVALUATION_TEXT) that the form shows next to it.
 */
export interface EvaluationChoice {
  /** 'recommended': warm-up + cosine learning rate and (for images) random shifts; 'basic': neither. */
  recipe: 'recommended' | 'basic'
  /** Also mirror images left-right at random (recommended recipe, images only); off unless chosen. */
  mirror: boolean
  /** Share of the training images each candidate learns from (1 = all). */
  dataFraction: number
  /** Image size each candidate sees (1 = full size, 0.5 = half the height and width). */
  resolution: number
  /** Share of each layer's channels a candidate is trained with (1 = full width). */
  widthMultiplier: number
  /** Stop candidates whose learning curve cannot reach the best few. */
  earlyStop: boolean
  /** Retrain the winner on training + validation data and score it once on the test data. */
  finalTraining: boolean
  /** Epochs of that final training. */
  finalEpochs: number
}

/** The form's starting choices: the sound recipe, no proxies, early stopping and final training on. */
export const DEFAULT_EVALUATION: EvaluationChoice = {
  recipe: 'recommended',
  mirror: false,
  dataFraction: 1,
  resolution: 1,
  widthMultiplier: 1,
  earlyStop: true,
  finalTraining: true,
  finalEpochs: 10,
}

/** One plain sentence per choice, for a person who is not a programmer. */
export const EVALUATION_TEXT = {
  recipe: {
    recommended:
      'Recommended recipe: the learning speed warms up, then slows down gently, and images are randomly shifted by a few pixels so the network learns shapes rather than positions.',
    basic: 'Basic recipe: a constant learning speed and the images exactly as they are.',
  },
  mirror:
    'Mirroring helps when a left-right mirrored image is still the same class (clothes, animals, landscapes); leave it off for digits, letters, text and anything whose sides differ.',
  dataFraction:
    'Each candidate learns from only this share of the training images, which makes scoring faster.',
  resolution: 'Candidates see smaller copies of the images, which is faster but blurs fine detail.',
  widthMultiplier:
    'Candidates are trained with fewer channels per layer than they really have, which is faster.',
  earlyStop:
    'Early stopping: a candidate whose learning curve shows it cannot reach the best few is stopped after a few epochs, saving its time.',
  finalTraining:
    'Final training: the winner is trained again on all training and validation data and scored once on test images no candidate ever saw.',
} as const

/** Proxy share choices offered by the form (value, label). */
export const FRACTION_CHOICES: Array<[number, string]> = [
  [1, 'all of it'],
  [0.5, 'half'],
  [0.25, 'a quarter'],
  [0.1, 'a tenth'],
  [0.05, 'a twentieth'],
]
export const RESOLUTION_CHOICES: Array<[number, string]> = [
  [1, 'full size'],
  [0.5, 'half size'],
]
export const WIDTH_CHOICES: Array<[number, string]> = [
  [1, 'full width'],
  [0.5, 'half the channels'],
  [0.25, 'a quarter of the channels'],
]

/**
 * The run settings of `choice` for candidates trained `epochs` epochs on data of `inputShape`: the train
 * recipe and proxies (merged over `base`), early stopping (from epoch 2, against the 3 best) and final
 * training. Augmentation and lower resolution only apply to images ([height, width, channels]).
 */
export function evaluationSettings(
  choice: EvaluationChoice,
  base: TrainSettings,
  inputShape: readonly number[] | undefined,
): Pick<RunConfig, 'train'> & Partial<Pick<RunConfig, 'earlyStop' | 'finalTraining'>> {
  const isImage = inputShape?.length === 3
  const train: TrainSettings = { ...base }
  if (choice.recipe === 'recommended') {
    train.schedule = 'cosine'
    train.warmupEpochs = Math.min(1, base.epochs / 4)
    if (isImage) train.augment = { shift: 2, flip: choice.mirror }
  }
  if (choice.dataFraction < 1) train.dataFraction = choice.dataFraction
  if (isImage && choice.resolution < 1) train.resolution = choice.resolution
  if (choice.widthMultiplier < 1) train.widthMultiplier = choice.widthMultiplier
  const { dataFraction: _f, resolution: _r, widthMultiplier: _w, ...full } = train
  return {
    train,
    ...(choice.earlyStop && base.epochs >= 3 ? { earlyStop: { minEpochs: 2, topK: 3 } } : {}),
    ...(choice.finalTraining
      ? {
          finalTraining: {
            epochs: choice.finalEpochs,
            train: { ...full, epochs: choice.finalEpochs, warmupEpochs: Math.min(1, choice.finalEpochs / 4) },
          },
        }
      : {}),
  }
}
