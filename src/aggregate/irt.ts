/**
 * Item-response models on a models × samples binary matrix (`BinaryMatrix`, matrix.ts): the samples become
 * parameters of the fit instead of being conditioned away.
 *
 * - {@link fitSamplePlayers}: Plackett–Luce with every sample as a player. A binary measurement of model m on
 *   sample s is one Bradley–Terry game (the |R| = 2 case of Plackett–Luce) between m and s: the model wins when it
 *   is right, with P = γ_m / (γ_m + γ_s) = σ(θ_m − β_s). This is the Rasch (1960) model, with β_s the sample's
 *   difficulty. Every measurement counts, including the orderings the listwise fit (choices.ts) has to drop: a
 *   sample measured on one model only, or answered alike by every model measured on it. On a complete matrix the
 *   θ order is the order of the models' mean scores (the raw score is sufficient in the Rasch model).
 * - {@link fit2PL}: the two-parameter logistic model (Birnbaum 1968) in slope–intercept form,
 *   P(m right on s) = σ(α_s θ_m − β_s), fitted on a set of models (joint MAP), for choosing anchor items
 *   (subset.ts; Polo et al. 2024, "tinyBenchmarks: evaluating LLMs with fewer examples", §3).
 * - {@link kMeans}: seeded k-means (k-means++ seeding, Arthur & Vassilvitskii 2007; Lloyd iterations) used to
 *   cluster item embeddings into anchor points.
 */
import type { Rng } from '../core/rng.ts';
import { isSparse, sparseOf, type AnyBinaryMatrix, type BinaryMatrix } from './matrix.ts';
import { choleskySolve } from '../stats/cholesky.ts';

const sigma = (x: number) => 1 / (1 + Math.exp(-x));
const log1pexp = (x: number) => (x > 30 ? x : x < -30 ? Math.exp(x) : Math.log1p(Math.exp(x)));

/** Options of {@link fitSamplePlayers}. */
export interface SamplePlayersOptions {
  /** Prior strength on the models (virtual games against the anchor θ = 0, as in plackett-luce.ts); default 1. */
  prior?: number;
  /**
   * Prior strength on the samples' difficulties, in virtual games against the anchor (default 2: a logistic
   * prior on β with scale 1, i.e. standard deviation π/√3 ≈ 1.8 logits). It decides how much a sample measured
   * on one model says: with no other model on it, a right answer moves the model up as a win against an opponent
   * of unknown strength around 0 would.
   */
  samplePrior?: number;
  /** Stop when max |gradient| < tol (default 1e-8) or after maxSteps Newton steps (default 100). */
  tol?: number;
  maxSteps?: number;
}

/** Result of {@link fitSamplePlayers}: θ per model (rank by it), β per sample (difficulty), and convergence. */
export interface SamplePlayersFit {
  theta: Float64Array;
  difficulty: Float64Array;
  logPosterior: number;
  steps: number;
  converged: boolean;
}

/**
 * Fit Plackett–Luce with the samples as players (the Rasch model, see the module comment) by MAP with the anchor
 * prior of plackett-luce.ts on every player: ℓ = Σ_cells [y η − log(1 + e^η)] + Σ_i λ_i [φ_i/2 − log(1 + e^φ_i)],
 * η = θ_m − β_s, λ_i = `prior` for models and `samplePrior` for samples. Cells are those measured (not NaN) with
 * keep[m·S + s] = 1 (a sparse matrix: keep[k] = 1 for its cell k; keep = null: all) in the samples of
 * `sampleSubset` (null: all); either form gives the same fit; fractional values y ∈ [0, 1]
 * (avg@k) are soft wins.
 * Damped Newton; the sample block of the Hessian is diagonal (a game is always model vs sample), so each step
 * eliminates it through the Schur complement: cost O(Σ_s n_s² + M³) per step with n_s models measured on sample s,
 * instead of O((M + S)³).
 * Shapes: θ length M (models), β length S (samples; a sample with no kept cell stays at 0).
 * Errors: RangeError when a prior strength is not > 0.
 */
