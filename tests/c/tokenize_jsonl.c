// Parity tool: tokenize_jsonl [--bench] [--max N] BLOB JSONL
// Tokenizes the "text" of every JSONL line with the tokenizer blob and compares with the line's "ids" (Hugging Face
// tokenizers' output). Prints "N/M identical" and the first mismatches; exits 1 on any mismatch. JSON strings are
// decoded as JS -> Rust would: \uXXXX surrogate pairs combine, a lone surrogate becomes U+FFFD.
// --bench: times encoding only (texts pre-parsed, repeated for >= 1 s) and prints MB/s of UTF-8 text.
#define _POSIX_C_SOURCE 199309L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tokenizer/tokenizer.h"
#include "read_file.h"

typedef struct {
  char *text;
  size_t len;
  int32_t *ids;
  int nids;
} item;

static void put_utf8(char **o, uint32_t cp) {
  uint8_t *p = (uint8_t *)*o;
  if (cp < 0x80) *p++ = (uint8_t)cp;
  else if (cp < 0x800) { *p++ = (uint8_t)(0xC0 | (cp >> 6)); *p++ = (uint8_t)(0x80 | (cp & 0x3F)); }
  else if (cp < 0x10000) {
    *p++ = (uint8_t)(0xE0 | (cp >> 12)); *p++ = (uint8_t)(0x80 | ((cp >> 6) & 0x3F)); *p++ = (uint8_t)(0x80 | (cp & 0x3F));
  } else {
    *p++ = (uint8_t)(0xF0 | (cp >> 18)); *p++ = (uint8_t)(0x80 | ((cp >> 12) & 0x3F));
    *p++ = (uint8_t)(0x80 | ((cp >> 6) & 0x3F)); *p++ = (uint8_t)(0x80 | (cp & 0x3F));
  }
  *o = (char *)p;
}

static int hex4(const char *s, uint32_t *v) {
  *v = 0;
  for (int i = 0; i < 4; i++) {
    char c = s[i];
    int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
    if (d < 0) return 0;
    *v = *v << 4 | (uint32_t)d;
  }
  return 1;
}

// Parses the JSON string at *s (pointing at the opening quote); returns a malloc'd UTF-8 copy.
static char *parse_string(const char **s, size_t *len) {
  const char *p = *s + 1;
  char *out = malloc(strlen(p) * 3 + 4), *o = out;  // \uXXXX (6 bytes) -> at most 3 bytes; others shrink
  while (*p && *p != '"') {
    if (*p != '\\') { *o++ = *p++; continue; }
    p++;
    switch (*p) {
      case 'n': *o++ = '\n'; p++; break;
      case 't': *o++ = '\t'; p++; break;
      case 'r': *o++ = '\r'; p++; break;
      case 'b': *o++ = '\b'; p++; break;
      case 'f': *o++ = '\f'; p++; break;
      case 'u': {
        uint32_t u;
        if (!hex4(p + 1, &u)) { fprintf(stderr, "bad \\u escape\n"); exit(2); }
        p += 5;
        if (u >= 0xD800 && u <= 0xDBFF) {
          uint32_t lo;
          if (p[0] == '\\' && p[1] == 'u' && hex4(p + 2, &lo) && lo >= 0xDC00 && lo <= 0xDFFF) {
            p += 6;
            u = 0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00);
          } else {
            u = 0xFFFD;
          }
        } else if (u >= 0xDC00 && u <= 0xDFFF) {
          u = 0xFFFD;
        }
        put_utf8(&o, u);
        break;
      }
      default: *o++ = *p++; break;  // \" \\ \/
    }
  }
  if (*p != '"') { fprintf(stderr, "unterminated string\n"); exit(2); }
  *s = p + 1;
  *len = (size_t)(o - out);
  *o = 0;
  return out;
}

static const char *find_key(const char *line, const char *key) {
  // keys are at the top level of a flat object; a key can only appear inside a string value if escaped quotes
  // surround it, which the search below skips by walking the object.
  const char *p = line;
  size_t kl = strlen(key);
  while ((p = strchr(p, '"'))) {
    if (strncmp(p + 1, key, kl) == 0 && p[1 + kl] == '"') {
      const char *q = p + 2 + kl;
      while (*q == ' ') q++;
      if (*q == ':') {
        q++;
        while (*q == ' ') q++;
        return q;
      }
    }
    // skip this string
    size_t dummy;
    const char *q = p;
    free(parse_string(&q, &dummy));
    p = q;
  }
  return NULL;
}

