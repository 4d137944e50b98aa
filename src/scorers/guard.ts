/**
 * Structural limits checked before any evaluation, so hostile answers (exponent towers, 10,000 nested
 * braces, thousand-digit literals) are refused in microseconds instead of being handed to an evaluator.
 */

/** Limits: extracted answers longer than `maxChars` are a grader error; the rest make an answer "unevaluable". */
export const LIMITS = { maxChars: 10_000, maxNesting: 40, maxExponentDepth: 2, maxDigitRun: 400 } as const;

/**
 * Check a normalised answer against {@link LIMITS}.
 * @returns null when within limits, else a short reason (e.g. `exponent tower of depth 5`).
 */
export function structuralProblem(s: string): string | null {
  if (s.length > LIMITS.maxChars) return `answer longer than ${LIMITS.maxChars} characters`;
  let depth = 0;
  let maxDepth = 0;
  // stack of "is this group an exponent" flags, to measure exponent towers
  const expStack: boolean[] = [];
  let expDepth = 0;
  let maxExp = 0;
  let digitRun = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c >= '0' && c <= '9') {
      if (++digitRun > LIMITS.maxDigitRun) return `number literal longer than ${LIMITS.maxDigitRun} digits`;
    } else digitRun = 0;
    if (c === '^') {
      let j = i + 1;
      while (s[j] === ' ') j++;
      if (s[j] === '{') {
        expStack.push(true);
        expDepth++;
        depth++;
        maxExp = Math.max(maxExp, expDepth);
        i = j;
      } else maxExp = Math.max(maxExp, expDepth + 1);
    } else if (c === '{' || c === '(' || c === '[') {
      expStack.push(false);
      depth++;
    } else if (c === '}' || c === ')' || c === ']') {
      if (expStack.pop()) expDepth--;
      depth--;
    }
    if (depth > maxDepth) maxDepth = depth;
    if (maxDepth > LIMITS.maxNesting) return `nesting deeper than ${LIMITS.maxNesting}`;
    if (maxExp > LIMITS.maxExponentDepth) return `exponent tower deeper than ${LIMITS.maxExponentDepth}`;
  }
  return null;
}
