import type { BackboneInfo, BackboneSpace, Dataset } from '../../shared'

/**
 * When to propose a pretrained backbone: images, few of them per class, and a backbone made for this image size
 * or one the images can be resized and converted for (grey and colour).
 * Few means at most SMALL_PER_CLASS training images per class: from-scratch networks learn little from so few,
 * while a head on features learned from other images needs only a few examples (see bench:backbone).
 */
export const SMALL_PER_CLASS = 1000

type Backbone = Pick<BackboneInfo, 'id' | 'name' | 'inputShape' | 'cutPoints' | 'fineTunableBlocks'>

/** The backbone head search to propose for `data`, with the reason in plain words; null when none fits. */
export function backboneProposal(
  data: Pick<Dataset, 'inputShape' | 'classNames' | 'numTrain'>,
  backbones: readonly Backbone[],
): { id: string; name: string; space: BackboneSpace; reason: string } | null {
  if (data.inputShape.length !== 3) return null
  const perClass = Math.round(data.numTrain / Math.max(1, data.classNames.length))
  if (perClass > SMALL_PER_CLASS) return null
  // a backbone made for this image size first; else one the images can be resized (and turned grey or
  // colour) for
  const c = data.inputShape[2]!
  const convertible = (b: Backbone): boolean =>
    b.inputShape[2] === c || ([1, 3].includes(b.inputShape[2]) && [1, 3].includes(c))
  const fits =
    backbones.find((b) => b.inputShape.join('x') === data.inputShape.join('x')) ?? backbones.find(convertible)
  if (!fits) return null
  const [h, w] = fits.inputShape
  const resized =
    fits.inputShape.join('x') === data.inputShape.join('x')
      ? ''
      : ` Your images are resized to ${w} × ${h}${fits.inputShape[2] === c ? '' : fits.inputShape[2] === 1 ? ' and turned grey' : ' and turned to colour'} for it, as it was trained on such images.`
  // the deepest two cuts: the last features are the most specific, the one before often transfers better
  const cuts = fits.cutPoints.slice(-2).map((c) => c.layer)
  const space: BackboneSpace = {
    family: 'backbone',
    version: 1,
    backbones: [{ id: fits.id, cuts }],
    fineTune: fits.fineTunableBlocks > 0 ? ['frozen', 1] : ['frozen'],
    pooling: ['globalAvg', 'flatten'],
    minBlocks: 0,
    maxBlocks: 2,
    units: [32, 64, 128],
    activation: ['relu'],
    dropout: [0, 0.3],
  }
  return {
    id: fits.id,
    name: fits.name,
    space,
    reason: `Your data has only about ${perClass} training images per class, so the search starts from the pretrained backbone "${fits.name}": it already recognises shapes and textures learned from other images, and only a small head is searched on top of it (its features are computed once, so many heads fit in the time). Networks trained from scratch learn little from so few images.${resized}`,
  }
}
