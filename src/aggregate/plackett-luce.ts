/**
 * Plackett–Luce maximum a-posteriori fit on choice data (`choices.ts`).
 *
 * Model (Luce 1959; Plackett 1975): model i has strength γ_i = exp(θ_i); a choice of i from set R has probability
 * γ_i / Σ_{j∈R} γ_j. Bradley–Terry is the special case |R| = 2, so battles use the same code.
 *
 * Prior (small, documented, makes the answer unique even for sparse or disconnected data): every model plays
 * λ virtual games against a fixed anchor of strength 1 (θ = 0), winning λ/2 and losing λ/2 — the "virtual draw"
 * regularisation of Coulom's BayesElo / Whole-History Rating (Coulom 2008), equivalent to a prior density
 * ∝ γ^{λ/2} / (1 + γ)^λ (a logistic-type prior on θ centred at 0). Default λ = 1: it weighs as one game per model,
 * negligible next to hundreds of samples, decisive only for a model with no information.
 *
 * Log-posterior: ℓ(θ) = Σ_i w_i θ_i − Σ_R M_R log Σ_{j∈R} e^{θ_j} + Σ_i [λ/2·θ_i − λ·log(1 + e^{θ_i})],
 * with w_i the weighted choices won by i and M_R the weighted number of choices made from set R.
 *
 * Algorithms:
 * - `mm`: the minorisation–maximisation iteration of Hunter 2004 ("MM algorithms for generalized Bradley–Terry
 *   models", Ann. Statist. 32(1), §5, eq. 30 for Plackett–Luce), with the anchor games as extra pairs:
 *   γ_i ← (w_i + λ/2) / (Σ_{R∋i} M_R / Σ_{j∈R} γ_j + λ / (γ_i + 1)).
 * - `lsr`: iterative Luce spectral ranking (Maystre & Grossglauser 2015, "Fast and accurate inference of
 *   Plackett–Luce models", NeurIPS, Alg. 2 "I-LSR"): γ is the stationary distribution of the Markov chain with
 *   rate j→i = Σ over choices of i from R ∋ j of weight / Σ_{k∈R} γ_k (anchor included as a node); the choices
 *   of i are apportioned over its sets from the aggregated statistics (same fixed point, see `runLSR`).
 * - then a Newton polish on θ (gradient and Hessian of ℓ above; Hessian −Σ_R M_R (diag p_R − p_R p_Rᵀ) − diag(λ p_i(1−p_i))
 *   with p_R the choice probabilities in R), with step halving, to a gradient below `tol`.
 */
import { choleskySolve } from '../stats/cholesky.ts';
import type { IndexArray } from './choices.ts';
export interface PLFitOptions {
  method?: 'mm' | 'lsr';
  /** Prior strength λ in virtual games per model (default 1). */
  prior?: number;
  /** Starting point θ (e.g. the full-data fit when bootstrapping); default 0. */
  init?: Float64Array;
  /** Maximum MM / LSR iterations before the Newton polish (default 500 for MM, 50 for LSR). */
  maxIter?: number;
  /** Stop MM/LSR when max |Δθ| < iterTol (default 1e-5); Newton until max |gradient| < tol·(1 + total weight / n) (default 1e-10). */
  iterTol?: number;
  tol?: number;
  /** Skip MM/LSR and run Newton only (used with `init` near the answer, e.g. bootstrap refits). */
  newtonOnly?: boolean;
}

export interface PLFit {
  /** Log-strengths θ_i relative to the anchor (θ = 0); rank by θ. Length n. */
  theta: Float64Array;
  logPosterior: number;
  iterations: number;
  newtonSteps: number;
  converged: boolean;
}

interface Active {
  sets: Int32Array;
  mult: Float64Array;
}

function activeSets(setPtr: Int32Array, setMult: Float64Array | Int32Array): Active {
  let k = 0;
  for (let s = 0; s < setMult.length; s++) if (setMult[s]! > 0) k++;
  const sets = new Int32Array(k);
  const mult = new Float64Array(k);
  k = 0;
  for (let s = 0; s < setMult.length; s++) if (setMult[s]! > 0) {
    sets[k] = s;
    mult[k++] = setMult[s]!;
  }
  void setPtr;
  return { sets, mult };
}

