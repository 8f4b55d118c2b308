// Weight transforms for the .wemb writer: int8 packing of linears (docs/format.md, "Linear weights by dtype" and
// "Quantization"), data-free SmoothQuant-style input scales, row-wise int8 for the embedding table, and f16.
// Pure functions on typed arrays (no I/O), so the scheme can be tuned by measurement.
//
// Conventions (the ones the kernel computes, src/kernels/kernels.h):
//   activations:  xq[m][k] = round(x[m][k] * in_scale[k] / a[m][g(k)])
//   product:      y[m][n]  = sum_g a[m][g] * scale[n][g] * sum_{k in g} xq[m][k] * q[n][k] + bias[n]
// so the stored weights approximate  q[n][k] * scale[n][g(k)] = W[n][k] / in_scale[k]  (W ≈ q * scale * in_scale);
// g(k) = floor(k / group), with one group per row when group is 0.

/** Round half away from zero (what the C kernels use: lroundf). */
export const roundHalfAway = (v) => (v < 0 ? -Math.floor(-v + 0.5) : Math.floor(v + 0.5));

/**
 * Packs a linear's weight W (row-major Float32Array [N*K], PyTorch [out, in]) as int8, symmetric per output
 * channel and group of `group` inputs along K (0: one group per channel), after dividing input column k by
 * inScale[k] (null: all ones). For channel n and group g (inputs k in [g*group, (g+1)*group)):
 *   scale[n][g] = fround(max_k |W[n][k] / inScale[k]|) / qmax,  q[n][k] = clamp(round_half_away(W[n][k] / inScale[k] / scale[n][g]))
 * An all-zero group (and every padding row n >= N) gets scale 0 and q = 0.
 * Layout: Np = ceil(N/4)*4, Kp = ceil(K/8)*8, offset of (n, k) = (n>>2)*Kp*4 + (k>>3)*32 + (n&3)*8 + (k&7), zero
 * padded; ng = ceil(Kp/group) (1 for group 0), scale of (n, g) at (n>>2)*ng*4 + g*4 + (n&3) (a panel's 4 channels
 * contiguous per group, as the kernel reads them).
 * Returns { weight: Int8Array(Np*Kp), scale: Float32Array(Np*ng) }.
 * opts.qmax (default 127): the largest |q|; opts.group (default 0): a multiple of 8, or 0.
 */
export function packLinearInt8(W, N, K, inScale = null, { qmax = 127, group = 0 } = {}) {
  if (W.length !== N * K) throw new Error(`packLinearInt8: W has ${W.length} values, expected N*K = ${N}*${K}`);
  if (inScale && inScale.length !== K) throw new Error(`packLinearInt8: inScale has ${inScale.length} values, expected K = ${K}`);
  if (!Number.isInteger(group) || group < 0 || group % 8) throw new Error(`packLinearInt8: group ${group} (expected 0 or a multiple of 8)`);
  const Np = Math.ceil(N / 4) * 4, Kp = Math.ceil(K / 8) * 8;
  const G = group || Kp, ng = Math.ceil(Kp / G);
  const weight = new Int8Array(Np * Kp);
  const scale = new Float32Array(Np * ng);
  const inv = new Float64Array(K);
  for (let k = 0; k < K; k++) inv[k] = inScale ? 1 / inScale[k] : 1;
  const row = new Float64Array(K);
  for (let n = 0; n < N; n++) {
    const base = n * K;
    for (let k = 0; k < K; k++) row[k] = W[base + k] * inv[k];
    const panel = (n >> 2) * Kp * 4 + (n & 3) * 8;
    for (let g = 0; g < ng; g++) {
      const k0 = g * G, k1 = Math.min(K, k0 + G);
      let amax = 0;
      for (let k = k0; k < k1; k++) {
        const a = Math.abs(row[k]);
        if (a > amax) amax = a;
      }
      if (!Number.isFinite(amax)) throw new Error(`packLinearInt8: row ${n} has a non-finite value`);
      if (amax === 0) continue; // scale 0, q 0
      const s = Math.fround(amax / qmax);
      if (s === 0) continue; // below f32 range: treat as zero group
      scale[(n >> 2) * ng * 4 + g * 4 + (n & 3)] = s;
      const r = 1 / s;
      for (let k = k0; k < k1; k++) {
        const v = row[k] * r; // round half away from zero, clamp to qmax (inlined: this loop is the converter's hot spot)
        let q = Math.floor((v < 0 ? -v : v) + 0.5);
        if (q > qmax) q = qmax;
        weight[panel + (k >> 3) * 32 + (k & 7)] = v < 0 ? -q : q;
      }
    }
  }
  return { weight, scale };
}

