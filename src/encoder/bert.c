// BERT encoder (post-LayerNorm, absolute positions, erf GELU) over packed sequences. Linear layers see every
// token of the batch as one matrix, so short texts share GEMMs; attention runs per sequence on its real length,
// so nothing is padded.
#include "encoder/bert.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/kernels.h"

static int fail(char *err, size_t cap, const char *msg) {
    snprintf(err, cap, "%s", msg);
    return -1;
}

static const void *section(const wm_file *f, uint32_t kind, uint32_t index) {
    const wm_section *s = wm_file_find(f, kind, index);
    return s ? f->bytes + s->offset : NULL;  // wm_file_finish has checked presence and size
}

// --- init: views into the file, then one arena -----------------------------------------------------------------
static void bind_linear(wm_linear *L, const wm_file *f, uint32_t layer, int j, int N, int K) {
    uint32_t base = WM_SEC_LINEAR + 4 * (uint32_t)j;
    L->N = N, L->K = K, L->Kp = wm_round_up(K, WM_GEMM_KB);
    L->G = f->config.quant_group ? (int)f->config.quant_group : L->Kp;
    L->dtype = f->config.weight_dtype;
    L->w = section(f, base + WM_PART_WEIGHT, layer);
    L->bias = section(f, base + WM_PART_BIAS, layer);
    L->w_scale = section(f, base + WM_PART_SCALE, layer);
    L->in_scale = section(f, base + WM_PART_IN_SCALE, layer);
}

// Relaxed SIMD: 8-bit activations as u8 where this engine's dot takes them exactly (one dot-add per 16
// multiply-adds), else as u6x2 digits (two). SIMD128 and scalar: int16 for any act_bits (SIMD128: 97-99 GOPS against
// 80-83 for int8 activations, which V8 sign-extends after loading; make bench-kernels). The same sums every way.
static int choose_int8_gemm(const wm_config *c) {
    if (WM_GEMM_U6X2) return c->act_bits <= 8 && wm_gemm_u8i8_exact() ? WM_GEMM_U8_I8 : WM_GEMM_U6X2_I8;
    return WM_GEMM_I16_I8;
}

// b->int8_gemm, with the kernels this build never chooses folded away (their code stays out of the module)
static inline int int8_gemm(const wm_bert *b) {
    if (WM_GEMM_U6X2) return b->int8_gemm == WM_GEMM_U8_I8 ? WM_GEMM_U8_I8 : WM_GEMM_U6X2_I8;
    return WM_GEMM_I16_I8;
}

// The int8 weights into the order this build's wm_gemm_i16i8 reads (kernels.h), in place, once: at the
// first forward pass rather than at load, because until then the bytes are still the file, which the JS side copies
// into each worker of a 'copies' pool (js/core.js fileBytes). Nothing to do where the relaxed GEMMs (u6x2, u8), which
// read the file's order, take every int8 linear. The bytes are this model's own (wm_open's buffer).
static void pack_weights(wm_bert *b) {
    if (b->weights_packed || b->cfg.weight_dtype != WM_DTYPE_INT8 || int8_gemm(b) != WM_GEMM_I16_I8) return;
    for (uint32_t l = 0; l < b->cfg.layers; l++) {
        wm_linear *Ls[4] = {&b->layers[l].qkv, &b->layers[l].attn_out, &b->layers[l].ffn_in, &b->layers[l].ffn_out};
        for (int j = 0; j < 4; j++)
            wm_pack_weights_i8(wm_round_up(Ls[j]->N, WM_GEMM_NR), Ls[j]->Kp, (int8_t *)Ls[j]->w);
    }
    b->weights_packed = 1;
}

static float *carve(char **p, size_t bytes) {
    float *r = (float *)*p;
    *p += (bytes + 63) / 64 * 64;
    return r;
}

