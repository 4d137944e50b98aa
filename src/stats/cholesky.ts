/**
 * Solve A x = b for a symmetric positive-definite A (n×n, row-major; overwritten by its Cholesky factor L, A = L Lᵀ)
 * by forward and back substitution (Golub & Van Loan, "Matrix Computations", 4th ed., §4.2). Returns null when A is
 * not positive definite (a non-positive pivot).
 */
export function choleskySolve(A: Float64Array, b: Float64Array, n: number): Float64Array | null {
  if (!choleskyFactor(A, n)) return null;
  return choleskySubstitute(A, b, n, new Float64Array(n));
}

/**
 * Cholesky factorisation in place (Golub & Van Loan 2013, §4.2, Alg. 4.2.1, column form): the lower triangle of
 * A (n×n, row-major, symmetric positive definite) becomes L with A = L Lᵀ (the upper triangle is left as it was).
 * Returns false when a pivot is not positive (A not positive definite; A is then partly overwritten).
 */
export function choleskyFactor(A: Float64Array, n: number): boolean {
  for (let j = 0; j < n; j++) {
    let d = A[j * n + j]!;
    for (let k = 0; k < j; k++) d -= A[j * n + k]! * A[j * n + k]!;
    if (!(d > 0)) return false;
    const L = Math.sqrt(d);
    A[j * n + j] = L;
    for (let i = j + 1; i < n; i++) {
      let s = A[i * n + j]!;
      for (let k = 0; k < j; k++) s -= A[i * n + k]! * A[j * n + k]!;
      A[i * n + j] = s / L;
    }
  }
  return true;
}

/**
 * Solve L Lᵀ x = b given the factor from `choleskyFactor` (forward then back substitution, O(n²)); writes x into
 * `out` (length n, may not alias `b`) and returns it.
 */
export function choleskySubstitute(L: Float64Array, b: Float64Array, n: number, out: Float64Array): Float64Array {
  const x = out;
  for (let i = 0; i < n; i++) {
    let s = b[i]!;
    for (let k = 0; k < i; k++) s -= L[i * n + k]! * x[k]!;
    x[i] = s / L[i * n + i]!;
  }
  for (let i = n - 1; i >= 0; i--) {
    let s = x[i]!;
    for (let k = i + 1; k < n; k++) s -= L[k * n + i]! * x[k]!;
    x[i] = s / L[i * n + i]!;
  }
  return x;
}