export function fitSamplePlayers(mat: AnyBinaryMatrix, keep: Uint8Array | null = null, opts: SamplePlayersOptions & { sampleSubset?: Int32Array | null } = {}): SamplePlayersFit {
  const M = mat.models.length, S = mat.sampleKeys.length;
  const lm = opts.prior ?? 1, ls = opts.samplePrior ?? 2;
  if (!(lm > 0 && ls > 0)) throw new RangeError('prior strengths must be > 0');
  const { ptr, cm, cy } = cellsBySample(mat, keep, opts.sampleSubset ?? null);
  const theta = new Float64Array(M), beta = new Float64Array(S);
  const tol = opts.tol ?? 1e-8, maxSteps = opts.maxSteps ?? 100;
  const gT = new Float64Array(M), A = new Float64Array(M * M), r = new Float64Array(M), gB = new Float64Array(S), dB = new Float64Array(S);
  const w = new Float64Array(cm.length);
  const tT = new Float64Array(M), tB = new Float64Array(S), dBeta = new Float64Array(S);
  const logPost = (th: Float64Array, be: Float64Array) => raschLogPosterior(th, be, ptr, cm, cy, lm, ls);
  let cur = logPost(theta, beta);
  let steps = 0, converged = false;
  for (; steps < maxSteps; steps++) {
    const gmax = raschGradient(theta, beta, ptr, cm, cy, lm, ls, gT, A, gB, dB, w);
    if (gmax < tol) {
      converged = true;
      break;
    }
    const dT = schurStep(A, r, gT, gB, dB, ptr, cm, w, dBeta);
    if (!dT) break;
    let t = 1, improved = false;
    for (let h = 0; h < 40; h++) {
      for (let m = 0; m < M; m++) tT[m] = theta[m]! + t * dT[m]!;
      for (let s = 0; s < S; s++) tB[s] = beta[s]! + t * dBeta[s]!;
      const v = logPost(tT, tB);
      if (v >= cur - 1e-12 * Math.abs(cur)) {
        improved = v > cur;
        theta.set(tT);
        beta.set(tB);
        cur = v;
        break;
      }
      t /= 2;
    }
    if (!improved) {
      converged = gmax < Math.sqrt(tol);
      steps++;
      break;
    }
  }
  return { theta, difficulty: beta, logPosterior: cur, steps, converged };
}

/** Kept cells grouped by sample (CSR): sample s has models cm[ptr[s] .. ptr[s+1]) with values cy. */
function cellsBySample(mat: AnyBinaryMatrix, keep: Uint8Array | null, subset: Int32Array | null): { ptr: Int32Array; cm: Int32Array; cy: Float64Array } {
  const M = mat.models.length, S = mat.sampleKeys.length;
  const use = new Uint8Array(S).fill(subset ? 0 : 1);
  if (subset) for (const s of subset) use[s] = 1;
  const ptr = new Int32Array(S + 1);
  if (isSparse(mat)) {
    // the measured cells (models ascending within a sample, as the dense loop visits them); keep is per cell
    const okK = (k: number) => !Number.isNaN(mat.cellValue[k]!) && (keep === null || keep[k] === 1);
    for (let s = 0; s < S; s++) {
      let n = 0;
      if (use[s]) for (let k = mat.samplePtr[s]!; k < mat.samplePtr[s + 1]!; k++) if (okK(k)) n++;
      ptr[s + 1] = ptr[s]! + n;
    }
    const cm = new Int32Array(ptr[S]!), cy = new Float64Array(ptr[S]!);
    for (let s = 0, j = 0; s < S; s++) {
      if (!use[s]) continue;
      for (let k = mat.samplePtr[s]!; k < mat.samplePtr[s + 1]!; k++) {
        if (!okK(k)) continue;
        cm[j] = mat.cellModel[k]!;
        cy[j++] = mat.cellValue[k]!;
      }
    }
    return { ptr, cm, cy };
  }
  const ok = (m: number, s: number) => use[s] === 1 && !Number.isNaN(mat.values[m * S + s]!) && (keep === null || keep[m * S + s] === 1);
  for (let s = 0; s < S; s++) {
    let n = 0;
    for (let m = 0; m < M; m++) if (ok(m, s)) n++;
    ptr[s + 1] = ptr[s]! + n;
  }
  const cm = new Int32Array(ptr[S]!), cy = new Float64Array(ptr[S]!);
  for (let s = 0, k = 0; s < S; s++) {
    for (let m = 0; m < M; m++) {
      if (!ok(m, s)) continue;
      cm[k] = m;
      cy[k++] = mat.values[m * S + s]!;
    }
  }
  return { ptr, cm, cy };
}

