// The public C API (wembed.h): streaming load, tokenize, embed. It owns the model's memory: the file buffer
// (weights are used where they land), the tokenizer, the encoder and its arena, the token staging buffers.
#include "wembed.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "encoder/bert.h"
#include "format/wemb.h"
#include "tokenizer/tokenizer.h"

enum { LOADING, READY, FAILED };

struct wm_model {
    uint8_t *bytes;       // [file.total], 64-byte aligned: sections are aligned for SIMD loads in place
    wm_file file;
    int state;
    char error[320];
    wm_tokenizer *tok;
    wm_bert bert;
    int32_t *ids, *lens;  // [max_rows + max_positions] packed token ids of the pending batch (and the next text); [max_rows] their lengths
    uint32_t pruned_texts;  // texts whose tokenization the pruned vocabulary changed, since load
    char info[768];
};

static char open_error[160];

// A caller's mistake (bad option): reported, but the model stays usable.
static int arg_error(wm_model *m, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(m->error, sizeof m->error, fmt, ap);
    va_end(ap);
    return -1;
}

// A broken model (corrupt file, failed load): every later call fails with this message.
static int set_error(wm_model *m, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(m->error, sizeof m->error, fmt, ap);
    va_end(ap);
    m->state = FAILED;
    return -1;
}

wm_model *wm_open(uint64_t size) {
    open_error[0] = 0;
    if (size < 64 || size > (1ull << 31)) {
        snprintf(open_error, sizeof open_error, "not a .wemb file: size %llu bytes", (unsigned long long)size);
        return NULL;
    }
    wm_model *m = calloc(1, sizeof *m);
    uint8_t *bytes = m ? aligned_alloc(64, (size_t)(size + 63) / 64 * 64) : NULL;
    if (!bytes) {
        free(m);
        snprintf(open_error, sizeof open_error, "out of memory: cannot reserve %llu bytes for the model", (unsigned long long)size);
        return NULL;
    }
    m->bytes = bytes;
    m->file.bytes = bytes;
    m->file.total = size;
    return m;
}

uint8_t *wm_buffer(wm_model *m) { return m ? m->bytes : NULL; }

const char *wm_last_error(const wm_model *m) { return m ? m->error : open_error; }

// The reader has already written its message into m->error: only the state changes.
static int reader_failed(wm_model *m) {
    m->state = FAILED;
    return -1;
}

static int finish_load(wm_model *m) {
    if (wm_file_finish(&m->file, m->error, sizeof m->error)) return reader_failed(m);
    const wm_section *ts = wm_file_find(&m->file, WM_SEC_TOKENIZER, 0);
    char err[256];
    m->tok = wm_tokenizer_new(m->bytes + ts->offset, (size_t)ts->size, err, sizeof err);
    if (!m->tok) return set_error(m, "invalid .wemb TOKENIZER section: %s", err);
    if (wm_bert_init(&m->bert, &m->file, err, sizeof err)) return set_error(m, "%s", err);
    m->ids = malloc(sizeof *m->ids * ((size_t)m->bert.max_rows + m->bert.cfg.max_positions));
    m->lens = malloc(sizeof *m->lens * (size_t)m->bert.max_rows);
    if (!m->ids || !m->lens) return set_error(m, "out of memory for token buffers");
    m->state = READY;
    return 1;
}

int wm_feed(wm_model *m, uint64_t present) {
    if (!m) return -1;
    if (m->state != LOADING) return m->state == READY ? 1 : -1;
    if (wm_file_advance(&m->file, present, m->error, sizeof m->error)) return reader_failed(m);
    return present == m->file.total ? finish_load(m) : 0;
}

static int ready(wm_model *m) {
    if (!m) return 0;
    if (m->state == LOADING) set_error(m, "model not loaded: %llu-byte file incomplete", (unsigned long long)m->file.total);
    return m->state == READY;
}

int wm_dim(const wm_model *m) { return m && m->state == READY ? (int)m->bert.cfg.hidden : 0; }

// The instruction set this build's kernels use: the JS side reports which module it loaded from the module itself.
#if defined(__wasm_relaxed_simd__)
#define WM_SIMD "relaxed"
#elif defined(__wasm_simd128__)
#define WM_SIMD "simd128"
#else
#define WM_SIMD "none"
#endif

const char *wm_info(wm_model *m) {
    if (!ready(m)) return "{}";
    const wm_config *c = &m->bert.cfg;
    static const char *dtypes[] = {"f32", "f16", "int8", "q4"};
    static const char *gemms[] = {"\"i16i8\"", "\"u6x2i8\"", "\"u8i8\""};  // bert.h's WM_GEMM_* order
    snprintf(m->info, sizeof m->info,
             "{\"dim\":%u,\"hidden\":%u,\"layers\":%u,\"heads\":%u,\"intermediate\":%u,\"vocab\":%u,\"max_positions\":%u,"
             "\"max_tokens\":%u,\"pooling\":\"%s\",\"normalize\":%s,\"metric\":\"%s\",\"dtype\":\"%s\",\"embedding_dtype\":\"%s\","
             "\"activation_bits\":%u,\"quant_group\":%u,\"size\":%llu,\"special_tokens\":%d,\"embedding_rows\":%u,"
             "\"simd\":\"" WM_SIMD "\",\"int8_gemm\":%s}",
             c->hidden, c->hidden, c->layers, c->heads, c->intermediate, c->vocab, c->max_positions, c->max_tokens,
             c->pooling == WM_POOL_CLS ? "cls" : "mean", c->normalize ? "true" : "false", c->metric == WM_METRIC_DOT ? "dot" : "cosine",
             dtypes[c->weight_dtype], dtypes[c->emb_dtype], c->weight_dtype == WM_DTYPE_INT8 ? c->act_bits : 0, c->quant_group,
             (unsigned long long)m->file.total, wm_tokenizer_num_special(m->tok), c->emb_rows ? c->emb_rows : c->vocab,
             c->weight_dtype != WM_DTYPE_INT8 ? "null" : gemms[m->bert.int8_gemm]);
    return m->info;
}

