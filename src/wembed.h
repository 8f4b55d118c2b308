// wembed — BERT sentence embeddings from a .wemb file. The whole public C API.
//
// A model is loaded by streaming: the caller learns the file size (from the 64-byte header, or the transport),
// opens a model of that size, copies bytes into wm_buffer() in order as they arrive and calls wm_feed() with
// the count present so far. Each section is checked (bounds, CRC-32) as soon as it is complete; when the last
// byte is in, wm_feed() returns 1 and the model is ready — the weights are used where they landed.
//
//     wm_model *m = wm_open(size);                       // NULL only if size is impossible or memory is short
//     memcpy(wm_buffer(m), file, size);                  // or chunk by chunk
//     if (wm_feed(m, size) != 1) puts(wm_last_error(m)); // 0 = need more bytes, 1 = ready, -1 = error
//     float v[384]; wm_embed(m, "hello", (uint32_t[]){0, 5}, 1, NULL, v);
//     wm_close(m);
//
// Every function is safe to call on a model in the error state: it fails with the same message. Not thread-safe:
// one model per thread, except through wm_threads (one model's forward pass on several threads).
#ifndef WEMBED_H
#define WEMBED_H

#include <stddef.h>
#include <stdint.h>

typedef struct wm_model wm_model;

// Per-call options; NULL means the model's defaults (recorded by the converter).
typedef struct wm_options {
    int32_t pooling;     // 0 = model default, 1 = CLS, 2 = mean
    int32_t normalize;   // -1 = model default, 0 = raw pooled vector, 1 = L2-normalized
    int32_t max_tokens;  // 0 = model default; else 2 .. max_positions, special tokens included
} wm_options;

wm_model *wm_open(uint64_t file_size);         // reserves the final layout; NULL: see wm_last_error(NULL)
uint8_t *wm_buffer(wm_model *m);               // where file byte i goes: wm_buffer(m)[i]
int wm_feed(wm_model *m, uint64_t bytes_present);  // 0 need more, 1 ready, -1 error (sticky)
const char *wm_last_error(const wm_model *m);  // "" if none; m may be NULL (errors of wm_open)
const char *wm_info(wm_model *m);              // JSON object: dims, pooling, normalize, max_tokens, dtype, ...
int wm_dim(const wm_model *m);                 // embedding dimension, 0 if not ready

// Token ids of text[0..len) with special tokens, truncated to max_tokens (0 = model default). ids needs room
// for that many entries. Returns the count, or -1 on error.
int wm_tokenize(wm_model *m, const char *text, size_t len, int32_t *ids, int32_t max_tokens);

// Embeds n texts stored back to back in texts: text i is texts[offsets[i] .. offsets[i+1]). Writes n rows of
// wm_dim() floats to out. Texts longer than the token limit are truncated (the rest is not read).
// Returns 0, or -1 on error. Batches are packed without padding.
int wm_embed(wm_model *m, const char *texts, const uint32_t *offsets, int32_t n, const wm_options *opt,
             float *out);

// Texts tokenized so far (by wm_tokenize and wm_embed) whose ids a pruned vocabulary changed: the full vocabulary
// would have tokenized some word of them differently (docs/format.md, "Pruned vocabularies"). 0 when not pruned.
uint32_t wm_pruned_texts(const wm_model *m);

// --- threads: the shared-memory wasm builds only (dist/wembed-mt.wasm, dist/wembed-relaxed-mt.wasm) ------------
// One model's forward pass on `threads` threads of one shared memory: the caller of wm_embed and threads - 1
// helpers, each a worker with its own instance of the module on the same memory (Team in js/pool.js). wm_threads
// prepares them on a ready model and returns the top of each helper's stack ([threads - 1] addresses), NULL on
// error (wm_last_error; every other build: no threads). A helper sets its instance's stack pointer to its top
// (the module exports stackRestore), then calls wm_helper(m, i) (i = 1 .. threads - 1), which returns only when
// the model is closed; wm_embed then splits every op into parts that any thread may take. The vectors are the
// same, bit for bit, as on one thread.
const uint32_t *wm_threads(wm_model *m, int threads);
void wm_helper(wm_model *m, int thread);

// Stops the helpers (they return from wm_helper), frees the model.
void wm_close(wm_model *m);

#endif
