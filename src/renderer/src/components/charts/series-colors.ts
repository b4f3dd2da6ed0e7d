/** Colours for chart series (runs, trials), readable on light and dark backgrounds. */
export const SERIES_COLORS = [
  '#4f46e5',
  '#d97706',
  '#0891b2',
  '#db2777',
  '#16a34a',
  '#7c3aed',
  '#dc2626',
  '#0d9488',
]