static int resolve_max_tokens(wm_model *m, int32_t max_tokens) {
    const wm_config *c = &m->bert.cfg;
    if (max_tokens == 0) return (int)c->max_tokens;
    int specials = wm_tokenizer_num_special(m->tok);
    if (max_tokens < specials || max_tokens < 1 || (uint32_t)max_tokens > c->max_positions)
        return arg_error(m, "maxTokens %d is out of range (%d .. %u for this model)", max_tokens, specials > 1 ? specials : 1,
                         (unsigned)c->max_positions);
    return max_tokens;
}

// Tokenizes into ids[] and checks every id against the embedding table (the tokenizer blob is untrusted).
static int tokenize_checked(wm_model *m, const char *text, size_t len, int32_t *ids, int limit) {
    int n = wm_tokenizer_encode(m->tok, text, len, ids, limit);
    if (n == -2) return arg_error(m, "out of memory while tokenizing a %zu-byte text", len);  // the model stays usable
    if (n < 0) return arg_error(m, "cannot tokenize with a limit of %d tokens", limit);
    m->pruned_texts += (uint32_t)wm_tokenizer_pruned_hit(m->tok);
    for (int i = 0; i < n; i++)
        if (ids[i] < 0 || (uint32_t)ids[i] >= m->bert.cfg.vocab)
            return set_error(m, "invalid .wemb: the tokenizer produced id %d outside the vocabulary (%u)", ids[i], (unsigned)m->bert.cfg.vocab);
    return n;
}

int wm_tokenize(wm_model *m, const char *text, size_t len, int32_t *ids, int32_t max_tokens) {
    if (!ready(m)) return -1;
    int limit = resolve_max_tokens(m, max_tokens);
    if (limit < 0) return -1;
    return tokenize_checked(m, text, len, ids, limit);
}

int wm_embed(wm_model *m, const char *texts, const uint32_t *offsets, int32_t n, const wm_options *opt, float *out) {
    if (!ready(m)) return -1;
    const wm_config *c = &m->bert.cfg;
    int pooling = opt && opt->pooling ? opt->pooling : (int)c->pooling;
    int normalize = opt && opt->normalize >= 0 ? opt->normalize : (int)c->normalize;
    if (pooling != WM_POOL_CLS && pooling != WM_POOL_MEAN) return arg_error(m, "pooling %d is not 1 (cls) or 2 (mean)", pooling);
    int limit = resolve_max_tokens(m, opt ? opt->max_tokens : 0);
    if (limit < 0) return -1;
    if (n < 0) return arg_error(m, "negative text count %d", n);
    const int H = (int)c->hidden, R = m->bert.max_rows;
    wm_team_wake(m->bert.team);
    int first = 0, rows = 0;  // texts first .. i-1 are staged: their ids in ids[0 .. rows), rows <= R
    for (int i = 0; i < n; i++) {
        if (offsets[i + 1] < offsets[i]) return arg_error(m, "text %d: offsets go backwards", i);
        // tokenized after the staged texts (ids has room for R + max_positions), then staged if it still fits
        int k = tokenize_checked(m, texts + offsets[i], offsets[i + 1] - offsets[i], m->ids + rows, limit);
        if (k < 0) return -1;
        if (rows + k > R || i - first == R) {  // it does not: run the staged texts, then start again with it
            wm_bert_forward(&m->bert, m->ids, m->lens, i - first, pooling, normalize, out + (size_t)first * H);
            memmove(m->ids, m->ids + rows, (size_t)k * sizeof *m->ids);
            first = i, rows = 0;
        }
        m->lens[i - first] = k;
        rows += k;
    }
    if (n > first) wm_bert_forward(&m->bert, m->ids, m->lens, n - first, pooling, normalize, out + (size_t)first * H);
    return 0;
}

uint32_t wm_pruned_texts(const wm_model *m) { return m ? m->pruned_texts : 0; }

const uint32_t *wm_threads(wm_model *m, int threads) {
    if (!ready(m)) return NULL;
    if (m->bert.team) return arg_error(m, "this model already runs on %d threads", wm_team_size(m->bert.team)), NULL;
    const uint32_t *tops;
    char err[200];
    // Helpers' stacks: the kernels' frames are small (tens of bytes); this leaves room for any libc call.
    wm_team *team = wm_team_start(threads, 128 * 1024, &tops, err, sizeof err);
    if (!team || wm_bert_set_team(&m->bert, team, err, sizeof err)) return arg_error(m, "%s", err), NULL;
    return tops;
}

void wm_helper(wm_model *m, int thread) {
    if (m && m->bert.team && thread >= 1 && thread < wm_team_size(m->bert.team)) wm_team_helper(m->bert.team, thread);
}

void wm_close(wm_model *m) {
    if (!m) return;
    wm_team_stop(m->bert.team);
    if (m->tok) wm_tokenizer_free(m->tok);
    wm_bert_free(&m->bert);
    wm_file_release(&m->file);
    free(m->ids);
    free(m->lens);
    free(m->bytes);
    free(m);
}
