/** Helpers for messages about names: suggestions for misspellings and quoted values. */

/** Formats a value for a message: strings quoted, others as JSON. */
export function describeValue(value: unknown): string {
  return typeof value === 'string' ? `'${value}'` : JSON.stringify(value);
}

/** Returns the candidate closest to a misspelled name, if it is within a few edits. */
export function closestName(name: string, candidates: string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Math.max(1, Math.floor(name.length / 3)) + 1;
  for (const candidate of candidates) {
    const distance = editDistance(name.toLowerCase(), candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

/** Formats an unknown-name message with the closest known name or the list of known names. */
export function unknownName(kind: string, name: string, candidates: string[]): string {
  const hint = closestName(name, candidates);
  if (hint) return `unknown ${kind} '${name}', did you mean '${hint}'?`;
  return `unknown ${kind} '${name}' (expected one of ${candidates.join(', ') || 'none'})`;
}

/** Levenshtein distance, counting a swap of two neighbouring letters as one edit. */
function editDistance(a: string, b: string): number {
  const rows = a.length + 1;
  const columns = b.length + 1;
  const distance: number[][] = [];
  for (let i = 0; i < rows; i++) {
    distance.push(new Array<number>(columns).fill(0));
    distance[i][0] = i;
  }
  for (let j = 0; j < columns; j++) distance[0][j] = j;

  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < columns; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      distance[i][j] = Math.min(
        distance[i - 1][j] + 1,
        distance[i][j - 1] + 1,
        distance[i - 1][j - 1] + cost,
      );
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        distance[i][j] = Math.min(distance[i][j], distance[i - 2][j - 2] + 1);
      }
    }
  }
  return distance[a.length][b.length];
}