int wm_bert_init(wm_bert *b, const wm_file *f, char *err, size_t cap) {
    memset(b, 0, sizeof *b);
    b->cfg = f->config;
    const wm_config *c = &b->cfg;
    int H = (int)c->hidden, I = (int)c->intermediate, P = (int)c->max_positions, dh = H / (int)c->heads;
    b->word_emb = section(f, WM_SEC_EMB_WORD, 0);
    b->word_scale = section(f, WM_SEC_EMB_WORD_SCALE, 0);
    b->word_map = section(f, WM_SEC_EMB_WORD_MAP, 0);
    b->pos_emb = section(f, WM_SEC_EMB_POS, 0);
    b->type_emb = section(f, WM_SEC_EMB_TYPE, 0);
    b->emb_ln_gamma = section(f, WM_SEC_EMB_LN_GAMMA, 0);
    b->emb_ln_beta = section(f, WM_SEC_EMB_LN_BETA, 0);
    b->int8_gemm = choose_int8_gemm(c);
    b->layers = calloc(c->layers, sizeof *b->layers);
    if (!b->layers) return fail(err, cap, "out of memory for the layer table");
    for (uint32_t l = 0; l < c->layers; l++) {
        wm_layer *L = &b->layers[l];
        bind_linear(&L->qkv, f, l, WM_LIN_QKV, 3 * H, H);
        bind_linear(&L->attn_out, f, l, WM_LIN_ATTN_OUT, H, H);
        bind_linear(&L->ffn_in, f, l, WM_LIN_FFN_IN, I, H);
        bind_linear(&L->ffn_out, f, l, WM_LIN_FFN_OUT, H, I);
        L->attn_ln_gamma = section(f, WM_SEC_ATTN_LN_GAMMA, l);
        L->attn_ln_beta = section(f, WM_SEC_ATTN_LN_BETA, l);
        L->out_ln_gamma = section(f, WM_SEC_OUT_LN_GAMMA, l);
        L->out_ln_beta = section(f, WM_SEC_OUT_LN_BETA, l);
    }
    // Rows per pass: at least one full-length sequence; short texts are packed up to this many tokens.
    int R = P > 512 ? P : 512;
    size_t kp = (size_t)wm_round_up(I > H ? I : H, WM_GEMM_KB);
    size_t groups = c->quant_group ? (kp + c->quant_group - 1) / c->quant_group : 1;  // most per row, any linear
    size_t sizes[] = {(size_t)R * H * 4, (size_t)R * H * 4, (size_t)R * 3 * H * 4, (size_t)R * H * 4, (size_t)R * I * 4,
                      (size_t)R * kp * 2, (size_t)R * groups * 4};
    size_t total = 0;
    for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++) total += (sizes[i] + 63) / 64 * 64;
    b->arena = aligned_alloc(64, total);
    if (!b->arena) {
        snprintf(err, cap, "out of memory: the activation arena needs %zu bytes", total);
        return -1;
    }
    char *p = b->arena;
    b->max_rows = R;
    b->x = carve(&p, sizes[0]), b->tmp = carve(&p, sizes[1]), b->qkv = carve(&p, sizes[2]), b->ctx = carve(&p, sizes[3]);
    b->ffn = carve(&p, sizes[4]), b->xq = carve(&p, sizes[5]), b->row_scale = carve(&p, sizes[6]);
    // per thread: a head's scores [P][P], transposed keys [dh][P rounded up to 4], padded values [P][dh rounded up]
    size_t scratch = (size_t)P * P + (size_t)dh * wm_round_up(P, 4) + (size_t)P * wm_round_up(dh, 4);
    b->scratch_floats = (scratch + 15) / 16 * 16;
    return wm_bert_set_team(b, NULL, err, cap);
}

int wm_bert_set_team(wm_bert *b, wm_team *team, char *err, size_t cap) {
    size_t bytes = (size_t)wm_team_size(team) * b->scratch_floats * sizeof(float);
    float *scratch = aligned_alloc(64, bytes);
    if (!scratch) {
        snprintf(err, cap, "out of memory: attention scratch for %d threads needs %zu bytes", wm_team_size(team), bytes);
        return -1;
    }
    free(b->scratch);
    b->scratch = scratch;
    b->team = team;
    return 0;
}

