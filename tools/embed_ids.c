// Encoder-only driver: embeds pre-tokenized sequences, to check the encoder apart from the tokenizer.
//   embed_ids MODEL.wemb IDS.bin OUT.f32
// IDS.bin: per sequence u32 count then count i32 ids (tests/js/texts-bin.mjs --ids writes it from the
// reference ids). Uses the format reader and encoder directly, the TOKENIZER section is not interpreted.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "encoder/bert.h"
#include "format/wemb.h"
#include "read_file.h"

int main(int argc, char **argv) {
    if (argc < 4) return fprintf(stderr, "usage: embed_ids MODEL.wemb IDS.bin OUT.f32\n"), 2;
    size_t size;
    uint8_t *bytes = read_file(argv[1], &size);
    FILE *g = fopen(argv[2], "rb");
    if (!g) return fprintf(stderr, "cannot open %s\n", argv[2]), 2;
    char err[320];
    wm_file file = {.bytes = bytes, .total = size};
    wm_bert bert;
    if (wm_file_advance(&file, size, err, sizeof err) || wm_file_finish(&file, err, sizeof err) ||
        wm_bert_init(&bert, &file, err, sizeof err))
        return fprintf(stderr, "error: %s\n", err), 1;
    int H = (int)bert.cfg.hidden;
    int32_t *ids = malloc(sizeof *ids * (size_t)bert.max_rows);
    float *out = malloc(sizeof *out * (size_t)H);
    FILE *o = fopen(argv[3], "wb");
    uint32_t n;
    while (fread(&n, 4, 1, g) == 1) {
        if (n > bert.cfg.max_positions || fread(ids, 4, n, g) != n) return fprintf(stderr, "bad ids file\n"), 1;
        int32_t len = (int32_t)n;
        wm_bert_forward(&bert, ids, &len, 1, (int)bert.cfg.pooling, (int)bert.cfg.normalize, out);
        fwrite(out, sizeof *out, (size_t)H, o);
    }
    fclose(o), fclose(g);
    wm_bert_free(&bert);
    wm_file_release(&file);
    free(ids), free(out), free(bytes);
    return 0;
}
