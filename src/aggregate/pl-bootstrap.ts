/**
 * Bootstrap refits of the Plackett–Luce MAP fit, fast: the same replicates and the same estimates as refitting each
 * replicate by Newton's method (`fitPlackettLuce` with `newtonOnly`, warm-started from the full fit), computed with
 * less work per replicate, optionally on several threads.
 *
 * The bootstrap (unchanged): replicate b resamples the clusters (samples) with replacement, nC draws `rng.index(nC)`
 * from one xoroshiro128+ stream seeded by the recorded seed, replicates drawn in order b = 0, 1, …; cluster c
 * counted k_c times enters the likelihood with weight k_c (Efron & Tibshirani 1993, "An Introduction to the
 * Bootstrap", §6; resampling whole clusters: Davison & Hinkley 1997, "Bootstrap Methods and their Application", §3.8).
 * The replicate's sufficient statistics are w*_i = Σ_c k_c w_ci (weighted wins) and M*_R = Σ_c k_c M_cR (weighted
 * choices from set R), summed in cluster order exactly as `sufficientStats`.
 *
 * The refit (what changed): the replicate's MAP θ* solves ∇ℓ*(θ) = 0. Instead of a full Newton step per iteration
 * (a new Hessian, O(Σ_R |R|²), and a Cholesky factorisation, O(n³), each step), it iterates the *chord* (simplified
 * Newton) method θ ← θ + H₀⁻¹ ∇ℓ*(θ) from θ₀ = θ̂, with H₀ = −∇²ℓ(θ̂) the negative Hessian of the full-data
 * posterior at the full-data fit, factored once (Kelley 1995, "Iterative Methods for Linear and Nonlinear
 * Equations", SIAM, §5.4; Ortega & Rheinboldt 1970, §10.2). Each iteration costs one gradient, O(Σ_R |R|) over the
 * replicate's choice sets, and an O(n²) substitution. It converges linearly with rate ‖I − H₀⁻¹H*‖, small because a
 * replicate's Hessian differs from the full-data one by resampling noise only (Anderson acceleration, depth 3, on
 * top). It stops at the same criterion as the Newton refit, max_i |∂ℓ* / ∂θ_i| < 1e-10 · (1 + Σ_i w*_i / n), or one
 * iteration earlier when the correction is below 1e-9 in every θ_i while the gradient shrinks at least tenfold per
 * iteration (what is left is then of order 1e-10), so both return the replicate's MAP to within that tolerance
 * (centred scores agree to ~1e-9 or better: test/aggregate/pl-bootstrap.test.ts). When the iteration contracts slowly
 * (gradient shrinking less than fivefold from the third iteration: little data per model), the replicate's own
 * Hessian at the current iterate is factored once and used from then on (Shamanskii 1967; Kelley 1995, §5.4.1).
 * When it does not contract (three iterations without a new smallest gradient, a non-finite value, or 100
 * iterations) the replicate falls back to the Newton refit and then to MM + Newton from scratch, the code path used
 * before.
 *
 * Threads: every worker replays the one random stream (about 1.5 ms per replicate at 100,000 clusters) and refits
 * replicates b ≡ k (mod workers); results are placed by b, so they never depend on the number of threads.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { collectGarbage } from '../core/gc.ts';
import { createRng } from '../core/rng.ts';
import { choleskyFactor, choleskySubstitute } from '../stats/cholesky.ts';
import { fitPlackettLuce, plNegHessian } from './plackett-luce.ts';
import { sharedCopy, sufficientStatsInto, type IndexArray } from './choices.ts';

/** What a bootstrap needs of the choice data and the full fit (plain typed arrays: they cross to worker threads). */
export interface PLBootstrapProblem {
  /** Models n. */
  n: number;
  /** Events of cluster c are [clusterPtr[c], clusterPtr[c+1]); length = clusters + 1. */
  clusterPtr: Int32Array;
  evWinner: IndexArray;
  evSet: IndexArray;
  /** Null: every weight 1. */
  evWeight: Float64Array | null;
  setPtr: Int32Array;
  setIdx: IndexArray;
  /** Full-data MAP θ̂ (length n): warm start and the point of the preconditioning Hessian. */
  theta: Float64Array;
  /** Prior strength λ. */
  prior: number;
  /** Algorithm of the last-resort refit from scratch. */
  method: 'mm' | 'lsr';
  /**
   * The preconditioner when already made (`fullDataPreconditioner`: the Cholesky factor of H₀, n×n row-major; null
   * when H₀ is not positive definite); absent: each refitting thread makes it (the same numbers). Threads share the
   * one made here instead of each summing the full-data statistics again (O(sets) memory each).
   */
  h0?: Float64Array | null;
}