void wm_bert_free(wm_bert *b) {
    free(b->scratch);
    free(b->layers);
    free(b->arena);
    memset(b, 0, sizeof *b);
}

// --- the pieces of a layer, as jobs for the team (team.h) ------------------------------------------------------------
// Each op is cut into parts that write disjoint outputs and compute every value as the whole op would (rows of a
// row op, output channels of a GEMM, heads of attention), so the vectors do not depend on the thread count.

// Parts for an op of `work` multiply-adds (or values) over `units` independent units: 1 without helpers or when
// the op is too small to repay waking them; else two per thread (a late helper costs half a share, not a whole).
static int parts_for(const wm_bert *b, double work, int units) {
    int threads = wm_team_size(b->team), parts = 2 * threads;
    if (threads == 1 || work < 16384) return 1;
    return parts < units ? parts : units;
}

// [*lo, *hi): part p of n units cut into `parts` nearly equal ranges
static void range(int n, int p, int parts, int *lo, int *hi) {
    *lo = (int)((int64_t)n * p / parts);
    *hi = (int)((int64_t)n * (p + 1) / parts);
}

typedef struct {
    wm_bert *b;
    const wm_linear *L;
    int M, ldx, ldy, parts;
    const float *x;
    float *y;
} linear_job;

// int8 linears: the activations' rows quantized for the GEMM, a range of rows per part
static void quantize_part(void *args, int part, int thread) {
    const linear_job *j = args;
    const wm_linear *L = j->L;
    int r0, r1, qmax = (1 << (j->b->cfg.act_bits - 1)) - 1, ng = wm_groups(L->Kp, L->G);
    (void)thread;
    range(j->M, part, j->parts, &r0, &r1);
    const float *x = j->x + (size_t)r0 * j->ldx;
    float *rs = j->b->row_scale + (size_t)r0 * ng;
    const int kind = int8_gemm(j->b);
    void *q = (char *)j->b->xq + (size_t)r0 * L->Kp * (kind == WM_GEMM_U8_I8 ? 1 : 2);
    switch (kind) {  // the same values in each layout (kernels.h)
    case WM_GEMM_U8_I8: wm_quantize_rows_u8(r1 - r0, L->K, L->G, x, j->ldx, L->in_scale, qmax, q, rs); break;
    case WM_GEMM_U6X2_I8: wm_quantize_rows_u6x2(r1 - r0, L->K, L->G, x, j->ldx, L->in_scale, qmax, q, rs); break;
    default: wm_quantize_rows_i16(r1 - r0, L->K, L->G, x, j->ldx, L->in_scale, qmax, q, rs);
    }
}

// y[:, n0:n1] for a range of output channels (whole panels of 4 for int8 weights)
static void gemm_part(void *args, int part, int thread) {
    const linear_job *j = args;
    const wm_linear *L = j->L;
    const wm_bert *b = j->b;
    int p0, p1, panels = (L->N + WM_GEMM_NR - 1) / WM_GEMM_NR;
    (void)thread;
    range(panels, part, j->parts, &p0, &p1);
    int n0 = p0 * WM_GEMM_NR, n1 = p1 * WM_GEMM_NR < L->N ? p1 * WM_GEMM_NR : L->N;
    const float *bias = L->bias ? L->bias + n0 : NULL;
    float *y = j->y + n0;
    switch (L->dtype) {
    case WM_DTYPE_F32: wm_gemm_f32(j->M, n1 - n0, L->K, j->x, j->ldx, (const float *)L->w + (size_t)n0 * L->K, bias, y, j->ldy); break;
    case WM_DTYPE_F16: wm_gemm_f16(j->M, n1 - n0, L->K, j->x, j->ldx, (const uint16_t *)L->w + (size_t)n0 * L->K, bias, y, j->ldy); break;
    default: {
        // packed by panels of 4 channels: panel n0/4 starts at byte n0*Kp, its scales at n0*ng (kernels.h)
        const int8_t *w = (const int8_t *)L->w + (size_t)n0 * L->Kp;
        const float *ws = L->w_scale + (size_t)n0 * wm_groups(L->Kp, L->G);
        switch (int8_gemm(b)) {
        case WM_GEMM_U8_I8: wm_gemm_u8i8(j->M, n1 - n0, L->Kp, L->G, b->xq, b->row_scale, w, ws, bias, y, j->ldy); break;
        case WM_GEMM_U6X2_I8: wm_gemm_u6x2i8(j->M, n1 - n0, L->Kp, L->G, b->xq, b->row_scale, w, ws, bias, y, j->ldy); break;
        default: wm_gemm_i16i8(j->M, n1 - n0, L->Kp, L->G, b->xq, b->row_scale, w, ws, bias, y, j->ldy);
        }
    }
    }
}

