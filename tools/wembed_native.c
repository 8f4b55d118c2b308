// Native driver of the public C API, for tests (the ASan/UBSan run) and quick experiments:
//   wembed_native MODEL.wemb TEXTS.bin OUT.f32 [IDS.bin]
// TEXTS.bin is the packed batch wm_embed takes: u32 n, u32 offsets[n+1], then the UTF-8 bytes
// (tests/js/texts-bin.mjs writes it). The model is fed in uneven chunks, as a network stream would deliver it.
// IDS.bin, if given, receives per text: u32 count, then count i32 ids.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wembed.h"
#include "read_file.h"

int main(int argc, char **argv) {
    if (argc < 4) {
        fprintf(stderr, "usage: wembed_native MODEL.wemb TEXTS.bin OUT.f32 [IDS.bin]\n");
        return 2;
    }
    size_t msize, tsize;
    uint8_t *file = read_file(argv[1], &msize), *texts = read_file(argv[2], &tsize);
    wm_model *m = wm_open(msize);
    if (!m) return fprintf(stderr, "error: %s\n", wm_last_error(NULL)), 1;
    int st = 0;
    for (size_t at = 0, step = 1000; at < msize && st == 0; step = step * 3 % 1000003 + 1) {
        size_t k = msize - at < step ? msize - at : step;
        memcpy(wm_buffer(m) + at, file + at, k);
        at += k;
        st = wm_feed(m, at);
    }
    if (st != 1) return fprintf(stderr, "error: %s\n", wm_last_error(m)), wm_close(m), 1;
    uint32_t n;
    memcpy(&n, texts, 4);
    if (tsize < 8 + 4ull * n) return fprintf(stderr, "bad texts file\n"), 1;
    uint32_t *offsets = malloc(4 * ((size_t)n + 1));
    memcpy(offsets, texts + 4, 4 * ((size_t)n + 1));
    const char *bytes = (const char *)texts + 8 + 4 * (size_t)n;
    if (offsets[n] > tsize - (8 + 4 * (size_t)n)) return fprintf(stderr, "bad texts file\n"), 1;
    int dim = wm_dim(m);
    float *out = malloc(sizeof *out * (size_t)dim * (n ? n : 1));
    if (wm_embed(m, bytes, offsets, (int32_t)n, NULL, out)) return fprintf(stderr, "error: %s\n", wm_last_error(m)), 1;
    if (wm_pruned_texts(m)) fprintf(stderr, "%u of %u texts met pieces outside the pruned vocabulary\n", (unsigned)wm_pruned_texts(m), (unsigned)n);
    FILE *f = fopen(argv[3], "wb");
    fwrite(out, sizeof *out, (size_t)dim * n, f);
    fclose(f);
    if (argc > 4) {
        FILE *g = fopen(argv[4], "wb");
        int32_t *ids = malloc(sizeof *ids * 8192);
        for (uint32_t i = 0; i < n; i++) {
            int k = wm_tokenize(m, bytes + offsets[i], offsets[i + 1] - offsets[i], ids, 0);
            uint32_t count = k < 0 ? 0 : (uint32_t)k;
            fwrite(&count, 4, 1, g);
            fwrite(ids, 4, count, g);
        }
        fclose(g);
        free(ids);
    }
    printf("%s\n", wm_info(m));
    free(out), free(offsets), free(file), free(texts);
    wm_close(m);
    return 0;
}