export interface PLBootstrapResult {
  /** Centred replicate scores: `scores[i][b]` = θ*_i − mean θ* of replicate b. */
  scores: Float64Array[];
  /** Replicates whose refit did not converge by any path (their last iterate is kept, as before). */
  failed: number;
  /** Replicates that needed the Newton (or MM) fallback. */
  fallbacks: number;
  /** Threads used (1 = this thread). */
  threads: number;
}

const MAX_CHORD = 100;
const ANDERSON_DEPTH = 3;
/** Young-generation limit of a bootstrap thread, MB (see `plBootstrapThreads`). */
const YOUNG_GENERATION_MB = 4;
/** Stop once the chord correction is this small in every θ_i (see `refit`). */
const STEP_TOL = 1e-9;

/**
 * Anderson acceleration of the fixed-point iteration x ← x + f(x) (Anderson 1965, J. ACM 12:547; in the form of
 * Walker & Ni 2011, "Anderson acceleration for fixed-point iterations", SIAM J. Numer. Anal. 49:1715, with depth m):
 * with ΔX, ΔF the last m differences of iterates and of steps f, γ = argmin ‖f_k − ΔF γ‖₂ (normal equations,
 * m ≤ 3) and x_{k+1} = x_k + f_k − (ΔX + ΔF) γ. It changes the path only: the iteration stops on the gradient, so
 * the fixed point (the MAP) is the same.
 */
class Anderson {
  private dx: Float64Array[];
  private df: Float64Array[];
  private lastX: Float64Array;
  private lastF: Float64Array;
  private k = 0;
  private have = false;
  constructor(private readonly n: number, private readonly m: number) {
    this.dx = Array.from({ length: m }, () => new Float64Array(n));
    this.df = Array.from({ length: m }, () => new Float64Array(n));
    this.lastX = new Float64Array(n);
    this.lastF = new Float64Array(n);
  }
  reset(): void {
    this.k = 0;
    this.have = false;
  }
  /** Replace x by the next iterate, given the plain step f at x. */
  step(x: Float64Array, f: Float64Array): void {
    const n = this.n;
    if (this.have) {
      const slot = this.k % this.m;
      const dx = this.dx[slot]!, df = this.df[slot]!;
      for (let i = 0; i < n; i++) {
        dx[i] = x[i]! - this.lastX[i]!;
        df[i] = f[i]! - this.lastF[i]!;
      }
      this.k++;
    }
    this.lastX.set(x);
    this.lastF.set(f);
    this.have = true;
    const mk = Math.min(this.k, this.m);
    if (mk === 0) {
      for (let i = 0; i < n; i++) x[i]! += f[i]!;
      return;
    }
    // normal equations (ΔFᵀΔF) γ = ΔFᵀ f, with a tiny ridge for stability
    const A = new Float64Array(mk * mk), r = new Float64Array(mk);
    for (let a = 0; a < mk; a++) {
      const fa = this.df[a]!;
      let s = 0;
      for (let i = 0; i < n; i++) s += fa[i]! * f[i]!;
      r[a] = s;
      for (let b = 0; b <= a; b++) {
        const fb = this.df[b]!;
        let t = 0;
        for (let i = 0; i < n; i++) t += fa[i]! * fb[i]!;
        A[a * mk + b] = A[b * mk + a] = t;
      }
    }
    let tr = 0;
    for (let a = 0; a < mk; a++) tr += A[a * mk + a]!;
    for (let a = 0; a < mk; a++) A[a * mk + a]! += 1e-12 * tr + 1e-300;
    const g = choleskyFactor(A, mk) ? choleskySubstitute(A, r, mk, new Float64Array(mk)) : null;
    for (let i = 0; i < n; i++) {
      let v = x[i]! + f[i]!;
      if (g) for (let a = 0; a < mk; a++) v -= g[a]! * (this.dx[a]![i]! + this.df[a]![i]!);
      x[i] = v;
    }
  }
}

/**
 * Cluster multiplicities of one replicate, one byte each (a multinomial count of nC draws over nC clusters is below
 * 256 but with probability about 1/256!): a count that reaches 256 wraps in its byte and its multiples of 256 are
 * kept aside (`over`), so every count read back is exact. 1 byte per cluster per thread instead of 4.
 */
