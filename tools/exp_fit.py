#!/usr/bin/env python3
"""The coefficients of wm_expf_scalar (src/kernels/ops_scalar.c, table wm_exp_poly in kernels_impl.h):
exp(r) ~ 1 + r + r^2 P(r) on |r| <= ln2 / 2, the minimax RELATIVE error reached by Lawson-weighted linear least
squares in 40-digit arithmetic (as tools/gelu_fit.py). Needs mpmath (Debian: python3-mpmath).

    python3 tools/exp_fit.py [coefficients of P = 4]     (about a minute)

4 coefficients (degree 5 in all) print a max relative error of 1.05e-07; 5 give 3.1e-09. The f32 rounding of the
coefficients and of the evaluation add more (test_kernels --exhaustive measures the kernel itself: 1.8e-7).
"""
import sys

from mpmath import cos, exp, log, lu_solve, matrix, mp, mpf, pi

mp.dps = 40
D = int(sys.argv[1]) if len(sys.argv) > 1 else 4
h = log(2) / 2
N = 800
xs = [h * cos(pi * (i + mpf(1) / 2) / N) for i in range(N)]  # Chebyshev nodes on [-h, h]


def rel_err(c, x):
    return abs((1 + x + x**2 * sum(c[k] * x**k for k in range(D)) - exp(x)) / exp(x))


weights, best = [mpf(1)] * N, None
for _ in range(80):
    # minimize sum w ((1 + r + r^2 P(r) - e^r) / e^r)^2: linear in P's coefficients
    A, b = matrix(D, D), matrix(D, 1)
    for x, w in zip(xs, weights):
        e = exp(x)
        row = [x ** (k + 2) / e for k in range(D)]
        t = (e - 1 - x) / e
        for i in range(D):
            b[i] += w * row[i] * t
            for j in range(D):
                A[i, j] += w * row[i] * row[j]
    c = lu_solve(A, b)
    errs = [rel_err(c, x) for x in xs]
    if best is None or max(errs) < best[0]:
        best = (max(errs), [c[k] for k in range(D)])
    total = sum(w * e for w, e in zip(weights, errs))
    weights = [max(w * e / total * N, mpf("1e-30")) for w, e in zip(weights, errs)]

err, c = best
print(f"P with {D} coefficients on |r| <= ln2/2: max relative error {float(err):.3e}")
print("P (highest degree first, as wm_exp_poly):", ", ".join(f"{float(c[k]):.11e}" for k in reversed(range(D))))
