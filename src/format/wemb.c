// The .wemb reader: checks a file as it streams in (docs/format.md). Nothing here trusts the bytes: every size
// is compared with what the config implies, every offset with the file size, every section with its CRC.
#include "format/wemb.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int fail(char *err, size_t cap, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, cap, fmt, ap);
    va_end(ap);
    return -1;
}

static uint32_t rd32(const uint8_t *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }
static uint64_t rd64(const uint8_t *p) { return (uint64_t)rd32(p) | (uint64_t)rd32(p + 4) << 32; }

// --- CRC-32 (IEEE, reflected), slicing by 8: checks ~1 GB/s in wasm, so a streamed model is verified as fast
// as it arrives and only the last section is left to check after the last byte.
static uint32_t crc_table[8][256];
static int crc_ready;

static void crc_init(void) {
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++) c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        crc_table[0][i] = c;
    }
    for (uint32_t i = 0; i < 256; i++)
        for (int t = 1; t < 8; t++) crc_table[t][i] = crc_table[0][crc_table[t - 1][i] & 0xFF] ^ (crc_table[t - 1][i] >> 8);
    crc_ready = 1;
}

uint32_t wm_crc32(uint32_t crc, const uint8_t *p, size_t n) {
    if (!crc_ready) crc_init();
    crc = ~crc;
    while (n >= 8) {
        uint32_t a = rd32(p) ^ crc, b = rd32(p + 4);
        crc = crc_table[7][a & 0xFF] ^ crc_table[6][(a >> 8) & 0xFF] ^ crc_table[5][(a >> 16) & 0xFF] ^
              crc_table[4][a >> 24] ^ crc_table[3][b & 0xFF] ^ crc_table[2][(b >> 8) & 0xFF] ^
              crc_table[1][(b >> 16) & 0xFF] ^ crc_table[0][b >> 24];
        p += 8;
        n -= 8;
    }
    while (n--) crc = crc_table[0][(crc ^ *p++) & 0xFF] ^ (crc >> 8);
    return ~crc;
}

// --- names, for messages -----------------------------------------------------------------------------------
const char *wm_section_name(uint32_t kind) {
    static const char *lin[4] = {"QKV", "ATTN_OUT", "FFN_IN", "FFN_OUT"};
    static const char *part[4] = {"weight", "scale", "bias", "in_scale"};
    static char buf[32];
    switch (kind) {
    case WM_SEC_CONFIG: return "CONFIG";
    case WM_SEC_METADATA: return "METADATA";
    case WM_SEC_TOKENIZER: return "TOKENIZER";
    case WM_SEC_EMB_WORD: return "EMB_WORD";
    case WM_SEC_EMB_WORD_SCALE: return "EMB_WORD_SCALE";
    case WM_SEC_EMB_POS: return "EMB_POS";
    case WM_SEC_EMB_TYPE: return "EMB_TYPE";
    case WM_SEC_EMB_LN_GAMMA: return "EMB_LN_GAMMA";
    case WM_SEC_EMB_LN_BETA: return "EMB_LN_BETA";
    case WM_SEC_EMB_WORD_MAP: return "EMB_WORD_MAP";
    case WM_SEC_ATTN_LN_GAMMA: return "ATTN_LN_GAMMA";
    case WM_SEC_ATTN_LN_BETA: return "ATTN_LN_BETA";
    case WM_SEC_OUT_LN_GAMMA: return "OUT_LN_GAMMA";
    case WM_SEC_OUT_LN_BETA: return "OUT_LN_BETA";
    }
    if (kind >= WM_SEC_LINEAR && kind < WM_SEC_LINEAR + 16) {
        snprintf(buf, sizeof buf, "%s %s", lin[(kind - WM_SEC_LINEAR) / 4], part[(kind - WM_SEC_LINEAR) % 4]);
        return buf;
    }
    snprintf(buf, sizeof buf, "kind %u", (unsigned)kind);
    return buf;
}

static int per_layer(uint32_t kind) { return kind >= WM_SEC_LINEAR && kind <= WM_SEC_OUT_LN_BETA; }
static int known_kind(uint32_t kind) {
    return (kind >= WM_SEC_CONFIG && kind <= WM_SEC_TOKENIZER) || (kind >= WM_SEC_EMB_WORD && kind <= WM_SEC_EMB_WORD_MAP) ||
           (kind >= WM_SEC_LINEAR && kind < WM_SEC_LINEAR + 16) || (kind >= WM_SEC_ATTN_LN_GAMMA && kind <= WM_SEC_OUT_LN_BETA);
}

