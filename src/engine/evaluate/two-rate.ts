import { tf } from '../compute/backend'
import { setLearningRate } from './recipe'

/**
 * An optimizer that updates some variables at a fraction of the learning rate: fine-tuned pretrained layers
 * move slowly while a fresh head learns at the full rate. Variables whose names start with `prefix` (a layer
 * name prefix: tf.js names a layer's variables <layer>/<weight>) go to `slow`, the rest to `fast`; two inner
 * optimizers keep their own state, so Adam's per-variable moments stay exact.
 */
export class TwoRateOptimizer extends tf.Optimizer {
  static className = 'NasTwoRate'

  constructor(
    private readonly fast: tf.Optimizer,
    private readonly slow: tf.Optimizer,
    private readonly prefix: string,
    private readonly factor: number,
  ) {
    super()
  }

  override applyGradients(variableGradients: Parameters<tf.Optimizer['applyGradients']>[0]): void {
    const entries: Array<[string, tf.Tensor]> = Array.isArray(variableGradients)
      ? variableGradients.map((v) => [v.name, v.tensor])
      : Object.entries(variableGradients)
    const fast: tf.NamedTensorMap = {}
    const slow: tf.NamedTensorMap = {}
    for (const [name, g] of entries) (name.startsWith(this.prefix) ? slow : fast)[name] = g
    if (Object.keys(fast).length > 0) this.fast.applyGradients(fast)
    if (Object.keys(slow).length > 0) this.slow.applyGradients(slow)
    this.incrementIterations()
  }

  /** Sets the full rate; the slow variables get `factor` x it (read by setLearningRate in recipe.ts). */
  setLearningRate(lr: number): void {
    setLearningRate(this.fast, lr)
    setLearningRate(this.slow, lr * this.factor)
  }

  override dispose(): void {
    this.fast.dispose()
    this.slow.dispose()
    super.dispose()
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { prefix: this.prefix, factor: this.factor }
  }
}