// y[M][N] = x[M][K] W^T + bias, whatever the weight dtype.
static void linear(wm_bert *b, const wm_linear *L, int M, const float *x, int ldx, float *y, int ldy) {
    linear_job j = {b, L, M, ldx, ldy, 0, x, y};
    if (L->dtype != WM_DTYPE_F32 && L->dtype != WM_DTYPE_F16) {
        j.parts = parts_for(b, (double)M * L->K, M);
        wm_team_run(b->team, quantize_part, &j, j.parts);
    }
    j.parts = parts_for(b, (double)M * L->K * L->N, (L->N + WM_GEMM_NR - 1) / WM_GEMM_NR);
    wm_team_run(b->team, gemm_part, &j, j.parts);
}

// Row ops: LayerNorm (x = LN(x + res)) or GELU, a range of rows per part
typedef struct {
    wm_bert *b;
    float *x;
    const float *res, *gamma, *beta;
    int M, H, parts;
} rows_job;

static void layernorm_part(void *args, int part, int thread) {
    const rows_job *j = args;
    int r0, r1;
    (void)thread;
    range(j->M, part, j->parts, &r0, &r1);
    wm_layernorm(r1 - r0, j->H, j->x + (size_t)r0 * j->H, j->H, j->res ? j->res + (size_t)r0 * j->H : NULL, j->H,
                 j->gamma, j->beta, j->b->cfg.eps);
}

static void gelu_part(void *args, int part, int thread) {
    const rows_job *j = args;
    int r0, r1;
    (void)thread;
    range(j->M, part, j->parts, &r0, &r1);
    wm_gelu((size_t)(r1 - r0) * j->H, j->x + (size_t)r0 * j->H);
}

static void layernorm(wm_bert *b, int M, float *x, const float *res, const float *gamma, const float *beta) {
    const int H = (int)b->cfg.hidden;
    rows_job j = {b, x, res, gamma, beta, M, H, parts_for(b, (double)M * H, M)};
    wm_team_run(b->team, layernorm_part, &j, j.parts);
}

static void gelu(wm_bert *b, int M, float *x) {
    const int I = (int)b->cfg.intermediate;
    rows_job j = {b, x, NULL, NULL, NULL, M, I, parts_for(b, (double)M * I, M)};
    wm_team_run(b->team, gelu_part, &j, j.parts);
}