/** ℓ(θ, β) of {@link fitSamplePlayers}. */
function raschLogPosterior(theta: Float64Array, beta: Float64Array, ptr: Int32Array, cm: Int32Array, cy: Float64Array, lm: number, ls: number): number {
  let l = 0;
  for (let m = 0; m < theta.length; m++) l += lm * (theta[m]! / 2 - log1pexp(theta[m]!));
  for (let s = 0; s < beta.length; s++) {
    const a = ptr[s]!, b = ptr[s + 1]!;
    if (a === b) continue;
    const bs = beta[s]!;
    l += ls * (bs / 2 - log1pexp(bs));
    for (let k = a; k < b; k++) {
      const eta = theta[cm[k]!]! - bs;
      l += cy[k]! * eta - log1pexp(eta);
    }
  }
  return l;
}

/**
 * Gradient (gT for models, gB for samples) and negative Hessian (A: model block, dense M×M; dB: the diagonal
 * sample block; w: the off-diagonal model–sample entries, one per cell) of ℓ. Returns max |gradient|.
 */
function raschGradient(theta: Float64Array, beta: Float64Array, ptr: Int32Array, cm: Int32Array, cy: Float64Array, lm: number, ls: number, gT: Float64Array, A: Float64Array, gB: Float64Array, dB: Float64Array, w: Float64Array): number {
  const M = theta.length;
  A.fill(0);
  for (let m = 0; m < M; m++) {
    const e = sigma(theta[m]!);
    gT[m] = lm * (0.5 - e);
    A[m * M + m] = lm * e * (1 - e);
  }
  let gmax = 0;
  for (let s = 0; s < beta.length; s++) {
    const a = ptr[s]!, b = ptr[s + 1]!;
    if (a === b) {
      gB[s] = 0;
      dB[s] = 1;
      continue;
    }
    const bs = beta[s]!;
    const e = sigma(bs);
    let g = ls * (0.5 - e), d = ls * e * (1 - e);
    for (let k = a; k < b; k++) {
      const m = cm[k]!;
      const p = sigma(theta[m]! - bs);
      const res = cy[k]! - p;
      const wk = p * (1 - p);
      w[k] = wk;
      gT[m] = gT[m]! + res;
      g -= res;
      A[m * M + m] = A[m * M + m]! + wk;
      d += wk;
    }
    gB[s] = g;
    dB[s] = d;
    gmax = Math.max(gmax, Math.abs(g));
  }
  for (let m = 0; m < M; m++) gmax = Math.max(gmax, Math.abs(gT[m]!));
  return gmax;
}

/**
 * Newton direction by the Schur complement of the diagonal sample block: (A − Σ_s w_s w_sᵀ / d_s) Δθ =
 * g_θ + Σ_s w_s g_s / d_s, then Δβ_s = (g_s + w_sᵀ Δθ) / d_s (written to dBeta). A is overwritten. Null if the
 * reduced system is not positive definite.
 */
function schurStep(A: Float64Array, r: Float64Array, gT: Float64Array, gB: Float64Array, dB: Float64Array, ptr: Int32Array, cm: Int32Array, w: Float64Array, dBeta: Float64Array): Float64Array | null {
  const M = gT.length;
  r.set(gT);
  for (let s = 0; s < gB.length; s++) {
    const a = ptr[s]!, b = ptr[s + 1]!;
    if (a === b) continue;
    const inv = 1 / dB[s]!, gs = gB[s]!;
    for (let k = a; k < b; k++) {
      const m = cm[k]!;
      const wk = w[k]! * inv;
      r[m] = r[m]! + wk * gs;
      const row = m * M;
      for (let q = a; q < b; q++) {
        const j = row + cm[q]!;
        A[j] = A[j]! - wk * w[q]!;
      }
    }
  }
  const dT = choleskySolve(A, r, M);
  if (!dT) return null;
  for (let s = 0; s < gB.length; s++) {
    let x = gB[s]!;
    for (let k = ptr[s]!; k < ptr[s + 1]!; k++) x += w[k]! * dT[cm[k]!]!;
    dBeta[s] = x / dB[s]!;
  }
  return dT;
}


/** A fitted two-parameter logistic model: P(m right on s) = σ(α_s θ_m − β_s). */
export interface TwoPL {
  /** Ability per model of the fit (NaN for models not in the fit). */
  theta: Float64Array;
  /** Discrimination (slope) and intercept per sample. */
  alpha: Float64Array;
  beta: Float64Array;
  rounds: number;
}

