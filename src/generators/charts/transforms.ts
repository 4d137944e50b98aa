/**
 * Geometric transformations of the plane applied to the graph of a polynomial, as in GRAB's transform task
 * (Roberts, Han, Albanie 2024, §3): rotation about the origin by a multiple of 90°, reflection in an axis, in
 * y = ±x or in a line x = k / y = k, scaling in x or y, translation in x or y. Each is an affine map
 * p ↦ M·p + v (e.g. Foley et al., *Computer Graphics: Principles and Practice*, §5.2), so the transformed graph of
 * f on [a, b] is the parametric curve X(t) = m₁₁t + m₁₂f(t) + v₁, Y(t) = m₂₁t + m₂₂f(t) + v₂, t ∈ [a, b] — for a
 * polynomial f, X and Y are polynomials in t and every property below is exact algebra on them:
 * - max / min: the extrema of Y(t) on [a, b]; range span = max − min; domain length = max X − min X;
 * - gradient (f a line): dY/dX = (m₂₁ + m₂₂f′)/(m₁₁ + m₁₂f′), undefined for a vertical image;
 * - net area (only when X is strictly monotone on [a, b], i.e. the image is the graph of a function of x):
 *   ∫ y dx = sign(X′)·∫_a^b Y(t)X′(t) dt (substitution x = X(t)); total area ∫ |y| dx = ∫_a^b |Y(t)X′(t)| dt.
 */
import { polyAbsIntegral, polyAdd, polyDefiniteIntegral, polyDegree, polyDerivative, polyEval, polyExtrema, polyMul, polyRealRoots, polyScale, type Poly } from './poly.ts';

export type TransformOp =
  | { op: 'rotate'; degrees: 0 | 90 | 180 | 270 }
  | { op: 'reflect'; line: 'x-axis' | 'y-axis' | 'y=x' | 'y=-x' }
  | { op: 'reflect-x'; k: number }
  | { op: 'reflect-y'; k: number }
  | { op: 'scale'; axis: 'x' | 'y'; factor: number }
  | { op: 'translate'; axis: 'x' | 'y'; by: number };

/** An affine map of the plane: (x, y) ↦ (a·x + b·y + e, c·x + d·y + f). */
export interface Affine {
  a: number;
  b: number;
  c: number;
  d: number;
  e: number;
  f: number;
}

export const IDENTITY: Affine = { a: 1, b: 0, c: 0, d: 1, e: 0, f: 0 };

/** The affine map of one operation. Rotation is anticlockwise (the mathematical positive sense). */
export function opAffine(t: TransformOp): Affine {
  switch (t.op) {
    case 'rotate': {
      const [cos, sin] = ({ 0: [1, 0], 90: [0, 1], 180: [-1, 0], 270: [0, -1] } as const)[t.degrees];
      return { a: cos, b: -sin, c: sin, d: cos, e: 0, f: 0 };
    }
    case 'reflect':
      return t.line === 'x-axis' ? { ...IDENTITY, d: -1 } : t.line === 'y-axis' ? { ...IDENTITY, a: -1 } : t.line === 'y=x' ? { a: 0, b: 1, c: 1, d: 0, e: 0, f: 0 } : { a: 0, b: -1, c: -1, d: 0, e: 0, f: 0 };
    case 'reflect-x':
      return { ...IDENTITY, a: -1, e: 2 * t.k };
    case 'reflect-y':
      return { ...IDENTITY, d: -1, f: 2 * t.k };
    case 'scale':
      return t.axis === 'x' ? { ...IDENTITY, a: t.factor } : { ...IDENTITY, d: t.factor };
    case 'translate':
      return t.axis === 'x' ? { ...IDENTITY, e: t.by } : { ...IDENTITY, f: t.by };
  }
}

/** `second ∘ first`: apply `first`, then `second`. */
export function compose(second: Affine, first: Affine): Affine {
  return {
    a: second.a * first.a + second.b * first.c,
    b: second.a * first.b + second.b * first.d,
    c: second.c * first.a + second.d * first.c,
    d: second.c * first.b + second.d * first.d,
    e: second.a * first.e + second.b * first.f + second.e,
    f: second.c * first.e + second.d * first.f + second.f,
  };
}