// --- header and table --------------------------------------------------------------------------------------
int wm_header_total_size(const uint8_t *h, size_t avail, uint64_t *total, char *err, size_t cap) {
    if (avail < WM_HEADER_SIZE) return fail(err, cap, "not a .wemb file: %zu bytes, the header alone is 64", avail);
    if (memcmp(h, "WEMB", 4) != 0) return fail(err, cap, "not a .wemb file: wrong magic (expected \"WEMB\")");
    if (rd32(h + 4) != 1) return fail(err, cap, "unsupported .wemb version %u (this build reads version 1)", (unsigned)rd32(h + 4));
    uint32_t crc = wm_crc32(wm_crc32(0, h, 24), h + 28, WM_HEADER_SIZE - 28);
    if (crc != rd32(h + 24)) return fail(err, cap, "corrupt .wemb header: CRC-32 expected %08x, got %08x", (unsigned)rd32(h + 24), (unsigned)crc);
    uint64_t t = rd64(h + 8);
    uint32_t n = rd32(h + 16);
    if (n < 1 || n > WM_MAX_SECTIONS) return fail(err, cap, "corrupt .wemb header: %u sections (1..%d allowed)", (unsigned)n, WM_MAX_SECTIONS);
    if (t < WM_HEADER_SIZE + (uint64_t)n * WM_ENTRY_SIZE || t > (1ull << 31))
        return fail(err, cap, "corrupt .wemb header: total size %llu is impossible", (unsigned long long)t);
    *total = t;
    return 0;
}

static int cmp_offset(const void *a, const void *b) {
    const wm_section *x = a, *y = b;
    return x->offset < y->offset ? -1 : x->offset > y->offset;
}

static int read_table(wm_file *f, char *err, size_t cap) {
    const uint8_t *h = f->bytes;
    uint32_t n = rd32(h + 16);
    uint64_t table_end = WM_HEADER_SIZE + (uint64_t)n * WM_ENTRY_SIZE;
    uint32_t crc = wm_crc32(0, h + WM_HEADER_SIZE, (size_t)(table_end - WM_HEADER_SIZE));
    if (crc != rd32(h + 20)) return fail(err, cap, "corrupt .wemb section table: CRC-32 expected %08x, got %08x", (unsigned)rd32(h + 20), (unsigned)crc);
    f->sections = calloc(n, sizeof *f->sections);
    if (!f->sections) return fail(err, cap, "out of memory reading the section table");
    f->n_sections = n;
    for (uint32_t i = 0; i < n; i++) {
        const uint8_t *e = h + WM_HEADER_SIZE + i * WM_ENTRY_SIZE;
        wm_section *s = &f->sections[i];
        s->kind = rd32(e);
        s->index = rd32(e + 4);
        s->offset = rd64(e + 8);
        s->size = rd64(e + 16);
        s->crc = rd32(e + 24);
        if (!known_kind(s->kind)) return fail(err, cap, "corrupt .wemb: section %u has unknown kind %u", (unsigned)i, (unsigned)s->kind);
        if (!per_layer(s->kind) && s->index != 0)
            return fail(err, cap, "corrupt .wemb: section %s has index %u (expected 0)", wm_section_name(s->kind), (unsigned)s->index);
        if (s->offset % 64 || s->offset < table_end || s->offset > f->total || s->size > f->total - s->offset)
            return fail(err, cap, "corrupt .wemb: section %s[%u] at offset %llu size %llu lies outside the file (%llu bytes) or is misaligned",
                        wm_section_name(s->kind), (unsigned)s->index, (unsigned long long)s->offset, (unsigned long long)s->size,
                        (unsigned long long)f->total);
    }
    qsort(f->sections, n, sizeof *f->sections, cmp_offset);
    for (uint32_t i = 0; i + 1 < n; i++)
        if (f->sections[i].offset + f->sections[i].size > f->sections[i + 1].offset)
            return fail(err, cap, "corrupt .wemb: sections %s[%u] and %s overlap", wm_section_name(f->sections[i].kind),
                        (unsigned)f->sections[i].index, wm_section_name(f->sections[i + 1].kind));
    for (uint32_t i = 0; i < n; i++)
        for (uint32_t j = i + 1; j < n; j++)
            if (f->sections[i].kind == f->sections[j].kind && f->sections[i].index == f->sections[j].index)
                return fail(err, cap, "corrupt .wemb: section %s[%u] appears twice", wm_section_name(f->sections[i].kind), (unsigned)f->sections[i].index);
    f->table_read = 1;
    return 0;
}

