import type { Dataset } from '../../shared'
import { loadBundledSample } from './bundled-sample'
import { loadCachedDataset } from './load-cached'
import type { LoadedData } from './loaded-data'

/**
 * Loads a dataset into memory for training. The bundled sample is read from its IDX files
 * (bundled-sample.ts). Imported datasets (image folders, CSV, IDX) are read from their decoded cache:
 * `opts.cacheDir`, else `dataset.cacheDir` (main sets it), else $NAS_STUDIO_DATA_DIR/cache/<hash>
 * (load-cached.ts).
 */
export async function loadDataset(
  dataset: Dataset,
  opts: { validationFraction: number; seed: number; cacheDir?: string },
): Promise<LoadedData> {
  if (dataset.source !== 'bundled') return loadCachedDataset(dataset, opts)
  return loadBundledSample(dataset, opts)
}
