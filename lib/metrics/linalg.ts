/**
 * Dense double-precision linear algebra for small symmetric matrices (up to a few hundred rows),
 * enough for Frechet distances on 128 features without tensors. Matrices are row-major
 * `Float64Array`s of n * n values.
 */

/** Eigenvalues (ascending) and, when requested, unit eigenvectors as the columns of `vectors`. */
export interface SymmetricEigen {
  values: Float64Array;
  /** Row-major n * n; column j is the eigenvector of `values[j]`. Absent unless requested. */
  vectors?: Float64Array;
}

/** Sweeps after which the Jacobi method gives up; it converges in under 15 for n <= 512. */
const MAX_SWEEPS = 60;

/**
 * Decomposes a symmetric matrix with the cyclic Jacobi method: A = V diag(values) V^T.
 *
 * Jacobi is slower than tridiagonalisation + QL but computes small eigenvalues to high relative
 * accuracy, which matters because the Frechet distance takes their square roots.
 * Only the upper triangle of `matrix` is read; the input is not modified.
 */
export function symmetricEigen(
  matrix: Float64Array,
  n: number,
  options: { vectors?: boolean } = {},
): SymmetricEigen {
  if (matrix.length !== n * n) {
    throw new Error(`symmetricEigen: expected ${n * n} values for ${n}x${n}, got ${matrix.length}`);
  }
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = i; j < n; j++) {
      a[i * n + j] = matrix[i * n + j];
      a[j * n + i] = matrix[i * n + j];
    }
  }
  const v = options.vectors ? identity(n) : undefined;

  for (let sweep = 0; sweep < MAX_SWEEPS; sweep++) {
    let offDiagonal = 0;
    let diagonal = 0;
    for (let i = 0; i < n; i++) {
      diagonal += a[i * n + i] * a[i * n + i];
      for (let j = i + 1; j < n; j++) offDiagonal += a[i * n + j] * a[i * n + j];
    }
    // Converged when the off-diagonal mass is rounding noise next to the diagonal.
    if (offDiagonal <= 1e-30 * diagonal || offDiagonal === 0) break;

    for (let p = 0; p < n - 1; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = a[p * n + q];
        if (apq === 0) continue;
        const app = a[p * n + p];
        const aqq = a[q * n + q];
        // Skip rotations that cannot change either diagonal entry in double precision.
        if (Math.abs(apq) < 1e-18 * (Math.abs(app) + Math.abs(aqq))) {
          a[p * n + q] = 0;
          a[q * n + p] = 0;
          continue;
        }
        rotate(a, v, n, p, q, app, aqq, apq);
      }
    }
  }

  return sortAscending(a, v, n);
}

/**
 * Applies the Jacobi rotation that zeroes a[p][q], choosing the smaller rotation angle
 * (|t| <= 1) so that the update stays stable.
 */
function rotate(
  a: Float64Array,
  v: Float64Array | undefined,
  n: number,
  p: number,
  q: number,
  app: number,
  aqq: number,
  apq: number,
): void {
  const theta = (aqq - app) / (2 * apq);
  const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
  const c = 1 / Math.sqrt(t * t + 1);
  const s = t * c;

  for (let k = 0; k < n; k++) {
    const akp = a[k * n + p];
    const akq = a[k * n + q];
    a[k * n + p] = c * akp - s * akq;
    a[k * n + q] = s * akp + c * akq;
  }
  for (let k = 0; k < n; k++) {
    const apk = a[p * n + k];
    const aqk = a[q * n + k];
    a[p * n + k] = c * apk - s * aqk;
    a[q * n + k] = s * apk + c * aqk;
  }
  // The closed forms are exact where the two passes above leave rounding residue.
  a[p * n + p] = app - t * apq;
  a[q * n + q] = aqq + t * apq;
  a[p * n + q] = 0;
  a[q * n + p] = 0;

  if (v) {
    for (let k = 0; k < n; k++) {
      const vkp = v[k * n + p];
      const vkq = v[k * n + q];
      v[k * n + p] = c * vkp - s * vkq;
      v[k * n + q] = s * vkp + c * vkq;
    }
  }
}

function sortAscending(a: Float64Array, v: Float64Array | undefined, n: number): SymmetricEigen {
  const order = Array.from({ length: n }, (_, i) => i).sort((i, j) => a[i * n + i] - a[j * n + j]);
  const values = Float64Array.from(order, (i) => a[i * n + i]);
  if (!v) return { values };
  const vectors = new Float64Array(n * n);
  order.forEach((source, target) => {
    for (let k = 0; k < n; k++) vectors[k * n + target] = v[k * n + source];
  });
  return { values, vectors };
}

/** Returns the n x n identity matrix. */
export function identity(n: number): Float64Array {
  const result = new Float64Array(n * n);
  for (let i = 0; i < n; i++) result[i * n + i] = 1;
  return result;
}

/** Multiplies two row-major n x n matrices. */
export function multiply(left: Float64Array, right: Float64Array, n: number): Float64Array {
  const result = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < n; k++) {
      const lik = left[i * n + k];
      if (lik === 0) continue;
      for (let j = 0; j < n; j++) result[i * n + j] += lik * right[k * n + j];
    }
  }
  return result;
}

/** Returns the trace of a row-major n x n matrix. */
export function trace(matrix: Float64Array, n: number): number {
  let sum = 0;
  for (let i = 0; i < n; i++) sum += matrix[i * n + i];
  return sum;
}

/**
 * Computes the square root of a symmetric positive semi-definite matrix, V sqrt(L) V^T, with
 * eigenvalues below zero (rounding noise of a singular matrix) taken as zero.
 */
export function symmetricSqrt(matrix: Float64Array, n: number): Float64Array {
  const { values, vectors } = symmetricEigen(matrix, n, { vectors: true });
  const v = vectors as Float64Array;
  const roots = values.map((value) => Math.sqrt(Math.max(0, value)));
  const result = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = i; j < n; j++) {
      let sum = 0;
      for (let k = 0; k < n; k++) sum += v[i * n + k] * roots[k] * v[j * n + k];
      result[i * n + j] = sum;
      result[j * n + i] = sum;
    }
  }
  return result;
}
