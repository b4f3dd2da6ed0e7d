/**
 * How one raw table column became model features. 'numeric': one feature (value - mean) / std, a missing or
 * non-numeric cell becomes 0 (the training mean). 'categorical': one feature per category in `categories`
 * order, 1 for the cell's category and 0 for the others; a missing or unseen value is all zeros.
 */
export type ColumnEncoding =
  | { column: string; kind: 'numeric'; mean: number; std: number }
  | { column: string; kind: 'categorical'; categories: string[] }
