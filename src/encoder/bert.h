// BERT forward pass over a packed batch of token sequences (no padding): embeddings, L post-LayerNorm layers,
// pooling. Weights are views into the loaded .wemb bytes; activations live in one arena allocated at load.
#ifndef WM_BERT_H
#define WM_BERT_H

#include <stdint.h>

#include "encoder/team.h"
#include "format/wemb.h"

typedef struct wm_linear {
    int N, K, Kp;              // outputs, inputs, inputs padded to the int8 block (8)
    int G;                     // int8: inputs per scale group along K (Kp: one group, per-channel scales)
    uint32_t dtype;            // WM_DTYPE_*
    const void *w;             // f32 [N][K] | f16 [N][K] | int8 packed [Np*Kp] (docs/format.md; kernels.h's
                               // wm_pack_weights_i8 order after the first forward pass: weights_packed)
    const float *w_scale;      // int8: [Np/4][ceil(Kp/G)][4] per output channel and group
    const float *bias;         // [N]
    const float *in_scale;     // int8: [K] per input channel, applied before quantizing the activation
} wm_linear;

// The int8 GEMM and activation layout of kernels.h an int8 model runs on: the fastest that computes its sums
// exactly in this build, on this engine (bert.c choose_int8_gemm).
enum { WM_GEMM_I16_I8, WM_GEMM_U6X2_I8, WM_GEMM_U8_I8 };

typedef struct wm_layer {
    wm_linear qkv, attn_out, ffn_in, ffn_out;
    const float *attn_ln_gamma, *attn_ln_beta;  // [H]
    const float *out_ln_gamma, *out_ln_beta;    // [H]
} wm_layer;

typedef struct wm_bert {
    wm_config cfg;
    const void *word_emb;        // [R][H] f32 | f16 | int8 | q4 rows; R = V, or emb_rows when pruned
    const float *word_scale;     // int8: [R]; q4: [R][ceil(H/32)][2] {scale, min}
    const uint32_t *word_map;    // pruned vocabulary: [V] id -> row of word_emb (every entry checked); else NULL
    const float *pos_emb;        // [P][H]
    const float *type_emb;       // [T][H]; every token has type 0 (single sequences)
    const float *emb_ln_gamma, *emb_ln_beta;  // [H]
    wm_layer *layers;            // [L]
    int weights_packed;          // the int8 linears are in wm_pack_weights_i8's order (bert.c pack_weights)
    int int8_gemm;               // WM_GEMM_*: how the int8 linears take their activations, chosen at init

    // --- arena: sized once at load for max_rows packed tokens; nothing is allocated per call
    int max_rows;                // token rows per forward pass (>= max_positions)
    void *arena;
    float *x;                    // [max_rows][H] hidden state
    float *tmp;                  // [max_rows][H] sublayer output before the residual LayerNorm
    float *qkv;                  // [max_rows][3H]
    float *ctx;                  // [max_rows][H] attention output (heads concatenated)
    float *ffn;                  // [max_rows][I]
    void *xq;                    // [max_rows][max(Hp, Ip)] int16, u8 or u6x2 quantized activations
    float *row_scale;            // [max_rows][groups] per token and group of the quantized activations

    // --- threads (team.h): each op of a layer is split into parts; attention has a scratch per thread
    wm_team *team;               // NULL: one thread
    float *scratch;              // [threads][scratch_floats]: one head's scores [P][P], keys^T [dh][P4], values
                                 // [P][dh4] when dh % 4 != 0 (P4, dh4: rounded up to 4)
    size_t scratch_floats;
} wm_bert;

// Points the model at the verified file's sections and allocates the arena. 0, or -1 with err.
int wm_bert_init(wm_bert *b, const wm_file *f, char *err, size_t cap);
void wm_bert_free(wm_bert *b);

// Runs the forward pass on this team's threads (NULL: the calling thread alone). 0, or -1 with err.
int wm_bert_set_team(wm_bert *b, wm_team *team, char *err, size_t cap);

// Runs the encoder on n sequences packed back to back in ids (lens[s] tokens each, sum <= max_rows, each
// <= max_positions) and writes the pooled (and, if normalize, L2-normalized) vectors to out [n][H].
void wm_bert_forward(wm_bert *b, const int32_t *ids, const int32_t *lens, int n, int pooling, int normalize,
                     float *out);

#endif