export class ClusterCounts {
  readonly c: Uint8Array;
  /** Multiples of 256 of the counts that wrapped (null: none this replicate). */
  over: Map<number, number> | null = null;
  constructor(n: number) {
    this.c = new Uint8Array(n);
  }
  clear(): void {
    this.c.fill(0);
    this.over = null;
  }
  /** Count cluster i once more. */
  add(i: number): void {
    if (++this.c[i]! === 256) (this.over ??= new Map()).set(i, (this.over.get(i) ?? 0) + 256);
  }
  /** The count of cluster i. */
  get(i: number): number {
    const k = this.c[i]!;
    return this.over === null ? k : k + (this.over.get(i) ?? 0);
  }
}

/**
 * The chord method's preconditioner: the Cholesky factor of H₀ = −∇²ℓ(θ̂) from the full-data statistics (every
 * cluster once), n×n row-major; null when H₀ is not positive definite (the refits then take the Newton path).
 */
export function fullDataPreconditioner(p: PLBootstrapProblem): Float64Array | null {
  const setMult = new Float64Array(p.setPtr.length - 1);
  sufficientStatsInto(p, null, null, new Float64Array(p.n), setMult);
  const H = plNegHessian(p.theta, p.setPtr, p.setIdx, setMult, p.prior);
  return choleskyFactor(H, p.n) ? H : null;
}

/** Per-thread refit state: scratch arrays and the factored preconditioner. */
class Refitter {
  readonly n: number;
  readonly nC: number;
  private readonly L: Float64Array | null;
  private wins: Float64Array;
  /**
   * A replicate's weighted choices per set: whole numbers while every event weight is 1, then 4 bytes each
   * (Int32Array) when no sum can reach 2³¹ (clusters × most events in a cluster below it), else 8.
   */
  private setMult: Float64Array | Int32Array;
  private act: Int32Array;
  private anderson: Anderson;
  private grad: Float64Array;
  private delta: Float64Array;
  private gamma: Float64Array;
  private acc: Float64Array;
  readonly theta: Float64Array;
  fallbacks = 0;
  /** Chord iterations over all refits (diagnostics). */
  iterations = 0;

  constructor(private readonly p: PLBootstrapProblem) {
    this.n = p.n;
    this.nC = p.clusterPtr.length - 1;
    const nS = p.setPtr.length - 1;
    // H₀ from the full-data statistics (cluster multiplicities all 1), unless made once for every thread.
    this.L = p.h0 !== undefined ? p.h0 : fullDataPreconditioner(p);
    this.wins = new Float64Array(this.n);
    let most = 0;
    for (let c = 0; c < this.nC; c++) most = Math.max(most, p.clusterPtr[c + 1]! - p.clusterPtr[c]!);
    this.setMult = !p.evWeight && this.nC * most < 2 ** 31 ? new Int32Array(nS) : new Float64Array(nS);
    this.act = new Int32Array(nS);
    this.anderson = new Anderson(this.n, ANDERSON_DEPTH);
    this.grad = new Float64Array(this.n);
    this.delta = new Float64Array(this.n);
    this.gamma = new Float64Array(this.n);
    this.acc = new Float64Array(this.n);
    this.theta = new Float64Array(this.n);
  }

