// The .wemb reader (docs/format.md): header, section table, CRC-32 per section, config. The only code that
// trusts nothing: every offset, size and enum is checked before anything else looks at the bytes.
#ifndef WM_WEMB_H
#define WM_WEMB_H

#include <stddef.h>
#include <stdint.h>

enum {
    WM_SEC_CONFIG = 1, WM_SEC_METADATA = 2, WM_SEC_TOKENIZER = 3,
    WM_SEC_EMB_WORD = 16, WM_SEC_EMB_WORD_SCALE = 17, WM_SEC_EMB_POS = 18, WM_SEC_EMB_TYPE = 19,
    WM_SEC_EMB_LN_GAMMA = 20, WM_SEC_EMB_LN_BETA = 21,
    WM_SEC_EMB_WORD_MAP = 22,  // pruned vocabulary: u32 [V], token id -> EMB_WORD row
    WM_SEC_LINEAR = 32,  // + 4 * linear + part (WM_PART_*), linear = WM_LIN_*
    WM_SEC_ATTN_LN_GAMMA = 64, WM_SEC_ATTN_LN_BETA = 65, WM_SEC_OUT_LN_GAMMA = 66, WM_SEC_OUT_LN_BETA = 67,
};
enum { WM_LIN_QKV = 0, WM_LIN_ATTN_OUT = 1, WM_LIN_FFN_IN = 2, WM_LIN_FFN_OUT = 3 };
enum { WM_PART_WEIGHT = 0, WM_PART_SCALE = 1, WM_PART_BIAS = 2, WM_PART_IN_SCALE = 3 };
enum { WM_DTYPE_F32 = 0, WM_DTYPE_F16 = 1, WM_DTYPE_INT8 = 2, WM_DTYPE_Q4 = 3 /* EMB_WORD only */ };
// q4 word embeddings: 4-bit unsigned, one {f32 scale, f32 min} per group of WM_Q4_GROUP values along H (docs/format.md).
#define WM_Q4_GROUP 32
enum { WM_POOL_CLS = 1, WM_POOL_MEAN = 2 };
enum { WM_METRIC_COSINE = 1, WM_METRIC_DOT = 2 };

#define WM_HEADER_SIZE 64
#define WM_ENTRY_SIZE 32
#define WM_MAX_SECTIONS 4096

typedef struct wm_config {
    uint32_t vocab, hidden, layers, heads, intermediate, max_positions, type_vocab;
    float eps;
    uint32_t weight_dtype, emb_dtype, pooling, normalize, max_tokens, metric, activation, act_bits;
    uint32_t quant_group;  // int8: inputs per scale group along K (multiple of 8); 0 = one group per row
    uint32_t emb_rows;  // rows stored in EMB_WORD when the vocabulary is pruned (EMB_WORD_MAP present), else 0 (V rows)
} wm_config;

typedef struct wm_section {
    uint32_t kind, index;
    uint64_t offset, size;
    uint32_t crc;
} wm_section;

// Streaming state of one file being received into a buffer of its final size.
typedef struct wm_file {
    const uint8_t *bytes;    // [total]
    uint64_t total;
    uint32_t n_sections;
    wm_section *sections;    // [n_sections], sorted by offset once the table is read
    uint32_t n_verified;     // sections[0 .. n_verified) have passed their CRC
    int table_read;
    wm_config config;
} wm_file;

// Reads the 64-byte header: the total file size it claims, after checking magic, version and header CRC.
int wm_header_total_size(const uint8_t *header, size_t avail, uint64_t *total, char *err, size_t cap);

// Advances verification with bytes[0 .. present) available: reads the table once it is complete, checks the
// CRC of every section that has fully arrived. Returns 0 (fine so far), -1 (error in err).
int wm_file_advance(wm_file *f, uint64_t present, char *err, size_t cap);

// After the last byte: checks the config and that every section the config requires is present with the size
// it implies. Returns 0 or -1.
int wm_file_finish(wm_file *f, char *err, size_t cap);

const wm_section *wm_file_find(const wm_file *f, uint32_t kind, uint32_t index);
const char *wm_section_name(uint32_t kind);
void wm_file_release(wm_file *f);

uint32_t wm_crc32(uint32_t crc, const uint8_t *p, size_t n);

#endif
