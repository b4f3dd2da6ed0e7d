/** What the search's choice of its best candidate compares. */
export interface RankedResult {
  valAccuracy: number
  valLoss: number | null
  params: number
}

/**
 * True when `a` is a better search result than `b`: higher validation accuracy; on equal accuracy (common on
 * small validation splits, where many candidates score 1.0) lower validation loss, then fewer weights. An
 * unknown loss ranks below a known one.
 */
export function isBetterResult(a: RankedResult, b: RankedResult): boolean {
  if (a.valAccuracy !== b.valAccuracy) return a.valAccuracy > b.valAccuracy
  const la = a.valLoss ?? Infinity
  const lb = b.valLoss ?? Infinity
  if (la !== lb) return la < lb
  return a.params < b.params
}

/** How ties are broken, in the words the app shows next to the best candidate. */
export const TIE_BREAK_RULE =
  'Candidates with the same validation accuracy are ranked by lower validation loss, then by fewer weights.'

/**
 * The trial that is a run's result, which exports, try-it and the report default to: its final model (the
 * winner retrained on train + validation) when that training completed, else the search's best trial.
 */
export function resultTrialId(
  run: { finalTrialId?: string | null; bestTrialId: string | null },
  finalTrial: { status: string } | null,
): string | null {
  if (run.finalTrialId && finalTrial?.status === 'completed') return run.finalTrialId
  return run.bestTrialId
}