static void embed_tokens(wm_bert *b, const int32_t *ids, const int32_t *lens, int n) {
    const int H = (int)b->cfg.hidden;
    int row = 0;
    for (int s = 0; s < n; s++) {
        for (int p = 0; p < lens[s]; p++, row++) {
            float *x = b->x + (size_t)row * H;
            size_t id = (size_t)ids[row];
            if (b->word_map) id = b->word_map[id];  // ids < V (api.c), rows < emb_rows (wemb.c)
            const float *pos = b->pos_emb + (size_t)p * H;
            switch (b->cfg.emb_dtype) {
            case WM_DTYPE_F32: {
                const float *w = (const float *)b->word_emb + id * H;
                for (int i = 0; i < H; i++) x[i] = w[i] + pos[i] + b->type_emb[i];
                break;
            }
            case WM_DTYPE_F16: {
                const uint16_t *w = (const uint16_t *)b->word_emb + id * H;
                for (int i = 0; i < H; i++) x[i] = wm_f16_to_f32(w[i]) + pos[i] + b->type_emb[i];
                break;
            }
            case WM_DTYPE_Q4: {
                // two 4-bit values per byte, element 2i in the low nibble; value = q * scale + min per group
                const uint8_t *w = (const uint8_t *)b->word_emb + id * (size_t)((H + 1) / 2);
                const float *sm = b->word_scale + id * (size_t)(2 * ((H + WM_Q4_GROUP - 1) / WM_Q4_GROUP));
                for (int i = 0; i < H; i++) {
                    const float *g = sm + 2 * (i / WM_Q4_GROUP);
                    float v = (float)((w[i >> 1] >> ((i & 1) * 4)) & 15) * g[0];
                    v += g[1];  // separate statements: never contracted into an FMA, so JS reproduces it exactly
                    x[i] = v + pos[i] + b->type_emb[i];
                }
                break;
            }
            default: {
                const int8_t *w = (const int8_t *)b->word_emb + id * H;
                float sc = b->word_scale[id];
                for (int i = 0; i < H; i++) x[i] = (float)w[i] * sc + pos[i] + b->type_emb[i];
            }
            }
        }
    }
    wm_layernorm(row, H, b->x, H, NULL, 0, b->emb_ln_gamma, b->emb_ln_beta, b->cfg.eps);
}

// Multi-head self-attention, one head of every sequence per part (rows r0 .. r0+len-1 of qkv) into ctx; no mask:
// no padding. Only the first nq query rows of a sequence are computed (len, or 1 when only the CLS row is needed
// any further). Each thread has its own scratch for a head's scores and transposed keys; the values are read where
// they are (wm_gemm_f32_kn takes the other operand as [K][N] rows: v's rows of dh, stride 3H), unless dh is not a
// multiple of 4: the kernel reads each row up to the next multiple of 4, so then they are copied and padded.
typedef struct {
    wm_bert *b;
    const int32_t *lens;
    int n, cls_only;
} attend_job;

static void attend_part(void *args, int h, int thread) {
    const attend_job *j = args;
    wm_bert *b = j->b;
    const int H = (int)b->cfg.hidden, P = (int)b->cfg.max_positions, dh = H / (int)b->cfg.heads, ld = 3 * H;
    const float scale = 1.0f / sqrtf((float)dh);
    float *scores = b->scratch + (size_t)thread * b->scratch_floats;  // [P][P]
    float *kt = scores + (size_t)P * P;                               // [dh][ldk], ldk = len rounded up to 4
    float *vp = kt + (size_t)dh * wm_round_up(P, 4);                  // [len][ldv] when dh % 4 != 0
    for (int s = 0, r0 = 0; s < j->n; r0 += j->lens[s++]) {
        const int len = j->lens[s], nq = j->cls_only ? 1 : len, ldk = wm_round_up(len, 4);
        float *q = b->qkv + (size_t)r0 * ld + h * dh;
        const float *k = q + H, *v = q + 2 * H;
        int ldv = ld;
        if (dh % 4) {
            ldv = wm_round_up(dh, 4);
            for (int t = 0; t < len; t++)
                for (int d = 0; d < ldv; d++) vp[(size_t)t * ldv + d] = d < dh ? v[(size_t)t * ld + d] : 0.0f;
            v = vp;
        }
        for (int d = 0; d < dh; d++) {
            for (int t = 0; t < len; t++) kt[(size_t)d * ldk + t] = k[(size_t)t * ld + d];
            for (int t = len; t < ldk; t++) kt[(size_t)d * ldk + t] = 0.0f;  // read by the kernel, never used
        }
        for (int t = 0; t < nq; t++)
            for (int d = 0; d < dh; d++) q[(size_t)t * ld + d] *= scale;
        wm_gemm_f32_kn(nq, len, dh, q, ld, kt, ldk, scores, len);
        wm_softmax(nq, len, scores, len);
        wm_gemm_f32_kn(nq, dh, len, scores, len, v, ldv, b->ctx + (size_t)r0 * H + h * dh, H);
    }
}