/** ℓ(θ) (see the module comment). */
export function plLogPosterior(theta: Float64Array, setPtr: Int32Array, setIdx: IndexArray, wins: Float64Array, setMult: Float64Array | Int32Array, prior = 1): number {
  let l = 0;
  for (let i = 0; i < theta.length; i++) l += (wins[i]! + prior / 2) * theta[i]! - prior * log1pexp(theta[i]!);
  for (let s = 0; s < setMult.length; s++) {
    const m = setMult[s]!;
    if (!(m > 0)) continue;
    let mx = -Infinity;
    for (let p = setPtr[s]!; p < setPtr[s + 1]!; p++) mx = Math.max(mx, theta[setIdx[p]!]!);
    let sum = 0;
    for (let p = setPtr[s]!; p < setPtr[s + 1]!; p++) sum += Math.exp(theta[setIdx[p]!]! - mx);
    l -= m * (mx + Math.log(sum));
  }
  return l;
}

function log1pexp(x: number): number {
  return x > 30 ? x : Math.log1p(Math.exp(x));
}

/**
 * Fit Plackett–Luce (MAP with the anchor prior) from sufficient statistics.
 * Shapes: `wins` length n (models), `setMult` length = number of sets; `setPtr`/`setIdx` as in `ChoiceData`.
 * Returns θ (natural-log strengths). Errors: none for valid input (the prior makes the problem strictly concave).
 */
export function fitPlackettLuce(setPtr: Int32Array, setIdx: IndexArray, wins: Float64Array, setMult: Float64Array | Int32Array, opts: PLFitOptions = {}): PLFit {
  const n = wins.length;
  const lambda = opts.prior ?? 1;
  if (!(lambda > 0)) throw new RangeError('prior strength must be > 0');
  const theta = opts.init ? Float64Array.from(opts.init) : new Float64Array(n);
  const act = activeSets(setPtr, setMult);
  let iterations = 0;
  if (!opts.newtonOnly) {
    const method = opts.method ?? 'mm';
    const maxIter = opts.maxIter ?? (method === 'mm' ? 500 : 50);
    const iterTol = opts.iterTol ?? 1e-5;
    iterations = method === 'mm' ? runMM(theta, setPtr, setIdx, wins, act, lambda, maxIter, iterTol) : runLSR(theta, setPtr, setIdx, wins, act, lambda, maxIter, iterTol);
  }
  let total = 0;
  for (let i = 0; i < n; i++) total += wins[i]!;
  const tol = (opts.tol ?? 1e-10) * (1 + total / Math.max(1, n));
  const { steps, converged } = newton(theta, setPtr, setIdx, wins, setMult, act, lambda, tol);
  return { theta, logPosterior: plLogPosterior(theta, setPtr, setIdx, wins, setMult, lambda), iterations, newtonSteps: steps, converged };
}

function runMM(theta: Float64Array, setPtr: Int32Array, setIdx: IndexArray, wins: Float64Array, act: Active, lambda: number, maxIter: number, iterTol: number): number {
  const n = theta.length;
  const gamma = new Float64Array(n);
  const denom = new Float64Array(n);
  for (let i = 0; i < n; i++) gamma[i] = Math.exp(theta[i]!);
  let it = 0;
  for (; it < maxIter; it++) {
    denom.fill(0);
    for (let k = 0; k < act.sets.length; k++) {
      const s = act.sets[k]!;
      const a = setPtr[s]!, b = setPtr[s + 1]!;
      let D = 0;
      for (let p = a; p < b; p++) D += gamma[setIdx[p]!]!;
      const c = act.mult[k]! / D;
      for (let p = a; p < b; p++) denom[setIdx[p]!]! += c;
    }
    if (updateGamma(gamma, (i) => (wins[i]! + lambda / 2) / (denom[i]! + lambda / (gamma[i]! + 1))) < iterTol) {
      it++;
      break;
    }
  }
  for (let i = 0; i < n; i++) theta[i] = Math.log(gamma[i]!);
  return it;
}

/**
 * Replace every γ_i by `next(i)` (all computed from the old γ before any is written) and return the largest
 * change max_i |log(γ_new/γ_old)|: the convergence measure of both MM and I-LSR.
 */
function updateGamma(gamma: Float64Array, next: (i: number) => number): number {
  const fresh = Float64Array.from(gamma, (_, i) => next(i));
  let delta = 0;
  for (let i = 0; i < gamma.length; i++) {
    delta = Math.max(delta, Math.abs(Math.log(fresh[i]! / gamma[i]!)));
    gamma[i] = fresh[i]!;
  }
  return delta;
}

/**
 * I-LSR: each iteration builds the (n+1)-state chain (state n = anchor) from the current γ and takes its stationary
 * distribution by solving πQ = 0 with Σπ = 1 (dense Gaussian elimination, O(n³)); chain building costs
 * O(Σ_R |R|²) via per-set winner totals.
 */
