#!/usr/bin/env python3
"""The coefficients of wm_geluf_scalar (src/kernels/ops_scalar.c): erf(x / sqrt 2) ~ x P(x^2) / Q(x^2), Q(0) = 1,
on 0 <= x <= T, the minimax absolute error reached by iteratively reweighted linear least squares (Sanathanan-Koerner
for the denominator, Lawson weights for the max norm) in 40-digit arithmetic. Needs mpmath (Debian: python3-mpmath).

    python3 tools/gelu_fit.py [deg P = 5] [deg Q = 5] [T = 5.5]     (about a minute)

Degree 5 / 5 on T = 5.5 prints a max abs error of 1.45e-08; the f32 rounding of the coefficients and of the
evaluation add more (test_kernels --exhaustive measures the kernel itself).
"""
import sys

from mpmath import cos, erf, lu_solve, matrix, mp, mpf, pi, sqrt

mp.dps = 40
deg_p, deg_q = int(sys.argv[1]) if len(sys.argv) > 1 else 5, int(sys.argv[2]) if len(sys.argv) > 2 else 5
T = mpf(sys.argv[3]) if len(sys.argv) > 3 else mpf("5.5")
N = 600
xs = sorted([T * (1 - cos(pi * (i + mpf(1) / 2) / N)) / 2 for i in range(N)] + [T * i / N for i in range(1, N + 1)])
fs = [erf(x / sqrt(2)) for x in xs]
unknowns = deg_p + 1 + deg_q  # p0..p_degP, q1..q_degQ


def poly(c, s):
    return sum(c[k] * s**k for k in range(len(c)))


weights, q_prev, best = [mpf(1)] * len(xs), [mpf(1)] * len(xs), None
for _ in range(60):
    # minimize sum w (x P(s) - f Q(s))^2 / Q_prev(s)^2, linear in the unknowns
    A, b = matrix(unknowns, unknowns), matrix(unknowns, 1)
    for x, f, w, qp in zip(xs, fs, weights, q_prev):
        s = x * x
        row = [x * s**k for k in range(deg_p + 1)] + [-f * s**k for k in range(1, deg_q + 1)]
        c = w / (qp * qp)
        for i in range(unknowns):
            b[i] += c * row[i] * f
            for j in range(unknowns):
                A[i, j] += c * row[i] * row[j]
    sol = lu_solve(A, b)
    P = [sol[k] for k in range(deg_p + 1)]
    Q = [mpf(1)] + [sol[deg_p + 1 + k] for k in range(deg_q)]
    errs = [abs(x * poly(P, x * x) / poly(Q, x * x) - f) for x, f in zip(xs, fs)]
    if best is None or max(errs) < best[0]:
        best = (max(errs), P, Q)
    q_prev = [poly(Q, x * x) for x in xs]
    total = sum(w * e for w, e in zip(weights, errs))
    weights = [max(w * e / total * len(xs), mpf("1e-30")) for w, e in zip(weights, errs)]

err, P, Q = best
print(f"P degree {deg_p} / Q degree {deg_q} in x^2 on [0, {T}]: max abs error {float(err):.3e}")
print("P (x^0 first):", ", ".join(f"{float(p):.9e}" for p in P))
print("Q (x^0 first):", ", ".join(f"{float(q):.9e}" for q in Q))