int wm_file_advance(wm_file *f, uint64_t present, char *err, size_t cap) {
    if (present > f->total) return fail(err, cap, "more bytes than the file size (%llu > %llu)", (unsigned long long)present, (unsigned long long)f->total);
    if (!f->table_read) {
        if (present < WM_HEADER_SIZE) return 0;
        uint64_t total;
        if (wm_header_total_size(f->bytes, (size_t)present, &total, err, cap)) return -1;
        if (total != f->total)
            return fail(err, cap, "truncated or padded .wemb: the header says %llu bytes, the file has %llu", (unsigned long long)total, (unsigned long long)f->total);
        if (present < WM_HEADER_SIZE + (uint64_t)rd32(f->bytes + 16) * WM_ENTRY_SIZE) return 0;
        if (read_table(f, err, cap)) return -1;
    }
    while (f->n_verified < f->n_sections) {
        const wm_section *s = &f->sections[f->n_verified];
        if (s->offset + s->size > present) break;
        uint32_t crc = wm_crc32(0, f->bytes + s->offset, (size_t)s->size);
        if (crc != s->crc)
            return fail(err, cap, "corrupt .wemb: section %s[%u] CRC-32 expected %08x, got %08x", wm_section_name(s->kind), (unsigned)s->index,
                        (unsigned)s->crc, (unsigned)crc);
        f->n_verified++;
    }
    return 0;
}

const wm_section *wm_file_find(const wm_file *f, uint32_t kind, uint32_t index) {
    for (uint32_t i = 0; i < f->n_sections; i++)
        if (f->sections[i].kind == kind && f->sections[i].index == index) return &f->sections[i];
    return NULL;
}

