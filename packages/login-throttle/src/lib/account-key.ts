/**
 * The form of an account name that failures are counted under. Two spellings a login could
 * accept for one account must share a count, or an attacker gets a fresh allowance per spelling
 * (`Alice@Example.com`, a full-width `＠`, a trailing space). So the name is NFKC-normalised,
 * case-folded (lower, upper, then lower case again, which also folds `ß` and `ẞ` into `ss`) and trimmed. Folding two
 * accounts into one only makes the count stricter, never looser.
 *
 * Returns undefined for anything that names no account (not a string, or only white space).
 */
export function normalizeAccountKey(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined
  let key = fold(value)
  // Folding can expose another foldable form (`ẞ` → `ß` → `ss`); a few rounds reach the fixed
  // point, so a stored key always normalises to itself.
  for (let round = 0; round < 3; round++) {
    const again = fold(key)
    if (again === key) break
    key = again
  }
  return key === '' ? undefined : key
}

function fold(text: string): string {
  return text.normalize('NFKC').toLowerCase().toUpperCase().toLowerCase().normalize('NFKC').trim()
}