  /** Refit for `counts` into `this.theta`; returns whether it converged (by any path). */
  refit(counts: ClusterCounts): boolean {
    const p = this.p, n = this.n, lambda = p.prior;
    sufficientStatsInto(p, counts.c, counts.over, this.wins, this.setMult);
    const wins = this.wins, setMult = this.setMult;
    let total = 0;
    for (let i = 0; i < n; i++) total += wins[i]!;
    const tol = 1e-10 * (1 + total / Math.max(1, n));
    const theta = this.theta;
    theta.set(p.theta);
    if (this.L) {
      // The replicate's choice sets with positive weight (in set order: their members are read from the shared
      // `setIdx` in place, in ascending memory order, with no copy per thread).
      const setPtr = p.setPtr, mem = p.setIdx;
      let nAct = 0;
      for (let s = 0; s < setMult.length; s++) if (setMult[s]! > 0) this.act[nAct++] = s;
      const act = this.act;
      const { grad, gamma, acc, delta } = this;
      const aa = this.anderson;
      aa.reset();
      let best = Infinity, stall = 0, L = this.L, refreshed = false;
      for (let it = 0; it < MAX_CHORD; it++) {
        this.iterations++;
        let mx = -Infinity;
        for (let i = 0; i < n; i++) mx = Math.max(mx, theta[i]!);
        for (let i = 0; i < n; i++) gamma[i] = Math.exp(theta[i]! - mx);
        acc.fill(0);
        let ok = true;
        for (let k = 0; k < nAct; k++) {
          const s = act[k]!, a = setPtr[s]!, b = setPtr[s + 1]!;
          // two partial sums: shorter dependency chains (the sum's rounding is immaterial at the stopping tolerance)
          let D0 = 0, D1 = 0, q = a;
          for (; q + 1 < b; q += 2) {
            D0 += gamma[mem[q]!]!;
            D1 += gamma[mem[q + 1]!]!;
          }
          if (q < b) D0 += gamma[mem[q]!]!;
          const D = D0 + D1;
          if (!(D > 0 && D < Infinity)) {
            ok = false;
            break;
          }
          const c = setMult[s]! / D;
          for (let q = a; q < b; q++) acc[mem[q]!]! += c;
        }
        if (!ok) break;
        let gmax = 0;
        for (let i = 0; i < n; i++) {
          const e = 1 / (1 + Math.exp(-theta[i]!));
          const g = wins[i]! + lambda / 2 - lambda * e - gamma[i]! * acc[i]!;
          grad[i] = g;
          gmax = Math.max(gmax, Math.abs(g));
        }
        if (!Number.isFinite(gmax)) break;
        if (gmax < tol) return true;
        // Not contracting (three iterations without a new smallest gradient): hand over to Newton.
        stall = gmax < best ? 0 : stall + 1;
        if (stall >= 3) break;
        const ratio = gmax / best;
        best = Math.min(best, gmax);
        // Slow contraction (little data per model: the replicate's Hessian is far from H₀): factor the replicate's
        // own Hessian at the current iterate once and go on with it (Shamanskii's variant of the chord method).
        if (!refreshed && it >= 2 && ratio > 0.2) {
          refreshed = true;
          const H = plNegHessian(theta, p.setPtr, p.setIdx, setMult, lambda);
          if (choleskyFactor(H, n)) {
            L = H;
            aa.reset();
          }
        }
        choleskySubstitute(L, grad, n, delta);
        let dmax = 0;
        for (let i = 0; i < n; i++) dmax = Math.max(dmax, Math.abs(delta[i]!));
        aa.step(theta, delta);
        // A correction below STEP_TOL while the gradient contracts by 10× or more per iteration: the error left after
        // it is of order STEP_TOL/10, what the gradient tolerance gives at this scale.
        if (dmax < STEP_TOL && ratio < 0.1) return true;
      }
    }
    // Fallback: the Newton refit from the full fit, then MM + Newton from scratch (the code path used before).
    this.fallbacks++;
    let f = fitPlackettLuce(p.setPtr, p.setIdx, wins, setMult, { prior: lambda, init: p.theta, newtonOnly: true });
    if (!f.converged) f = fitPlackettLuce(p.setPtr, p.setIdx, wins, setMult, { method: p.method, prior: lambda });
    theta.set(f.theta);
    return f.converged;
  }
}

/**
 * Refit replicates b ∈ [0, B) with b ≡ part (mod parts), replaying the whole random stream of `seed` so that
 * replicate b's resample is the same whoever computes it. Output: `out[j * n + i]` = centred θ*_i of the j-th
 * replicate of this part (j = (b − part) / parts). Synchronous; used by the worker threads and for one thread.
 */
export function refitPart(p: PLBootstrapProblem, seed: number, B: number, part: number, parts: number): { out: Float64Array; failed: number; fallbacks: number; iterations: number } {
  const r = new Refitter(p);
  const n = r.n, nC = r.nC;
  const mine = part < B ? Math.floor((B - 1 - part) / parts) + 1 : 0;
  const out = new Float64Array(mine * n);
  const rng = createRng(seed);
  const counts = new ClusterCounts(nC);
  let failed = 0;
  for (let b = 0, j = 0; b < B; b++) {
    counts.clear();
    for (let k = 0; k < nC; k++) counts.add(rng.index(nC));
    if (b % parts !== part) continue;
    if (!r.refit(counts)) failed++;
    let m = 0;
    for (let i = 0; i < n; i++) m += r.theta[i]!;
    m /= n || 1;
    for (let i = 0; i < n; i++) out[j * n + i] = r.theta[i]! - m;
    j++;
  }
  return { out, failed, fallbacks: r.fallbacks, iterations: r.iterations };
}