function runLSR(theta: Float64Array, setPtr: Int32Array, setIdx: IndexArray, wins: Float64Array, act: Active, lambda: number, maxIter: number, iterTol: number): number {
  // The fit receives aggregated statistics (w_i, M_R), not per-(set, winner) counts, so the choices of i are
  // apportioned over the sets containing i as c_iR = w_i · M_R p_i(R) / Σ_R' M_R' p_i(R'). Any apportioning with
  // Σ_R c_iR = w_i has the same stationary condition, Σ_R M_R p_i(R) = w_i (the ML score equation), so the fixed
  // point is the MAP estimate (Maystre & Grossglauser 2015, Thm. 1); the path may differ from textbook I-LSR.
  const n = theta.length;
  const N = n + 1;
  const gamma = new Float64Array(n);
  for (let i = 0; i < n; i++) gamma[i] = Math.exp(theta[i]!);
  const Q = new Float64Array(N * N);
  const expected = new Float64Array(n);
  const setD = new Float64Array(act.sets.length);
  let it = 0;
  for (; it < maxIter; it++) {
    Q.fill(0);
    expected.fill(0);
    // per-set strength totals and the expected wins under the current γ (one pass)
    for (let k = 0; k < act.sets.length; k++) {
      const s = act.sets[k]!;
      const a = setPtr[s]!, b = setPtr[s + 1]!;
      let D = 0;
      for (let p = a; p < b; p++) D += gamma[setIdx[p]!]!;
      setD[k] = D;
      for (let p = a; p < b; p++) expected[setIdx[p]!]! += (act.mult[k]! * gamma[setIdx[p]!]!) / D;
    }
    for (let k = 0; k < act.sets.length; k++) {
      const s = act.sets[k]!;
      const a = setPtr[s]!, b = setPtr[s + 1]!;
      const D = setD[k]!;
      for (let p = a; p < b; p++) {
        const i = setIdx[p]!;
        if (!(expected[i]! > 0)) continue;
        // choices of i from R, apportioned by the observed/expected ratio
        const wiR = (act.mult[k]! * gamma[i]! / D) * (wins[i]! / expected[i]!);
        const rate = wiR / D;
        for (let q = a; q < b; q++) {
          const j = setIdx[q]!;
          if (j !== i) Q[j * N + i]! += rate;
        }
      }
    }
    for (let i = 0; i < n; i++) {
      const r = lambda / 2 / (gamma[i]! + 1);
      Q[n * N + i]! += r; // i beats the anchor
      Q[i * N + n]! += r; // the anchor beats i
    }
    const pi = stationary(Q, N);
    if (updateGamma(gamma, (i) => Math.max(pi[i]! / pi[n]!, 1e-300)) < iterTol) {
      it++;
      break;
    }
  }
  for (let i = 0; i < n; i++) theta[i] = Math.log(gamma[i]!);
  return it;
}

/** Stationary distribution of a CTMC with off-diagonal rates Q (N×N): solve πQ = 0, Σπ = 1. */
function stationary(Q: Float64Array, N: number): Float64Array {
  // A = Qᵀ with diagonal −(row sums), last equation replaced by Σπ = 1.
  const A = new Float64Array(N * N);
  const rhs = new Float64Array(N);
  for (let j = 0; j < N; j++) {
    let out = 0;
    for (let i = 0; i < N; i++) if (i !== j) out += Q[j * N + i]!;
    for (let i = 0; i < N; i++) A[i * N + j] = i === j ? -out : Q[j * N + i]!;
  }
  for (let j = 0; j < N; j++) A[(N - 1) * N + j] = 1;
  rhs[N - 1] = 1;
  return solveGauss(A, rhs, N);
}

function solveGauss(A: Float64Array, b: Float64Array, N: number): Float64Array {
  for (let c = 0; c < N; c++) {
    let piv = c;
    for (let r = c + 1; r < N; r++) if (Math.abs(A[r * N + c]!) > Math.abs(A[piv * N + c]!)) piv = r;
    if (piv !== c) {
      for (let k = 0; k < N; k++) {
        const t = A[c * N + k]!;
        A[c * N + k] = A[piv * N + k]!;
        A[piv * N + k] = t;
      }
      const t = b[c]!;
      b[c] = b[piv]!;
      b[piv] = t;
    }
    const d = A[c * N + c]!;
    if (d === 0) continue;
    for (let r = c + 1; r < N; r++) {
      const f = A[r * N + c]! / d;
      if (f === 0) continue;
      for (let k = c; k < N; k++) A[r * N + k]! -= f * A[c * N + k]!;
      b[r]! -= f * b[c]!;
    }
  }
  const x = new Float64Array(N);
  for (let r = N - 1; r >= 0; r--) {
    let s = b[r]!;
    for (let k = r + 1; k < N; k++) s -= A[r * N + k]! * x[k]!;
    const d = A[r * N + r]!;
    x[r] = d === 0 ? 0 : s / d;
  }
  return x;
}

