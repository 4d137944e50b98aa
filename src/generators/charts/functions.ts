/**
 * The plotted functions of the chart generators and their properties, computed analytically from the parameters
 * (never from pixels). Three families, each on a closed domain [a, b] (the plotted x interval):
 * - `polynomial`: y = Σ cᵢ xⁱ (coefficients lowest degree first; lines, quadratics, cubics, quartics);
 * - `sine`: y = A·sin(B·x + C) + D;
 * - `gaussian`: y = H·exp(−(x − μ)² / (2σ²)), the bell curve of a normal density scaled to peak height H.
 *
 * Formulas: amplitude |A|, period 2π/|B|, vertical shift D (the standard sinusoid, e.g. Stewart, *Precalculus*,
 * §5.3); the bell curve's "mean" is μ (its peak) and its "variance" σ² (the normal density's parameters);
 * extrema of a differentiable function on a closed interval lie at an end or a stationary point (closed interval
 * method, Stewart, *Calculus*, §4.1); areas from antiderivatives (fundamental theorem of calculus), the total area
 * ∫|f| split at the roots of f.
 */
import { polyAbsIntegral, polyDefiniteIntegral, polyDegree, polyDerivative, polyEval, polyExtrema, polyRealRoots, type Poly } from './poly.ts';

export type ChartFunction =
  | { family: 'polynomial'; coeffs: number[]; domain: [number, number] }
  | { family: 'sine'; A: number; B: number; C: number; D: number; domain: [number, number] }
  | { family: 'gaussian'; H: number; mu: number; sigma: number; domain: [number, number] };

/** f(x). */
export function evalFunction(f: ChartFunction, x: number): number {
  switch (f.family) {
    case 'polynomial':
      return polyEval(f.coeffs, x);
    case 'sine':
      return f.A * Math.sin(f.B * x + f.C) + f.D;
    case 'gaussian':
      return f.H * Math.exp(-((x - f.mu) ** 2) / (2 * f.sigma ** 2));
  }
}

/**
 * Stationary points (f′ = 0) strictly inside the domain, ascending. Sine: x = (π/2 + kπ − C)/B; bell curve: μ;
 * polynomial: the real roots of f′.
 */
export function stationaryPoints(f: ChartFunction): number[] {
  const [a, b] = f.domain;
  switch (f.family) {
    case 'polynomial':
      return polyRealRoots(polyDerivative(f.coeffs), a, b).filter((x) => x > a && x < b);
    case 'sine': {
      const out: number[] = [];
      const B = Math.abs(f.B), C = f.B < 0 ? -f.C + Math.PI : f.C; // A sin(Bx + C) = A sin(|B|x + C') up to sign of A
      const k0 = Math.ceil((B * a + C - Math.PI / 2) / Math.PI);
      for (let k = k0; ; k++) {
        const x = (Math.PI / 2 + k * Math.PI - C) / B;
        if (x >= b) break;
        if (x > a) out.push(x);
      }
      return out;
    }
    case 'gaussian':
      return f.mu > a && f.mu < b ? [f.mu] : [];
  }
}

/** Maximum and minimum of f on its domain (closed interval method: ends and stationary points). */
export function functionExtrema(f: ChartFunction): { max: number; min: number } {
  if (f.family === 'polynomial') {
    const e = polyExtrema(f.coeffs, f.domain[0], f.domain[1]);
    return { max: e.max, min: e.min };
  }
  let max = -Infinity, min = Infinity;
  for (const x of [f.domain[0], f.domain[1], ...stationaryPoints(f)]) {
    const y = evalFunction(f, x);
    if (y > max) max = y;
    if (y < min) min = y;
  }
  return { max, min };
}

/**
 * Net area ∫_a^b f(x) dx (area above the x-axis counts positive, below negative) over the domain.
 * @throws Error for the bell curve (no elementary antiderivative; not used for area questions)
 */
export function netArea(f: ChartFunction): number {
  const [a, b] = f.domain;
  switch (f.family) {
    case 'polynomial':
      return polyDefiniteIntegral(f.coeffs, a, b);
    case 'sine': {
      const F = (x: number) => (-f.A / f.B) * Math.cos(f.B * x + f.C) + f.D * x;
      return F(b) - F(a);
    }
    case 'gaussian':
      throw new Error('area of the bell curve is not supported');
  }
}

/**
 * Total area ∫_a^b |f(x)| dx (every region between the curve and the x-axis counts positive).
 * @throws Error for the sine and bell curve families (area questions use polynomials)
 */
export function totalArea(f: ChartFunction): number {
  if (f.family !== 'polynomial') throw new Error(`total area of the ${f.family} family is not supported`);
  return polyAbsIntegral(f.coeffs, f.domain[0], f.domain[1]);
}

/** The x-intercepts (roots) of f in its domain, ascending. Polynomials only (the intercept questions use lines). */
export function xIntercepts(f: ChartFunction): number[] {
  if (f.family !== 'polynomial') throw new Error(`x-intercepts of the ${f.family} family are not supported`);
  return polyRealRoots(f.coeffs, f.domain[0], f.domain[1]);
}

/** The phase C of a sinusoid normalised to A > 0, B > 0 and C ∈ (−π, π] (the form the phase questions state). */
export function normalisedSine(f: Extract<ChartFunction, { family: 'sine' }>): { A: number; B: number; C: number; D: number } {
  let { A, B, C } = f;
  if (B < 0) {
    // A sin(Bx + C) = A sin(−(|B|x − C)) = −A sin(|B|x − C)
    B = -B;
    C = -C;
    A = -A;
  }
  if (A < 0) {
    // −|A| sin(θ) = |A| sin(θ + π)
    A = -A;
    C += Math.PI;
  }
  C = C - 2 * Math.PI * Math.ceil((C - Math.PI) / (2 * Math.PI)); // into (−π, π]
  return { A, B, C, D: f.D };
}

/** The polynomial of a polynomial function (for transforms), or an error naming the family. */
export function polyOf(f: ChartFunction): Poly {
  if (f.family !== 'polynomial') throw new Error(`not a polynomial: ${f.family}`);
  return f.coeffs;
}

/** Degree of a polynomial function (trailing zero coefficients ignored). */
export function degreeOf(f: ChartFunction): number {
  return f.family === 'polynomial' ? polyDegree(f.coeffs) : NaN;
}