/** Inverse of the packing (for tests and measurement): Float32Array [N*K] of q[n][k] * scale[n][g] * inScale[k]. */
export function unpackLinearInt8(weight, scale, N, K, inScale = null, { group = 0 } = {}) {
  const Kp = Math.ceil(K / 8) * 8;
  const G = group || Kp, ng = Math.ceil(Kp / G);
  const out = new Float32Array(N * K);
  for (let n = 0; n < N; n++) {
    const panel = (n >> 2) * Kp * 4 + (n & 3) * 8;
    for (let k = 0; k < K; k++) {
      const s = scale[(n >> 2) * ng * 4 + Math.floor(k / G) * 4 + (n & 3)];
      out[n * K + k] = weight[panel + (k >> 3) * 32 + (k & 7)] * s * (inScale ? inScale[k] : 1);
    }
  }
  return out;
}

/**
 * Data-free SmoothQuant input scales for a linear whose input is a LayerNorm output y = norm(x) * gamma + beta.
 * The channel magnitude is estimated as mag_k = 3|gamma_k| + |beta_k| (norm(x) is ~unit variance: ~3 sigma),
 * wmax_k = max_n |W[n][k]|, s_k = mag_k^alpha / wmax_k^(1-alpha) (each floored at 1e-8 times its maximum),
 * in_scale_k = 1 / s_k, then scaled so that the geometric mean of in_scale is 1. Returns Float32Array [K].
 * alpha <= 0 (or null) means no smoothing: all ones. lnBeta may be null.
 */
export function smoothInScale(lnGamma, lnBeta, W, N, K, alpha = 0.5) {
  const out = new Float32Array(K);
  if (!(alpha > 0)) return out.fill(1);
  if (lnGamma.length !== K || (lnBeta && lnBeta.length !== K)) throw new Error(`smoothInScale: LayerNorm has ${lnGamma.length} channels, expected K = ${K}`);
  if (W.length !== N * K) throw new Error(`smoothInScale: W has ${W.length} values, expected N*K = ${N}*${K}`);
  const mag = new Float64Array(K), wmax = new Float64Array(K);
  for (let k = 0; k < K; k++) mag[k] = 3 * Math.abs(lnGamma[k]) + (lnBeta ? Math.abs(lnBeta[k]) : 0);
  for (let n = 0; n < N; n++) {
    const base = n * K;
    for (let k = 0; k < K; k++) {
      const a = Math.abs(W[base + k]);
      if (a > wmax[k]) wmax[k] = a;
    }
  }
  floorAt(mag, 1e-8);
  floorAt(wmax, 1e-8);
  const logs = new Float64Array(K);
  let sum = 0;
  for (let k = 0; k < K; k++) {
    // log(in_scale) = -(alpha log mag - (1-alpha) log wmax)
    logs[k] = (1 - alpha) * Math.log(wmax[k]) - alpha * Math.log(mag[k]);
    sum += logs[k];
  }
  const mean = sum / K;
  for (let k = 0; k < K; k++) out[k] = Math.exp(logs[k] - mean);
  return out;
}

function floorAt(v, rel) {
  let max = 0;
  for (let i = 0; i < v.length; i++) if (v[i] > max) max = v[i];
  const lo = max > 0 ? max * rel : 1; // an all-zero vector becomes all ones
  for (let i = 0; i < v.length; i++) if (!(v[i] >= lo)) v[i] = lo;
}

/**
 * Row-wise symmetric int8 (the word-embedding table): row r ≈ q[r][:] * scale[r], scale = max|row| / qmax,
 * round half away from zero; an all-zero row gets scale 0. Returns { q: Int8Array(rows*cols), scale: Float32Array(rows) }.
 */
export function quantizeRowsInt8(E, rows, cols, { qmax = 127 } = {}) {
  if (E.length !== rows * cols) throw new Error(`quantizeRowsInt8: ${E.length} values, expected rows*cols = ${rows}*${cols}`);
  const q = new Int8Array(rows * cols);
  const scale = new Float32Array(rows);
  for (let r = 0; r < rows; r++) {
    const base = r * cols;
    let amax = 0;
    for (let c = 0; c < cols; c++) {
      const a = Math.abs(E[base + c]);
      if (a > amax) amax = a;
    }
    if (!Number.isFinite(amax)) throw new Error(`quantizeRowsInt8: row ${r} has a non-finite value`);
    const s = Math.fround(amax / qmax);
    if (s === 0) continue;
    scale[r] = s;
    const inv = 1 / s;
    for (let c = 0; c < cols; c++) {
      const v = E[base + c] * inv;
      let a = Math.floor((v < 0 ? -v : v) + 0.5); // round half away from zero
      if (a > qmax) a = qmax;
      q[base + c] = v < 0 ? -a : a;
    }
  }
  return { q, scale };
}

/**
 * 4-bit rows (the q4 word-embedding table, docs/format.md): each row of `cols` values is cut into groups of
 * `group` (32; the last one may be shorter); per group lo = min, hi = max, scale = fround((hi - lo) / 15),
 * min = fround(lo), q = clamp(round_half_away((v - min) / scale), 0, 15) (a constant group: scale 0, q 0).
 * Packing: row r starts at byte r * ceil(cols / 2); element c is in byte c >> 1, low nibble for even c.
 * Returns { q: Uint8Array(rows * ceil(cols/2)), scale: Float32Array(rows * ceil(cols/group) * 2) ({scale, min} pairs)}.
 */
