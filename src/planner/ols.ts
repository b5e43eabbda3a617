/**
 * Ordinary least squares with intercept for one or two features, the fit the reference
 * planner gets from scikit-learn's `LinearRegression` (centre X and y, least squares,
 * intercept = mean(y) - mean(X) . coef). Rank-deficient data (an axis that never varies,
 * or two collinear axes) gets the minimum-norm solution, as LAPACK's solver gives, so a
 * constant feature has coefficient 0 instead of NaN. Never returns NaN or infinite values.
 */

export interface OlsFit {
  intercept: number;
  /** One coefficient per feature, in feature order. */
  coef: number[];
}

const EPS = Number.EPSILON;

/**
 * Fits `y ~ intercept + coef . x`. `xs` holds `n * ndim` values row by row. Returns null
 * when there is no sample or the result would not be finite.
 */
export function fitOls(xs: ArrayLike<number>, ys: ArrayLike<number>, ndim: 1 | 2): OlsFit | null {
  const n = ys.length;
  if (n === 0 || xs.length !== n * ndim) return null;
  let my = 0;
  const mx = [0, 0];
  for (let i = 0; i < n; i++) {
    my += ys[i];
    for (let d = 0; d < ndim; d++) mx[d] += xs[i * ndim + d];
  }
  my /= n;
  mx[0] /= n;
  mx[1] /= n;
  // Centred cross-products: A = Xc^T Xc, g = Xc^T yc.
  let a00 = 0,
    a01 = 0,
    a11 = 0,
    g0 = 0,
    g1 = 0;
  for (let i = 0; i < n; i++) {
    const yc = ys[i] - my;
    const x0 = xs[i * ndim] - mx[0];
    a00 += x0 * x0;
    g0 += x0 * yc;
    if (ndim === 2) {
      const x1 = xs[i * ndim + 1] - mx[1];
      a01 += x0 * x1;
      a11 += x1 * x1;
      g1 += x1 * yc;
    }
  }
  let coef: number[];
  if (ndim === 1) {
    coef = [a00 > 0 ? g0 / a00 : 0];
  } else {
    coef = solve2(a00, a01, a11, g0, g1);
  }
  let intercept = my;
  for (let d = 0; d < ndim; d++) intercept -= mx[d] * coef[d];
  if (!Number.isFinite(intercept) || !coef.every(Number.isFinite)) return null;
  return { intercept, coef };
}

/** Minimum-norm solution of the symmetric 2x2 system [[a,b],[b,c]] w = g. */
function solve2(a: number, b: number, c: number, g0: number, g1: number): number[] {
  // Eigenvalues of the PSD matrix; singular values of Xc are their square roots.
  const tr = a + c;
  const half = Math.hypot((a - c) / 2, b);
  const l1 = tr / 2 + half;
  const l2 = Math.max(0, tr / 2 - half);
  if (!(l1 > 0)) return [0, 0];
  // Cut-off on singular values relative to the largest (LAPACK's default rcond is machine epsilon).
  if (Math.sqrt(l2) > EPS * Math.sqrt(l1) * 2) {
    // Full rank: scale columns to unit diagonal before Cramer's rule, for conditioning.
    const sa = Math.sqrt(a),
      sc = Math.sqrt(c);
    const r = b / (sa * sc);
    const det = 1 - r * r;
    if (det > 0 && Number.isFinite(det)) {
      const h0 = g0 / sa,
        h1 = g1 / sc;
      const w0 = (h0 - r * h1) / det;
      const w1 = (h1 - r * h0) / det;
      return [w0 / sa, w1 / sc];
    }
  }
  // Rank one: A ~ l1 u u^T, so w = u (u . g) / l1.
  // (b, l1 - a) and (l1 - c, b) are both eigenvectors of l1; take the longer one for accuracy.
  let u0 = b,
    u1 = l1 - a;
  if (Math.hypot(l1 - c, b) > Math.hypot(u0, u1)) {
    u0 = l1 - c;
    u1 = b;
  }
  if (u0 === 0 && u1 === 0) {
    u0 = a >= c ? 1 : 0;
    u1 = a >= c ? 0 : 1;
  }
  const norm = Math.hypot(u0, u1);
  u0 /= norm;
  u1 /= norm;
  const k = (u0 * g0 + u1 * g1) / l1;
  return [u0 * k, u1 * k];
}