/**
 * Joint MAP fit of the 2PL model on the models with `models[m] = 1` (null: all), alternating one Newton step per
 * model (θ) and per sample ((α, β), a 2×2 system) until the largest change is below `tol` (default 1e-3) or
 * `rounds` (default 50) rounds. Priors (Gaussian, the usual ones of IRT software): θ ~ N(0, 1) (sets the
 * scale), α ~ N(1, 1), β ~ N(0, 2²). Only measured cells count, read by sample from the sparse form (a dense matrix
 * is converted; each sum runs in the same order either way, so both give the same fit): cost O(measured cells) per
 * round. Returns θ for the fitted models and (α, β) for every sample (a sample no fitted model was measured on keeps
 * its prior mode (1, 0)).
 */
export function fit2PL(mat: AnyBinaryMatrix, models: Uint8Array | null = null, opts: { rounds?: number; tol?: number } = {}): TwoPL {
  const sp = sparseOf(mat);
  const M = sp.models.length, S = sp.sampleKeys.length;
  const ptr = sp.samplePtr, cm = sp.cellModel, cv = sp.cellValue;
  const used = new Uint8Array(M);
  const use = Array.from({ length: M }, (_, m) => m).filter((m) => !models || models[m]);
  for (const m of use) used[m] = 1;
  const theta = new Float64Array(M).fill(NaN);
  const alpha = new Float64Array(S).fill(1), beta = new Float64Array(S);
  // start θ from the standardised logit of each model's accuracy (each model's values summed in sample order)
  const s1 = new Float64Array(M), cnt = new Float64Array(M);
  for (let k = 0; k < cm.length; k++) {
    const m = cm[k]!;
    if (!used[m]) continue;
    s1[m]! += cv[k]!;
    cnt[m]!++;
  }
  for (const m of use) {
    const p = Math.min(0.99, Math.max(0.01, cnt[m] ? s1[m]! / cnt[m]! : 0.5));
    theta[m] = Math.log(p / (1 - p));
  }
  const mu = use.reduce((a, m) => a + theta[m]!, 0) / Math.max(1, use.length);
  const sd = Math.sqrt(use.reduce((a, m) => a + (theta[m]! - mu) ** 2, 0) / Math.max(1, use.length)) || 1;
  for (const m of use) theta[m] = (theta[m]! - mu) / sd;
  const rounds = opts.rounds ?? 50, tol = opts.tol ?? 1e-3;
  const gM = new Float64Array(M), hM = new Float64Array(M);
  let r = 0;
  for (; r < rounds; r++) {
    let change = 0;
    // samples: one Newton step on (α, β) with priors α ~ N(1, 1), β ~ N(0, 4)
    for (let s = 0; s < S; s++) {
      let ga = -(alpha[s]! - 1), gb = -beta[s]! / 4, haa = 1, hab = 0, hbb = 0.25;
      for (let k = ptr[s]!, e = ptr[s + 1]!; k < e; k++) {
        const m = cm[k]!;
        if (!used[m]) continue;
        const y = cv[k]!;
        const th = theta[m]!;
        const p = sigma(alpha[s]! * th - beta[s]!);
        const w = p * (1 - p);
        ga += (y - p) * th;
        gb -= y - p;
        haa += w * th * th;
        hab -= w * th;
        hbb += w;
      }
      const det = haa * hbb - hab * hab;
      if (!(det > 0)) continue;
      let da = (hbb * ga - hab * gb) / det, db = (haa * gb - hab * ga) / det;
      const big = Math.max(Math.abs(da), Math.abs(db));
      if (big > 1) {
        da /= big;
        db /= big;
      }
      alpha[s]! += da;
      beta[s]! += db;
      change = Math.max(change, big);
    }
    // models: one Newton step on θ with prior N(0, 1); every model's sums in one pass over the samples, in sample order
    for (const m of use) {
      gM[m] = -theta[m]!;
      hM[m] = 1;
    }
    for (let s = 0; s < S; s++) {
      const as = alpha[s]!, bs = beta[s]!;
      for (let k = ptr[s]!, e = ptr[s + 1]!; k < e; k++) {
        const m = cm[k]!;
        if (!used[m]) continue;
        const y = cv[k]!;
        const p = sigma(as * theta[m]! - bs);
        gM[m]! += (y - p) * as;
        hM[m]! += p * (1 - p) * as * as;
      }
    }
    for (const m of use) {
      const d = Math.max(-1, Math.min(1, gM[m]! / hM[m]!));
      theta[m]! += d;
      change = Math.max(change, Math.abs(d));
    }
    if (change < tol) {
      r++;
      break;
    }
  }
  return { theta, alpha, beta, rounds: r };
}

