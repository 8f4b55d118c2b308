// Whole-file reader shared by the native tools and C tests (not part of the library). The buffer is 64-byte
// aligned (model sections are aligned for SIMD loads in place) and NUL-terminated (JSONL parsing). Exits with
// status 2 and a message if the file cannot be read.
#ifndef WM_READ_FILE_H
#define WM_READ_FILE_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

static inline uint8_t *read_file(const char *path, size_t *size) {
    FILE *f = fopen(path, "rb");
    if (!f) fprintf(stderr, "cannot open %s\n", path), exit(2);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *buf = n >= 0 ? aligned_alloc(64, ((size_t)n + 64) / 64 * 64) : NULL;
    if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n) fprintf(stderr, "cannot read %s\n", path), exit(2);
    fclose(f);
    buf[n] = 0;
    *size = (size_t)n;
    return buf;
}

#endif