static int parse_ids(const char *p, int32_t **ids) {
  int cap = 64, n = 0;
  *ids = malloc(sizeof(int32_t) * (size_t)cap);
  if (*p != '[') return -1;
  p++;
  while (*p && *p != ']') {
    char *end;
    long v = strtol(p, &end, 10);
    if (end == p) { p++; continue; }
    if (n == cap) { cap *= 2; *ids = realloc(*ids, sizeof(int32_t) * (size_t)cap); }
    (*ids)[n++] = (int32_t)v;
    p = end;
  }
  return n;
}

static void print_ids(const char *what, const int32_t *ids, int n) {
  printf("    %s (%d):", what, n);
  for (int i = 0; i < n; i++) printf(" %d", ids[i]);
  printf("\n");
}

int main(int argc, char **argv) {
  int bench = 0, max_tokens = 512, argi = 1;
  while (argi < argc && argv[argi][0] == '-') {
    if (!strcmp(argv[argi], "--bench")) bench = 1;
    else if (!strcmp(argv[argi], "--max") && argi + 1 < argc) max_tokens = atoi(argv[++argi]);
    else { fprintf(stderr, "unknown option %s\n", argv[argi]); return 2; }
    argi++;
  }
  if (argc - argi != 2) { fprintf(stderr, "usage: tokenize_jsonl [--bench] [--max N] BLOB JSONL\n"); return 2; }
  size_t blob_size, jsize;
  uint8_t *blob = read_file(argv[argi], &blob_size);
  char err[256];
  wm_tokenizer *tok = wm_tokenizer_new(blob, blob_size, err, sizeof err);
  if (!tok) { fprintf(stderr, "%s: %s\n", argv[argi], err); return 2; }
  char *data = (char *)read_file(argv[argi + 1], &jsize);

  size_t cap = 1024, n = 0;
  item *items = malloc(cap * sizeof *items);
  for (char *line = data; line && *line;) {
    char *nl = strchr(line, '\n');
    if (nl) *nl = 0;
    if (*line) {
      const char *t = find_key(line, "text"), *ids = find_key(line, "ids");
      if (!t || *t != '"') { fprintf(stderr, "line %zu: no \"text\"\n", n + 1); return 2; }
      if (n == cap) { cap *= 2; items = realloc(items, cap * sizeof *items); }
      items[n].text = parse_string(&t, &items[n].len);
      items[n].ids = NULL;
      items[n].nids = ids ? parse_ids(ids, &items[n].ids) : -1;
      n++;
    }
    line = nl ? nl + 1 : NULL;
  }
  int32_t *out = malloc(sizeof(int32_t) * (size_t)(max_tokens > 0 ? max_tokens : 1));

  if (bench) {
    size_t bytes = 0;
    for (size_t i = 0; i < n; i++) bytes += items[i].len;
    struct timespec t0, t1;
    double secs = 0;
    long reps = 0, total_ids = 0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    do {
      for (size_t i = 0; i < n; i++) total_ids += wm_tokenizer_encode(tok, items[i].text, items[i].len, out, max_tokens);
      reps++;
      clock_gettime(CLOCK_MONOTONIC, &t1);
      secs = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
    } while (secs < 1.0);
    printf("native: %zu texts, %.2f MB, %ld reps, %.3f s: %.1f MB/s, %.0f texts/s (%ld ids)\n", n, bytes / 1e6, reps,
           secs, bytes * (double)reps / 1e6 / secs, n * (double)reps / secs, total_ids);
  }

  size_t same = 0, shown = 0;
  for (size_t i = 0; i < n && !bench; i++) {
    int k = wm_tokenizer_encode(tok, items[i].text, items[i].len, out, max_tokens);
    if (k == items[i].nids && k >= 0 && memcmp(out, items[i].ids, sizeof(int32_t) * (size_t)k) == 0) { same++; continue; }
    if (shown++ < 10) {
      printf("  line %zu: text (%zu bytes): \"%s\"\n", i + 1, items[i].len, items[i].text);
      print_ids("expected", items[i].ids, items[i].nids);
      print_ids("got     ", out, k);
    }
  }
  if (!bench) printf("%s: %zu/%zu identical\n", argv[argi + 1], same, n);
  wm_tokenizer_free(tok);
  for (size_t i = 0; i < n; i++) {
    free(items[i].text);
    free(items[i].ids);
  }
  free(items);
  free(out);
  free(data);
  free(blob);
  return bench || same == n ? 0 : 1;
}