/**
 * Fisher information of each sample about θ under the 2PL, averaged over the abilities of the fitted models:
 * I_s = α_s² · mean_m p_ms (1 − p_ms) (Lord 1980, "Applications of item response theory to practical testing
 * problems", ch. 5). High for discriminating samples whose difficulty lies among the models' abilities; near 0 for
 * samples every model gets right (or wrong).
 */
export function itemInformation(irt: TwoPL): Float64Array {
  const ths = Array.from(irt.theta).filter((t) => !Number.isNaN(t));
  return Float64Array.from(irt.alpha, (a, s) => {
    let sum = 0;
    for (const th of ths) {
      const p = sigma(a * th - irt.beta[s]!);
      sum += p * (1 - p);
    }
    return ths.length ? (a * a * sum) / ths.length : 0;
  });
}

/**
 * MAP ability (prior N(0, 1)) of one model from its answers `ys` on samples `items` under fixed 2PL parameters
 * (NaN answers are skipped). Newton on a one-dimensional concave function.
 */
export function abilityMAP(irt: Pick<TwoPL, 'alpha' | 'beta'>, items: ArrayLike<number>, ys: ArrayLike<number>): number {
  let th = 0;
  for (let it = 0; it < 50; it++) {
    let g = -th, h = 1;
    for (let k = 0; k < items.length; k++) {
      const y = ys[k]!;
      if (Number.isNaN(y)) continue;
      const s = items[k]!;
      const p = sigma(irt.alpha[s]! * th - irt.beta[s]!);
      g += (y - p) * irt.alpha[s]!;
      h += p * (1 - p) * irt.alpha[s]! ** 2;
    }
    const d = Math.max(-2, Math.min(2, g / h));
    th += d;
    if (Math.abs(d) < 1e-8) break;
  }
  return th;
}

/**
 * k-means on n points of dimension `dim` (`x[i * dim + j]`), k-means++ seeding then Lloyd iterations until no
 * point changes cluster or `iters` (default 50). Seeded by `rng`. Returns each point's cluster and the centroids.
 * Errors: RangeError when k < 1 or k > n.
 */
export function kMeans(x: Float64Array, dim: number, k: number, rng: Rng, iters = 50): { assign: Int32Array; centroids: Float64Array } {
  const n = x.length / dim;
  if (!(k >= 1 && k <= n)) throw new RangeError(`k must be between 1 and ${n}, got ${k}`);
  const c = new Float64Array(k * dim);
  const d2 = new Float64Array(n).fill(Infinity);
  const dist = (i: number, j: number) => {
    let s = 0;
    for (let t = 0; t < dim; t++) s += (x[i * dim + t]! - c[j * dim + t]!) ** 2;
    return s;
  };
  // k-means++
  let first = rng.index(n);
  for (let j = 0; j < k; j++) {
    if (j > 0) {
      let total = 0;
      for (let i = 0; i < n; i++) total += d2[i]!;
      let u = rng.float() * total;
      first = n - 1;
      if (total > 0) {
        for (let i = 0; i < n; i++) {
          u -= d2[i]!;
          if (u <= 0) {
            first = i;
            break;
          }
        }
      } else first = rng.index(n);
    }
    for (let t = 0; t < dim; t++) c[j * dim + t] = x[first * dim + t]!;
    for (let i = 0; i < n; i++) d2[i] = Math.min(d2[i]!, dist(i, j));
  }
  const assign = new Int32Array(n).fill(-1);
  const sum = new Float64Array(k * dim), cnt = new Int32Array(k);
  for (let it = 0; it < iters; it++) {
    let moved = 0;
    for (let i = 0; i < n; i++) {
      let best = 0, bd = Infinity;
      for (let j = 0; j < k; j++) {
        const d = dist(i, j);
        if (d < bd) {
          bd = d;
          best = j;
        }
      }
      if (assign[i] !== best) {
        assign[i] = best;
        moved++;
      }
    }
    if (!moved) break;
    sum.fill(0);
    cnt.fill(0);
    for (let i = 0; i < n; i++) {
      const j = assign[i]!;
      cnt[j]!++;
      for (let t = 0; t < dim; t++) sum[j * dim + t]! += x[i * dim + t]!;
    }
    for (let j = 0; j < k; j++) if (cnt[j]) for (let t = 0; t < dim; t++) c[j * dim + t] = sum[j * dim + t]! / cnt[j]!;
  }
  return { assign, centroids: c };
}
