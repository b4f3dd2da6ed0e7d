import { BACKBONE_PIXEL_SCALES, type BackboneNormalisation } from '../../shared'

/** One file of a catalogue backbone: where it is fetched from and the bytes it must have. */
export interface CatalogueFile {
  /** Path inside the backbone's folder ("model.json", "group1-shard1of2.bin"). */
  path: string
  url: string
  /** Lower-case hex SHA-256 of the file, pinned from bytes someone actually verified; null when not known. */
  sha256: string | null
  /** Size in bytes; null when not known. */
  bytes: number | null
}

/** A well-known backbone NAS Studio can download on first use. */
export interface CatalogueItem {
  /** Also the backbone's id once downloaded. */
  id: string
  name: string
  description: string
  /** What is known of it before downloading: input size and pixel scaling. */
  inputShape: [number, number, number]
  normalisation: BackboneNormalisation
  /** Every file, model.json first; empty when the file list itself is not known. */
  files: CatalogueFile[]
  /** Why this entry cannot be downloaded safely yet (null when every file has a pinned checksum and size). */
  missing: string | null
}

/** True when every file of `item` has a pinned checksum and size, so it may be downloaded. */
export const isDownloadable = (item: CatalogueItem): boolean =>
  item.missing === null &&
  item.files.length > 0 &&
  item.files.every((f) => f.sha256 !== null && /^[0-9a-f]{64}$/.test(f.sha256) && f.bytes !== null)

/** The catalogue's files' total size, or null when any size is unknown. */
export const catalogueBytes = (item: CatalogueItem): number | null =>
  item.files.length > 0 && item.files.every((f) => f.bytes !== null)
    ? item.files.reduce((n, f) => n + f.bytes!, 0)
    : null

const TEACHABLE_MACHINE =
  'https://storage.googleapis.com/teachable-machine-models/mobilenet_v2_weights_tf_dim_ordering_tf_kernels'

/**
 * Why the real entries cannot be downloaded in this build. Their files are the ones Teachable Machine loads
 * (Keras's ImageNet MobileNetV2 without its classifier, converted to TF.js Layers format); no npm package ships
 * them, and this build was made without access to their host, so neither the names of their weight shards
 * (listed inside each model.json) nor any file's SHA-256 and size could be read from real bytes. Trusting
 * whatever arrives first would defeat the checksum, so they stay off until someone pins them.
 */
const NOT_PINNED =
  'Its files have no pinned checksums in this version of NAS Studio, so it cannot be downloaded safely.'

function mobileNetV2(alpha: '0.35' | '0.50' | '0.75' | '1.00'): CatalogueItem {
  return {
    id: `mobilenet-v2-${alpha.replace('.', '')}-224`,
    name: `MobileNetV2 ×${alpha} (ImageNet)`,
    description: `Google's MobileNetV2 at width ${alpha}, trained on ImageNet (1.3 million photos, 1000 classes), without its classifier: 224 × 224 colour images in.`,
    inputShape: [224, 224, 3],
    normalisation: BACKBONE_PIXEL_SCALES.symmetric,
    files: [
      {
        path: 'model.json',
        url: `${TEACHABLE_MACHINE}_${alpha}_224_no_top/model.json`,
        sha256: null,
        bytes: null,
      },
    ],
    missing: NOT_PINNED,
  }
}

/** The built-in catalogue. */
export const BUILTIN_CATALOGUE: readonly CatalogueItem[] = [
  mobileNetV2('0.35'),
  mobileNetV2('0.50'),
  mobileNetV2('0.75'),
  mobileNetV2('1.00'),
]
