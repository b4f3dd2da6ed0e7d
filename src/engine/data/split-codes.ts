/** The split code stored for each sample in a decoded cache (cache.ts) and used by the importers. */
export const SPLIT_TRAIN = 0
export const SPLIT_VALIDATION = 1
export const SPLIT_TEST = 2