// --- config and the sections it implies ----------------------------------------------------------------------
static int parse_config(wm_file *f, char *err, size_t cap) {
    const wm_section *s = wm_file_find(f, WM_SEC_CONFIG, 0);
    if (!s) return fail(err, cap, "invalid .wemb: no CONFIG section");
    if (s->size != 128) return fail(err, cap, "invalid .wemb: CONFIG is %llu bytes (expected 128)", (unsigned long long)s->size);
    const uint8_t *p = f->bytes + s->offset;
    wm_config *c = &f->config;
    c->vocab = rd32(p), c->hidden = rd32(p + 4), c->layers = rd32(p + 8), c->heads = rd32(p + 12);
    c->intermediate = rd32(p + 16), c->max_positions = rd32(p + 20), c->type_vocab = rd32(p + 24);
    uint32_t eps_bits = rd32(p + 28);
    memcpy(&c->eps, &eps_bits, 4);
    c->weight_dtype = rd32(p + 32), c->emb_dtype = rd32(p + 36), c->pooling = rd32(p + 40), c->normalize = rd32(p + 44);
    c->max_tokens = rd32(p + 48), c->metric = rd32(p + 52), c->activation = rd32(p + 56), c->act_bits = rd32(p + 60);
    c->quant_group = rd32(p + 64);
    c->emb_rows = rd32(p + 68);
#define CHECK(cond, ...) \
    if (!(cond)) return fail(err, cap, "invalid .wemb config: " __VA_ARGS__)
    CHECK(c->vocab >= 1 && c->vocab <= (1u << 24), "vocab_size %u", (unsigned)c->vocab);
    CHECK(c->hidden >= 1 && c->hidden <= 8192, "hidden %u", (unsigned)c->hidden);
    CHECK(c->layers >= 1 && c->layers <= 256, "num_layers %u", (unsigned)c->layers);
    CHECK(c->heads >= 1 && c->hidden % c->heads == 0, "num_heads %u does not divide hidden %u", (unsigned)c->heads, (unsigned)c->hidden);
    CHECK(c->intermediate >= 1 && c->intermediate <= 32768, "intermediate %u", (unsigned)c->intermediate);
    CHECK(c->max_positions >= 2 && c->max_positions <= 8192, "max_positions %u", (unsigned)c->max_positions);
    CHECK(c->type_vocab >= 1 && c->type_vocab <= 16, "type_vocab_size %u", (unsigned)c->type_vocab);
    CHECK(isfinite(c->eps) && c->eps > 0, "layer_norm_eps %g", (double)c->eps);
    CHECK(c->weight_dtype <= WM_DTYPE_INT8, "weight dtype %u", (unsigned)c->weight_dtype);
    CHECK(c->emb_dtype <= WM_DTYPE_Q4, "embedding dtype %u", (unsigned)c->emb_dtype);
    CHECK(c->pooling == WM_POOL_CLS || c->pooling == WM_POOL_MEAN, "pooling %u", (unsigned)c->pooling);
    CHECK(c->normalize <= 1, "normalize %u", (unsigned)c->normalize);
    CHECK(c->max_tokens >= 2 && c->max_tokens <= c->max_positions, "max_tokens %u (max_positions %u)", (unsigned)c->max_tokens, (unsigned)c->max_positions);
    CHECK(c->metric == WM_METRIC_COSINE || c->metric == WM_METRIC_DOT, "score metric %u", (unsigned)c->metric);
    CHECK(c->activation == 1, "activation %u (only 1 = erf GELU is known)", (unsigned)c->activation);
    CHECK(c->emb_rows <= c->vocab, "embedding rows %u (vocab_size %u)", (unsigned)c->emb_rows, (unsigned)c->vocab);
    if (c->weight_dtype == WM_DTYPE_INT8) {
        CHECK(c->act_bits >= 2 && c->act_bits <= 12, "activation bits %u (2..12)", (unsigned)c->act_bits);
        CHECK(c->quant_group % 8 == 0 && c->quant_group <= 32768, "quantization group %u (0, or a multiple of 8 up to 32768)",
              (unsigned)c->quant_group);
        // int32 accumulation must be exact: (inputs per group) * qmax * 127 < 2^31.
        uint64_t kmax = c->intermediate > c->hidden ? c->intermediate : c->hidden;
        kmax = (kmax + 7) / 8 * 8;
        if (c->quant_group && c->quant_group < kmax) kmax = c->quant_group;
        CHECK(kmax * ((1ull << (c->act_bits - 1)) - 1) * 127 < (1ull << 31), "activation bits %u overflow int32 sums over %llu inputs",
              (unsigned)c->act_bits, (unsigned long long)kmax);
    } else {
        CHECK(c->quant_group == 0, "quantization group %u with float weights (expected 0)", (unsigned)c->quant_group);
    }
#undef CHECK
    return 0;
}

static int expect(const wm_file *f, uint32_t kind, uint32_t index, uint64_t size, char *err, size_t cap) {
    const wm_section *s = wm_file_find(f, kind, index);
    if (!s) return fail(err, cap, "invalid .wemb: missing section %s for layer %u", wm_section_name(kind), (unsigned)index);
    if (s->size != size)
        return fail(err, cap, "invalid .wemb: section %s[%u] is %llu bytes, the config implies %llu", wm_section_name(kind), (unsigned)index,
                    (unsigned long long)s->size, (unsigned long long)size);
    return 0;
}

static uint64_t dtype_size(uint32_t dtype) { return dtype == WM_DTYPE_F32 ? 4 : dtype == WM_DTYPE_F16 ? 2 : 1; }