/** The map of a sequence of operations applied in order (the first listed is applied first). */
export function sequenceAffine(ops: readonly TransformOp[]): Affine {
  return ops.reduce((m, t) => compose(opAffine(t), m), IDENTITY);
}

/** Apply an affine map to a point. */
export function applyAffine(m: Affine, x: number, y: number): [number, number] {
  return [m.a * x + m.b * y + m.e, m.c * x + m.d * y + m.f];
}

const fmtNum = (v: number): string => String(v);

/** The wording of one operation, with its map written out so it cannot be misread. */
export function describeOp(t: TransformOp): string {
  switch (t.op) {
    case 'rotate':
      return `rotation by ${t.degrees} degrees anticlockwise about the origin`;
    case 'reflect':
      return t.line === 'x-axis' ? 'reflection in the x-axis' : t.line === 'y-axis' ? 'reflection in the y-axis' : t.line === 'y=x' ? 'reflection in the line y = x' : 'reflection in the line y = -x';
    case 'reflect-x':
      return `reflection in the line x = ${fmtNum(t.k)}`;
    case 'reflect-y':
      return `reflection in the line y = ${fmtNum(t.k)}`;
    case 'scale':
      return `scaling by a factor of ${fmtNum(t.factor)} in ${t.axis} (${t.axis} ↦ ${fmtNum(t.factor)}${t.axis})`;
    case 'translate':
      return `translation by ${fmtNum(t.by)} in ${t.axis} (${t.axis} ↦ ${t.axis} ${t.by < 0 ? '-' : '+'} ${fmtNum(Math.abs(t.by))})`;
  }
}

/** The transformed graph of polynomial f on [a, b] as polynomials X(t), Y(t). */
export function transformedCurve(f: Poly, m: Affine): { X: number[]; Y: number[] } {
  return { X: polyAdd(polyAdd([m.e], [0, m.a]), polyScale(f, m.b)), Y: polyAdd(polyAdd([m.f], [0, m.c]), polyScale(f, m.d)) };
}

/** Properties of a transformed polynomial graph; null where undefined (see the module comment). */
export interface TransformedProperties {
  max: number;
  min: number;
  range_span: number;
  domain_length: number;
  /** For a line only; null when the image is vertical or f is not a line. */
  gradient: number | null;
  /** Null when the image is not the graph of a function of x (X not strictly monotone). */
  net_area: number | null;
  total_area: number | null;
}

/**
 * Every property of the image of the graph of f on [a, b] under m.
 * @param f polynomial coefficients, lowest degree first
 */
export function transformedProperties(f: Poly, a: number, b: number, m: Affine): TransformedProperties {
  const { X, Y } = transformedCurve(f, m);
  const ey = polyExtrema(Y, a, b), ex = polyExtrema(X, a, b);
  const deg = f.length > 2 && f.slice(2).some((c) => c !== 0) ? 2 : 1;
  let gradient: number | null = null;
  if (deg === 1) {
    const slope = f[1] ?? 0;
    const dx = m.a + m.b * slope, dy = m.c + m.d * slope;
    gradient = Math.abs(dx) < 1e-12 * Math.max(1, Math.abs(dy)) ? null : dy / dx;
  }
  const dX = polyDerivative(X);
  const interior = polyRealRoots(dX, a, b).filter((r) => r > a && r < b);
  let net: number | null = null, total: number | null = null;
  // X strictly monotone on [a, b]: X′ is not the zero polynomial and has no root inside (a, b) — a touching root
  // is excluded too (a vertical tangent there reads ambiguously)
  if (interior.length === 0 && polyDegree(dX) >= 0) {
    const sign = Math.sign(polyEval(dX, (a + b) / 2));
    const integrand = polyMul(Y, dX);
    net = sign * polyDefiniteIntegral(integrand, a, b);
    total = polyAbsIntegral(integrand, a, b);
  }
  return { max: ey.max, min: ey.min, range_span: ey.max - ey.min, domain_length: ex.max - ex.min, gradient, net_area: net, total_area: total };
}
