// Native robustness test of the .wemb reader and loader (run under ASan/UBSan by `make test-asan`):
// a valid model file, then thousands of mutations of it — bit flips in the header, the table, every section
// and the padding, truncations, and table entries rewritten to hostile sizes and offsets. Each must load
// cleanly or fail with a message; none may crash, leak or read out of bounds.
//   test_format MODEL.wemb
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "format/wemb.h"
#include "read_file.h"
#include "wembed.h"

static int passed, failed;
#define CHECK(cond, ...)                                        \
    do {                                                        \
        if (cond) passed++;                                     \
        else { failed++; fprintf(stderr, "FAIL: " __VA_ARGS__); fputc('\n', stderr); } \
    } while (0)

static uint64_t rng = 0x9E3779B97F4A7C15ull;
static uint32_t next(void) {
    rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
    return (uint32_t)(rng >> 11);
}

static void wr32(uint8_t *p, uint32_t v) { for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> 8 * i); }
static void wr64(uint8_t *p, uint64_t v) { wr32(p, (uint32_t)v), wr32(p + 4, (uint32_t)(v >> 32)); }
static uint32_t rd32(const uint8_t *p) { return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24; }

// Re-seals header and table CRCs so a mutation reaches the deeper checks instead of stopping at the CRC.
static void reseal(uint8_t *b) {
    uint32_t n = rd32(b + 16);
    if (n > WM_MAX_SECTIONS) return;
    wr32(b + 20, wm_crc32(0, b + 64, 32 * (size_t)n));
    wr32(b + 24, wm_crc32(wm_crc32(0, b, 24), b + 28, 36));
}

// Loads bytes[0..size) as a stream of uneven chunks; returns 1 ready, -1 error (with a message), 0 truncated.
static int try_load(const uint8_t *bytes, size_t size, uint64_t declared, int embed) {
    wm_model *m = wm_open(declared);
    if (!m) return strlen(wm_last_error(NULL)) ? -1 : -2;
    int st = 0;
    size_t at = 0;
    while (at < size && st == 0) {
        size_t k = 1 + next() % 200000;
        if (k > size - at) k = size - at;
        memcpy(wm_buffer(m) + at, bytes + at, k);
        at += k;
        st = wm_feed(m, at);
    }
    if (st == -1 && !strlen(wm_last_error(m))) st = -2;
    if (st == 1 && embed) {
        const char *t = "hello wembed [SEP] 中文";
        uint32_t off[2] = {0, (uint32_t)strlen(t)};
        float *out = malloc(sizeof *out * (size_t)wm_dim(m));
        int r = wm_embed(m, t, off, 1, NULL, out);
        if (r != 0 && !strlen(wm_last_error(m))) st = -2;
        free(out);
    }
    wm_close(m);
    return st;
}