int wm_file_finish(wm_file *f, char *err, size_t cap) {
    if (!f->table_read || f->n_verified != f->n_sections) return fail(err, cap, "truncated .wemb: not every section has arrived");
    if (parse_config(f, err, cap)) return -1;
    const wm_config *c = &f->config;
    uint64_t H = c->hidden, I = c->intermediate;
    if (!wm_file_find(f, WM_SEC_TOKENIZER, 0)) return fail(err, cap, "invalid .wemb: no TOKENIZER section");
    uint32_t expected = 3 - !wm_file_find(f, WM_SEC_METADATA, 0);
    int q = c->weight_dtype == WM_DTYPE_INT8;
    // q4: ceil(H/2) bytes per row (two values per byte), scales {f32 scale, f32 min} per group of WM_Q4_GROUP
    int eq = c->emb_dtype == WM_DTYPE_INT8 || c->emb_dtype == WM_DTYPE_Q4;
    uint64_t groups = (H + WM_Q4_GROUP - 1) / WM_Q4_GROUP;
    uint64_t rows = c->emb_rows ? c->emb_rows : c->vocab;  // a pruned vocabulary stores only its kept rows
    uint64_t word_size = c->emb_dtype == WM_DTYPE_Q4 ? rows * ((H + 1) / 2) : rows * H * dtype_size(c->emb_dtype);
    uint64_t scale_size = c->emb_dtype == WM_DTYPE_Q4 ? rows * groups * 8 : rows * 4;
    if (expect(f, WM_SEC_EMB_WORD, 0, word_size, err, cap)) return -1;
    if (eq && expect(f, WM_SEC_EMB_WORD_SCALE, 0, scale_size, err, cap)) return -1;
    if (c->emb_rows) {
        if (expect(f, WM_SEC_EMB_WORD_MAP, 0, (uint64_t)c->vocab * 4, err, cap)) return -1;
        const uint8_t *map = f->bytes + wm_file_find(f, WM_SEC_EMB_WORD_MAP, 0)->offset;
        for (uint32_t i = 0; i < c->vocab; i++)  // every id the tokenizer may produce must land on a stored row
            if (rd32(map + 4 * (size_t)i) >= c->emb_rows)
                return fail(err, cap, "invalid .wemb: section EMB_WORD_MAP maps id %u to row %u, EMB_WORD has %u rows", (unsigned)i,
                            (unsigned)rd32(map + 4 * (size_t)i), (unsigned)c->emb_rows);
        expected++;
    }
    if (expect(f, WM_SEC_EMB_POS, 0, (uint64_t)c->max_positions * H * 4, err, cap) ||
        expect(f, WM_SEC_EMB_TYPE, 0, (uint64_t)c->type_vocab * H * 4, err, cap) || expect(f, WM_SEC_EMB_LN_GAMMA, 0, H * 4, err, cap) ||
        expect(f, WM_SEC_EMB_LN_BETA, 0, H * 4, err, cap))
        return -1;
    expected += 5 + eq;
    const uint64_t dims[4][2] = {{3 * H, H}, {H, H}, {I, H}, {H, I}};  // N, K per linear
    for (uint32_t l = 0; l < c->layers; l++) {
        for (uint32_t j = 0; j < 4; j++) {
            uint64_t N = dims[j][0], K = dims[j][1], Np = (N + 3) / 4 * 4, Kp = (K + 7) / 8 * 8;
            uint32_t base = WM_SEC_LINEAR + 4 * j;
            uint64_t wsize = q ? Np * Kp : N * K * dtype_size(c->weight_dtype);
            if (expect(f, base + WM_PART_WEIGHT, l, wsize, err, cap) || expect(f, base + WM_PART_BIAS, l, N * 4, err, cap)) return -1;
            uint64_t groups = c->quant_group ? (Kp + c->quant_group - 1) / c->quant_group : 1;
            if (q && (expect(f, base + WM_PART_SCALE, l, Np * groups * 4, err, cap) || expect(f, base + WM_PART_IN_SCALE, l, K * 4, err, cap))) return -1;
            expected += q ? 4 : 2;
        }
        for (uint32_t k = WM_SEC_ATTN_LN_GAMMA; k <= WM_SEC_OUT_LN_BETA; k++)
            if (expect(f, k, l, H * 4, err, cap)) return -1;
        expected += 4;
    }
    if (expected != f->n_sections) {
        for (uint32_t i = 0; i < f->n_sections; i++) {
            const wm_section *s = &f->sections[i];
            int extra = (per_layer(s->kind) && s->index >= c->layers) ||
                        (!q && s->kind >= WM_SEC_LINEAR && s->kind < WM_SEC_LINEAR + 16 &&
                         ((s->kind - WM_SEC_LINEAR) % 4 == WM_PART_SCALE || (s->kind - WM_SEC_LINEAR) % 4 == WM_PART_IN_SCALE)) ||
                        (s->kind == WM_SEC_EMB_WORD_SCALE && !eq) || (s->kind == WM_SEC_EMB_WORD_MAP && !c->emb_rows);
            if (extra) return fail(err, cap, "invalid .wemb: unexpected section %s[%u] for this config", wm_section_name(s->kind), (unsigned)s->index);
        }
        return fail(err, cap, "invalid .wemb: %u sections, the config implies %u", (unsigned)f->n_sections, (unsigned)expected);
    }
    return 0;
}

void wm_file_release(wm_file *f) {
    free(f->sections);
    f->sections = NULL;
    f->n_sections = 0;
}
