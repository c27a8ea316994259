/**
 * The prefix oracle of the trace prompt tests: what each token of a request is (its block id and
 * offset, or an offset in the request's own tail), written without the builder's code. Two prompts
 * must share exactly as many leading words as their label lists share leading labels.
 */
export function tokenLabels(hashIds: readonly number[], input: number, blockTokens: number, index: number): string[] {
  const out: string[] = [];
  let left = input;
  for (const h of hashIds) for (let t = 0; t < blockTokens && left > 0; t++, left--) out.push(`b${h}.${t}`);
  for (let t = 0; left > 0; t++, left--) out.push(`own${index}.${t}`);
  return out;
}

export function commonPrefix<T>(a: readonly T[], b: readonly T[]): number {
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  return i;
}

/** chars4's words are 4 characters each: a text's words are its 4-character chunks */
export const words4 = (text: string): string[] => text.match(/.{4}/gs) ?? [];