static void pool(const wm_bert *b, int r0, int len, int pooling, int normalize, float *out) {
    const int H = (int)b->cfg.hidden;
    const float *x = b->x + (size_t)r0 * H;
    if (pooling == WM_POOL_CLS) {
        memcpy(out, x, (size_t)H * sizeof *out);
    } else {
        for (int i = 0; i < H; i++) out[i] = 0;
        for (int r = 0; r < len; r++)
            for (int i = 0; i < H; i++) out[i] += x[(size_t)r * H + i];
        for (int i = 0; i < H; i++) out[i] /= (float)len;
    }
    if (normalize) {
        double ss = 0;
        for (int i = 0; i < H; i++) ss += (double)out[i] * out[i];
        // Like torch.nn.functional.normalize: a zero vector stays zero.
        float inv = (float)(1.0 / fmax(sqrt(ss), 1e-12));
        for (int i = 0; i < H; i++) out[i] *= inv;
    }
}

// --- the forward pass ------------------------------------------------------------------------------------------
void wm_bert_forward(wm_bert *b, const int32_t *ids, const int32_t *lens, int n, int pooling, int normalize,
                     float *out) {
    const int H = (int)b->cfg.hidden, I = (int)b->cfg.intermediate;
    int M = 0;
    for (int s = 0; s < n; s++) M += lens[s];
    pack_weights(b);
    embed_tokens(b, ids, lens, n);
    for (uint32_t l = 0; l < b->cfg.layers; l++) {
        const wm_layer *L = &b->layers[l];
        // CLS pooling reads one row per sequence: after the last layer's keys and values, only the first row of
        // each sequence goes on (moved to row s), which skips most of that layer. Every op is per row, so the
        // vectors are bit-identical to computing all rows.
        const int cls_only = pooling == WM_POOL_CLS && l + 1 == b->cfg.layers;
        linear(b, &L->qkv, M, b->x, H, b->qkv, 3 * H);
        attend_job aj = {b, lens, n, cls_only};
        wm_team_run(b->team, attend_part, &aj, (int)b->cfg.heads);
        if (cls_only) {
            for (int s = 0, r0 = 0; s < n; r0 += lens[s++]) {  // r0 >= s: rows move down, never onto unread ones
                memmove(b->ctx + (size_t)s * H, b->ctx + (size_t)r0 * H, (size_t)H * sizeof(float));
                memmove(b->x + (size_t)s * H, b->x + (size_t)r0 * H, (size_t)H * sizeof(float));
            }
            M = n;
        }
        linear(b, &L->attn_out, M, b->ctx, H, b->tmp, H);
        layernorm(b, M, b->tmp, b->x, L->attn_ln_gamma, L->attn_ln_beta);
        float *t = b->x;  // the LayerNorm output is the new hidden state
        b->x = b->tmp, b->tmp = t;
        linear(b, &L->ffn_in, M, b->x, H, b->ffn, I);
        gelu(b, M, b->ffn);
        linear(b, &L->ffn_out, M, b->ffn, I, b->tmp, H);
        layernorm(b, M, b->tmp, b->x, L->out_ln_gamma, L->out_ln_beta);
        t = b->x, b->x = b->tmp, b->tmp = t;
    }
    if (pooling == WM_POOL_CLS)
        for (int s = 0; s < n; s++) pool(b, s, 1, pooling, normalize, out + (size_t)s * H);
    else
        for (int s = 0, r0 = 0; s < n; r0 += lens[s++]) pool(b, r0, lens[s], pooling, normalize, out + (size_t)s * H);
}
