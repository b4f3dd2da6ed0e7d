/** One part of a loaded dataset: `x` holds `count` samples of `inputShape` row-major, floats in [0, 1]. */
export interface DataPart {
  x: Float32Array
  /** Integer class labels in [0, numClasses). */
  y: Int32Array
  count: number
}

/**
 * A dataset in memory, ready to train on. Plain typed arrays only (no tensors), so it can be cached per worker
 * and built into tensors by the trainer. `test` is the dataset's own test split and is never used by search.
 */
export interface LoadedData {
  inputShape: number[]
  classNames: string[]
  numClasses: number
  train: DataPart
  validation: DataPart
  test: DataPart
}