export function quantizeRowsQ4(E, rows, cols, { group = 32 } = {}) {
  if (E.length !== rows * cols) throw new Error(`quantizeRowsQ4: ${E.length} values, expected rows*cols = ${rows}*${cols}`);
  const rowBytes = Math.ceil(cols / 2), groups = Math.ceil(cols / group);
  const q = new Uint8Array(rows * rowBytes);
  const scale = new Float32Array(rows * groups * 2);
  for (let r = 0; r < rows; r++) {
    const base = r * cols, qb = r * rowBytes;
    for (let g = 0; g < groups; g++) {
      const c0 = g * group, c1 = Math.min(cols, c0 + group);
      let lo = Infinity, hi = -Infinity;
      for (let c = c0; c < c1; c++) {
        const v = E[base + c];
        if (!Number.isFinite(v)) throw new Error(`quantizeRowsQ4: row ${r} has a non-finite value`);
        if (v < lo) lo = v;
        if (v > hi) hi = v;
      }
      const mn = Math.fround(lo), s = Math.fround((hi - mn) / 15);
      const si = (r * groups + g) * 2;
      scale[si] = s;
      scale[si + 1] = mn;
      if (!(s > 0)) continue; // constant group: every value is min (q = 0)
      const inv = 1 / s;
      for (let c = c0; c < c1; c++) {
        let v = Math.floor((E[base + c] - mn) * inv + 0.5); // >= 0: round half away from zero
        if (v > 15) v = 15;
        else if (v < 0) v = 0;
        q[qb + (c >> 1)] |= v << ((c & 1) * 4);
      }
    }
  }
  return { q, scale };
}

/** Inverse of quantizeRowsQ4, in the f32 arithmetic the C encoder uses: fround(fround(q * scale) + min). */
export function dequantizeRowsQ4(q, scale, rows, cols, { group = 32 } = {}) {
  const rowBytes = Math.ceil(cols / 2), groups = Math.ceil(cols / group);
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const si = (r * groups + Math.floor(c / group)) * 2;
      const v = (q[r * rowBytes + (c >> 1)] >> ((c & 1) * 4)) & 15;
      out[r * cols + c] = Math.fround(Math.fround(v * scale[si]) + scale[si + 1]);
    }
  }
  return out;
}

// --- IEEE binary16 ----------------------------------------------------------------------------------------------
/**
 * Float32Array -> Uint16Array of IEEE binary16 bits, round to nearest even; overflow -> ±inf, subnormals exact,
 * NaN stays NaN (quiet, payload's top bits kept), -0 kept.
 */
export function toF16(src) {
  const f = src instanceof Float32Array ? src : Float32Array.from(src);
  const u = new Uint32Array(f.buffer, f.byteOffset, f.length);
  const out = new Uint16Array(f.length);
  for (let i = 0; i < u.length; i++) {
    const x = u[i];
    const sign = (x >>> 16) & 0x8000;
    const a = x & 0x7fffffff;
    let h;
    if (a >= 0x38800000) {
      // normal half (or overflow)
      if (a >= 0x7f800000) h = a === 0x7f800000 ? 0x7c00 : 0x7e00 | ((a >>> 13) & 0x3ff);
      else if (a >= 0x477ff000) h = 0x7c00; // >= 65520 rounds to inf
      else h = (a - 0x38000000 + 0xfff + ((a >>> 13) & 1)) >>> 13;
    } else if (a > 0x33000000) {
      // subnormal half: value / 2^-24, rounded to nearest even (may round up to the smallest normal 0x0400)
      const e = a >>> 23; // 102..112
      const m = (a & 0x7fffff) | 0x800000; // 24-bit significand, value = m * 2^(e-150)
      const shift = 126 - e; // value / 2^-24 = m >> (126 - e), shift in 14..23
      const q = m >>> shift;
      const rem = m & ((1 << shift) - 1);
      const half = 1 << (shift - 1);
      h = rem > half || (rem === half && q & 1) ? q + 1 : q;
    } else h = 0; // |x| <= 2^-25 rounds to ±0 (2^-25 exactly is a tie with even 0)
    out[i] = sign | h;
  }
  return out;
}

let F16_TABLE = null;
/** Float32Array(65536): the float value of every binary16 bit pattern (exact). */
export function f16Table() {
  if (F16_TABLE) return F16_TABLE;
  const t = new Float32Array(65536);
  const u = new Uint32Array(t.buffer);
  for (let h = 0; h < 65536; h++) {
    const sign = (h & 0x8000) << 16, e = (h >>> 10) & 0x1f, m = h & 0x3ff;
    if (e === 0) t[h] = (sign ? -1 : 1) * m * 2 ** -24;
    else if (e === 31) u[h] = sign | 0x7f800000 | (m << 13);
    else u[h] = sign | ((e + 112) << 23) | (m << 13);
  }
  return (F16_TABLE = t);
}

/** Uint16Array of binary16 bits -> Float32Array (exact). */
export function fromF16(bits) {
  const t = f16Table();
  const out = new Float32Array(bits.length);
  for (let i = 0; i < bits.length; i++) out[i] = t[bits[i]];
  return out;
}
