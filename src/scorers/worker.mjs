/**
 * Symbolic-comparison worker, plain JavaScript so it loads in a worker thread with or without a TypeScript
 * loader (runs in a `worker_threads` thread; see `symbolic.ts`). It receives atom pairs
 * `[gold, prediction]` of normalised LaTeX, parses both with @cortex-js/compute-engine and answers, per pair,
 * `eq` | `ne` | `unknown`. The compute engine's own equality is **not** trusted alone (it rounds `1/2^{98}` to
 * 0): constants are compared by numeric evaluation with relative tolerance, and two values that are both 0 or
 * non-finite count as equal only when the expressions are structurally the same; expressions with unknowns
 * are compared at fixed random points. The parent thread terminates this worker when it overruns its budget.
 *
 * Message in: `{ id: number, pairs: [string, string][], relTol: number }`.
 * Message out: `{ id, results: ('eq'|'ne'|'unknown')[] }` or `{ id, error: string }`.
 */
import { parentPort } from 'node:worker_threads';

/** @typedef {'eq' | 'ne' | 'unknown'} Tri */

/** @type {any} */
let ce = null;
async function engine() {
  if (!ce) {
    const { ComputeEngine } = await import('@cortex-js/compute-engine');
    ce = new ComputeEngine();
  }
  return ce;
}

/** @param {number} a @param {number} b @param {number} relTol */
function close(a, b, relTol) {
  if (a === b) return true;
  if (!Number.isFinite(a) || !Number.isFinite(b)) return false;
  return Math.abs(a - b) <= relTol * Math.max(Math.abs(a), Math.abs(b));
}

/** @returns {Tri} */
function compareOne(e, g, p, relTol) {
  const A = e.parse(g);
  const B = e.parse(p);
  if (!A.isValid || !B.isValid) return 'unknown';
  const vars = [...new Set([...A.unknowns, ...B.unknowns])].sort();
  if (vars.length === 0) {
    const a = A.N();
    const b = B.N();
    const [ar, ai, br, bi] = [a.re, a.im, b.re, b.im];
    if ([ar, ai, br, bi].some((x) => Number.isNaN(x))) return A.isSame(B) ? 'eq' : 'unknown';
    if ((ar === 0 && ai === 0) || (br === 0 && bi === 0) || ![ar, ai, br, bi].every(Number.isFinite)) {
      // zero or infinite: compute-engine may have under/overflowed; accept only structural sameness
      if (A.isSame(B)) return 'eq';
      return (ar === 0 && ai === 0) !== (br === 0 && bi === 0) ? 'unknown' : 'unknown';
    }
    return close(ar, br, relTol) && close(ai, bi, relTol) ? 'eq' : 'ne';
  }
  if (vars.length > 16) return 'unknown';
  let compared = 0;
  for (let k = 0; k < 3; k++) {
    /** @type {Record<string, unknown>} */
    const subs = {};
    vars.forEach((v, i) => (subs[v] = e.number(0.37 + 0.61 * k + 0.29 * i)));
    const a = A.subs(subs).N();
    const b = B.subs(subs).N();
    const [ar, ai, br, bi] = [a.re, a.im, b.re, b.im];
    if (![ar, ai, br, bi].every(Number.isFinite)) continue;
    compared++;
    if (!close(ar, br, Math.max(relTol, 1e-9)) || !close(ai, bi, Math.max(relTol, 1e-9))) return 'ne';
  }
  return compared > 0 ? 'eq' : 'unknown';
}

parentPort?.on('message', async (req) => {
  try {
    const e = await engine();
    const results = req.pairs.map(([g, p]) => {
      try {
        return compareOne(e, g, p, req.relTol);
      } catch {
        return 'unknown';
      }
    });
    parentPort.postMessage({ id: req.id, results });
  } catch (err) {
    parentPort.postMessage({ id: req.id, error: String(err) });
  }
});
parentPort?.postMessage({ ready: true });