/**
 * The negative Hessian −∇²ℓ(θ) of the log-posterior in the module comment (n×n, row-major, positive definite thanks
 * to the prior): Σ_R M_R (diag p_R − p_R p_Rᵀ) + diag(λ σ(θ_i)(1 − σ(θ_i))), p_R the choice probabilities in set R.
 * Shapes as in `fitPlackettLuce`; cost O(n² + Σ_R |R|²). Used to precondition bootstrap refits (./pl-bootstrap.ts).
 */
export function plNegHessian(theta: Float64Array, setPtr: Int32Array, setIdx: IndexArray, setMult: Float64Array | Int32Array, prior = 1): Float64Array {
  const n = theta.length;
  const H = new Float64Array(n * n);
  const p = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const e = 1 / (1 + Math.exp(-theta[i]!));
    H[i * n + i] = prior * e * (1 - e);
  }
  for (let s = 0; s < setMult.length; s++) {
    const m = setMult[s]!;
    if (!(m > 0)) continue;
    const a = setPtr[s]!, b = setPtr[s + 1]!;
    let mx = -Infinity;
    for (let q = a; q < b; q++) mx = Math.max(mx, theta[setIdx[q]!]!);
    let D = 0;
    for (let q = a; q < b; q++) D += p[setIdx[q]!] = Math.exp(theta[setIdx[q]!]! - mx);
    for (let q = a; q < b; q++) {
      const i = setIdx[q]!;
      const pi = p[i]! / D;
      H[i * n + i]! += m * pi;
      for (let r = a; r < b; r++) {
        const j = setIdx[r]!;
        H[i * n + j]! -= m * pi * (p[j]! / D);
      }
    }
  }
  return H;
}

/** Damped Newton on ℓ(θ); the negative Hessian is positive definite thanks to the prior (Cholesky). */
function newton(theta: Float64Array, setPtr: Int32Array, setIdx: IndexArray, wins: Float64Array, setMult: Float64Array | Int32Array, act: Active, lambda: number, tol: number): { steps: number; converged: boolean } {
  const n = theta.length;
  const grad = new Float64Array(n);
  const H = new Float64Array(n * n);
  const p = new Float64Array(n);
  let cur = plLogPosterior(theta, setPtr, setIdx, wins, setMult, lambda);
  const trial = new Float64Array(n);
  for (let step = 0; step < 60; step++) {
    grad.fill(0);
    H.fill(0);
    for (let i = 0; i < n; i++) {
      const e = 1 / (1 + Math.exp(-theta[i]!));
      grad[i] = wins[i]! + lambda / 2 - lambda * e;
      H[i * n + i] = lambda * e * (1 - e);
    }
    for (let k = 0; k < act.sets.length; k++) {
      const s = act.sets[k]!;
      const a = setPtr[s]!, b = setPtr[s + 1]!;
      const m = act.mult[k]!;
      let mx = -Infinity;
      for (let q = a; q < b; q++) mx = Math.max(mx, theta[setIdx[q]!]!);
      let D = 0;
      for (let q = a; q < b; q++) D += p[setIdx[q]!] = Math.exp(theta[setIdx[q]!]! - mx);
      for (let q = a; q < b; q++) {
        const i = setIdx[q]!;
        const pi = p[i]! / D;
        grad[i]! -= m * pi;
        H[i * n + i]! += m * pi;
        const row = i * n;
        for (let r = a; r < b; r++) {
          const j = setIdx[r]!;
          H[row + j]! -= m * pi * (p[j]! / D);
        }
      }
    }
    let gmax = 0;
    for (let i = 0; i < n; i++) gmax = Math.max(gmax, Math.abs(grad[i]!));
    if (gmax < tol) return { steps: step, converged: true };
    const delta = choleskySolve(H, grad, n);
    if (!delta) return { steps: step, converged: false };
    let t = 1;
    let improved = false;
    for (let h = 0; h < 40; h++) {
      for (let i = 0; i < n; i++) trial[i] = theta[i]! + t * delta[i]!;
      const val = plLogPosterior(trial, setPtr, setIdx, wins, setMult, lambda);
      if (val >= cur - 1e-12 * Math.abs(cur)) {
        theta.set(trial);
        improved = val > cur;
        cur = val;
        break;
      }
      t /= 2;
    }
    // No further ascent possible in floating point: converged if the gradient is small relative to the data.
    if (!improved) return { steps: step + 1, converged: gmax < Math.sqrt(tol) };
  }
  return { steps: 60, converged: false };
}