int main(int argc, char **argv) {
    if (argc < 2) return fprintf(stderr, "usage: test_format MODEL.wemb\n"), 2;
    size_t size;
    uint8_t *orig = read_file(argv[1], &size), *b = malloc(size);
    uint32_t n = rd32(orig + 16);

    CHECK(try_load(orig, size, size, 1) == 1, "the valid file loads and embeds");
    CHECK(try_load(orig, size - 1, size, 0) == 0, "one byte short stays incomplete");
    CHECK(try_load(orig, size - 1, size - 1, 0) == -1, "a file one byte short of its header's size is refused");
    CHECK(try_load(orig, 10, 10, 0) == -1, "10 bytes are refused");

    // bit flips anywhere: either a clean error, or (padding bytes) a model that still works
    for (int i = 0; i < 400; i++) {
        memcpy(b, orig, size);
        size_t at = i < 100 ? next() % (64 + 32 * n) : next() % size;
        b[at] ^= (uint8_t)(1u << next() % 8);
        int st = try_load(b, size, size, 1);
        CHECK(st == -1 || st == 1, "flip at %zu: status %d", at, st);
    }
    // hostile table entries behind valid CRCs: sizes, offsets, kinds, indices, counts
    for (int i = 0; i < 600; i++) {
        memcpy(b, orig, size);
        uint8_t *e = b + 64 + 32 * (next() % n);
        switch (next() % 6) {
        case 0: wr64(e + 16, (uint64_t)next() << (next() % 32)); break;                   // size
        case 1: wr64(e + 8, ((uint64_t)next() << (next() % 32)) & ~63ull); break;          // offset
        case 2: wr32(e, next() % 80); break;                                               // kind
        case 3: wr32(e + 4, next() % 300); break;                                          // layer index
        case 4: wr32(b + 16, next() % (n + 3)); break;                                     // section count
        case 5: wr64(b + 8, size + next() % 3 - 1); break;                                 // total size
        }
        reseal(b);
        int st = try_load(b, size, size, 1);
        CHECK(st == -1 || st == 1, "hostile entry %d: status %d", i, st);
    }
    // hostile config values behind valid CRCs
    const uint8_t *cfg = NULL;
    for (uint32_t i = 0; i < n; i++)
        if (rd32(orig + 64 + 32 * i) == WM_SEC_CONFIG) cfg = orig + 64 + 32 * i;
    CHECK(cfg != NULL, "the file has a CONFIG section");
    for (int i = 0; cfg && i < 300; i++) {
        memcpy(b, orig, size);
        uint32_t off = rd32(cfg + 8);
        uint32_t field = 4 * (next() % 16);
        uint32_t vals[] = {0, 1, 2, 3, 7, 8, 12, 13, 255, 512, 513, 0xFFFFFFFFu, 0x7F800000u, next()};
        wr32(b + off + field, vals[next() % 14]);
        wr32(b + 64 + 32 * (size_t)((cfg - orig - 64) / 32) + 24, wm_crc32(0, b + off, 128));
        reseal(b);
        int st = try_load(b, size, size, 1);
        CHECK(st == -1 || st == 1, "config field %u: status %d", field, st);
    }
    // a pruned vocabulary (EMB_WORD_MAP): every entry must name a stored row; emb_rows must match EMB_WORD
    const uint8_t *map = NULL;
    for (uint32_t i = 0; i < n; i++)
        if (rd32(orig + 64 + 32 * i) == WM_SEC_EMB_WORD_MAP) map = orig + 64 + 32 * i;
    for (int i = 0; map && cfg && i < 200; i++) {
        memcpy(b, orig, size);
        uint32_t off = rd32(map + 8), len = rd32(map + 16), rows = rd32(orig + rd32(cfg + 8) + 68);
        uint32_t at = off + 4 * (next() % (len / 4)), v = i % 2 ? rows + next() % 3 : next() % rows;
        if (i % 10 == 9) v = 0xFFFFFFFFu;
        wr32(b + at, v);
        wr32(b + (map - orig) + 24, wm_crc32(0, b + off, len));
        reseal(b);
        int st = try_load(b, size, size, 1);
        CHECK(st == (v < rows ? 1 : -1), "map entry %u = %u (%u rows): status %d", (at - off) / 4, v, rows, st);
        memcpy(b, orig, size);  // emb_rows
        uint32_t coff = rd32(cfg + 8), vals[] = {0, 1, rows - 1, rows + 1, 0xFFFFFFFFu, next()};
        wr32(b + coff + 68, vals[next() % 6]);
        wr32(b + (cfg - orig) + 24, wm_crc32(0, b + coff, 128));
        reseal(b);
        st = try_load(b, size, size, 1);
        CHECK(st == -1, "emb_rows %u: status %d", rd32(b + coff + 68), st);
    }
    CHECK(wm_open(1ull << 40) == NULL && strlen(wm_last_error(NULL)), "an impossible size is refused without allocating");

    free(orig), free(b);
    printf("%d passed, %d failed\n", passed, failed);
    return failed != 0;
}
