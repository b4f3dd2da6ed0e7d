import type { ZeroCostProxy } from './domain'

/**
 * How well each zero-cost proxy ranked candidates in our own measurements: Spearman rank correlation of the
 * proxy's score at initialisation with the validation accuracy the candidate reached once trained. The figures
 * come from `npm run bench:zero-cost` (bench/results/zero-cost.json; small-cnn preset, bundled Fashion-MNIST
 * sample) and, for the NAS-Bench-201 column, `npm run bench:zero-cost-nb201` (bench/results/zero-cost-nb201.json;
 * CIFAR-10 200-epoch test accuracy of the table). Update them together with those files.
 */
export interface ProxyMeasurement {
  /** Spearman on Fashion-MNIST CNN candidates: the data the app's image searches resemble; decides the gate. */
  fashionMnist: number
  /** Spearman on NAS-Bench-201 cells against the table's CIFAR-10 accuracy; null where not measured. */
  nb201: number | null
}

/** Which measurement the Fashion-MNIST figure is. */
export const FASHION_MNIST_MEASUREMENT =
  '60 random small-CNN candidates, each trained 3 epochs on the bundled Fashion-MNIST sample'

/** Which measurement the NAS-Bench-201 figure is. */
export const NB201_MEASUREMENT =
  'NAS-Bench-201 cells against the table’s CIFAR-10 test accuracy (synflow: 300 cells, no data; the others: 60 cells on a Fashion-MNIST minibatch as stand-in)'

export const ZERO_COST_MEASURED: Record<ZeroCostProxy, ProxyMeasurement> = {
  synflow: { fashionMnist: 0.46, nb201: 0.77 },
  grad_norm: { fashionMnist: 0.02, nb201: 0.78 },
  snip: { fashionMnist: -0.02, nb201: 0.79 },
  jacob_cov: { fashionMnist: -0.23, nb201: 0.74 },
  naswot: { fashionMnist: 0.67, nb201: 0.84 },
  params: { fashionMnist: 0.83, nb201: null },
  flops: { fashionMnist: 0.82, nb201: null },
}

/** Below this Spearman on similar data a proxy is not offered for pre-ranking (it is marked experimental). */
export const USEFUL_SPEARMAN = 0.5

/** True when `proxy` ranked candidates usefully on similar data (Spearman >= USEFUL_SPEARMAN). */
export function isUsefulProxy(proxy: ZeroCostProxy): boolean {
  return ZERO_COST_MEASURED[proxy].fashionMnist >= USEFUL_SPEARMAN
}