function gather(n: number, B: number, parts: { out: Float64Array }[]): Float64Array[] {
  const scores = Array.from({ length: n }, () => new Float64Array(B));
  const W = parts.length;
  parts.forEach(({ out }, part) => {
    for (let b = part, j = 0; b < B; b += W, j++) for (let i = 0; i < n; i++) scores[i]![b] = out[j * n + i]!;
  });
  return scores;
}

/** Bootstrap replicates on this thread (see the module comment). Errors: none for a valid problem. */
export function plBootstrap(p: PLBootstrapProblem, seed: number, B: number): PLBootstrapResult {
  const r = refitPart(p, seed, B, 0, 1);
  return { scores: gather(p.n, B, [r]), failed: r.failed, fallbacks: r.fallbacks, threads: 1 };
}

/** Default thread count for the bootstrap: the machine's parallelism, at most 8. */
export function defaultBootstrapThreads(): number {
  return Math.max(1, Math.min(8, availableParallelism()));
}

/**
 * The problem with its large arrays on shared memory, so that every worker reads the one copy in place (a typed
 * array on a SharedArrayBuffer crosses to a thread as a view, not a copy). Arrays already shared (the choice data
 * of choices.ts is built so) are kept; others are copied once.
 */
function sharedProblem(p: PLBootstrapProblem): PLBootstrapProblem {
  const share = <A extends IndexArray | Float64Array>(a: A): A => {
    if (a.buffer instanceof SharedArrayBuffer) return a;
    const b = new (a.constructor as new (buf: SharedArrayBuffer) => A)(new SharedArrayBuffer(a.byteLength));
    b.set(a);
    return b;
  };
  return {
    ...p, clusterPtr: share(p.clusterPtr), evWinner: share(p.evWinner), evSet: share(p.evSet), evWeight: p.evWeight && share(p.evWeight),
    setPtr: share(p.setPtr), setIdx: share(p.setIdx),
  };
}

function workerUrl(): { url: URL; entry: string | null } {
  if (!import.meta.url.endsWith('.ts')) return { url: new URL('./pl-bootstrap-worker.js', import.meta.url), entry: null };
  return { url: new URL('./pl-bootstrap-worker-boot.mjs', import.meta.url), entry: new URL('./pl-bootstrap-worker.ts', import.meta.url).href };
}

/**
 * Bootstrap replicates on `threads` worker threads (identical results to `plBootstrap`: replicate b is the same
 * resample and the same refit whichever thread computes it). `threads` ≤ 1 runs on this thread, and so does the
 * whole bootstrap again when a worker fails. Errors: none for a valid problem.
 */
export async function plBootstrapThreads(p: PLBootstrapProblem, seed: number, B: number, threads: number): Promise<PLBootstrapResult> {
  const W = Math.max(1, Math.min(threads, B));
  if (W <= 1) return plBootstrap(p, seed, B);
  const { url, entry } = workerUrl();
  const problem = sharedProblem(p);
  // the preconditioner made once here and read in place by every thread
  if (problem.h0 === undefined) {
    const h0 = fullDataPreconditioner(problem);
    problem.h0 = h0 && sharedCopy(h0);
  }
  // the full fit's and the preconditioner's statistics (O(sets) each) are released: freed before the threads start
  if (p.evWinner.length > 1e6) collectGarbage();
  const runs = Array.from({ length: W }, (_, part) => new Promise<{ out: Float64Array; failed: number; fallbacks: number }>((resolve, reject) => {
    // A refit allocates little (Anderson's few small arrays per iteration): a young generation of a few megabytes
    // holds it, where V8's default grows to tens of megabytes per thread over a long bootstrap.
    const w = new Worker(url, { workerData: { entry, problem, seed, B, part, parts: W }, resourceLimits: { maxYoungGenerationSizeMb: YOUNG_GENERATION_MB } });
    let done = false;
    w.once('message', (m: { out: Float64Array; failed: number; fallbacks: number }) => {
      done = true;
      resolve(m);
      void w.terminate();
    });
    w.once('error', (err) => {
      done = true;
      reject(err);
    });
    w.once('exit', (code) => {
      if (!done) reject(new Error(`bootstrap worker exited with code ${code}`));
    });
  }));
  let parts: { out: Float64Array; failed: number; fallbacks: number }[];
  try {
    parts = await Promise.all(runs);
  } catch {
    // A thread that cannot start or dies (no worker file, a resource limit): the same replicates on this thread.
    return plBootstrap(p, seed, B);
  }
  return {
    scores: gather(p.n, B, parts),
    failed: parts.reduce((a, r) => a + r.failed, 0),
    fallbacks: parts.reduce((a, r) => a + r.fallbacks, 0),
    threads: W,
  };
}
