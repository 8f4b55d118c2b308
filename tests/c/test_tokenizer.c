// Tokenizer unit tests: test_tokenizer FIXTURE_BLOB UNIGRAM_BLOB BYTES_BLOB PRUNED_BLOB [REAL_BLOB [XLMR_BLOB]]
// FIXTURE_BLOB is the small tokenizer of tests/js/tokenizer-blob.mjs --fixture (ids below refer to its vocab);
// UNIGRAM_BLOB / BYTES_BLOB its SentencePiece twins (--fixture-unigram / --fixture-bytes, tests/js/unigram-fixture.mjs;
// the expected ids were checked against Hugging Face tokenizers); PRUNED_BLOB the byte-fallback one with a pruned
// vocabulary (--fixture-pruned: only ▁hello hell o x e kept, besides specials and bytes); REAL_BLOB (optional) is a real BERT blob and
// XLMR_BLOB the real XLM-R Unigram blob, used for the corruption fuzzing and a few extra checks.
// Covers: pipeline edge cases, the Unicode version mix, invalid UTF-8, NUL bytes, truncation, early stop on huge
// texts (a guard page proves nothing past the budget is read), corrupted blobs (error, never a crash); for Unigram:
// the Precompiled charsmap's grapheme semantics, Replace, Metaspace, Viterbi ties, fused unknowns, byte fallback,
// added tokens between splits, and 1 MB single words (no safe cut point, and CJK).
#define _DEFAULT_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "tokenizer/grapheme.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/tokenizer_impl.h"
#include "tokenizer/unicode.h"
#include "read_file.h"

static int failures = 0, checks = 0;

#define CHECK(cond, ...)                                   \
  do {                                                     \
    checks++;                                              \
    if (!(cond)) {                                         \
      failures++;                                          \
      printf("FAIL %s:%d: ", __FILE__, __LINE__);          \
      printf(__VA_ARGS__);                                 \
      printf("\n");                                        \
    }                                                      \
  } while (0)

// Fixture ids (tests/js/tokenizer-blob.mjs).
enum { PAD, UNK, CLS, SEP, MASK, HELLO, WORLD, S_, UN, AFF_, ABLE_, COMMA, BANG, A, A_, CAFE, I, ZHONG, WEN, X, X_,
       LBR, RBR, HELL, O_, EACUTE, SZ, GEO_AN, DOT, DOT_ABOVE_, X_MC };

static void expect_len(wm_tokenizer *tok, const char *text, size_t len, int max, const int *want, int nwant,
                       int line) {
  int32_t out[1024];
  int n = wm_tokenizer_encode(tok, text, len, out, max);
  int ok = n == nwant;
  for (int i = 0; ok && i < n; i++) ok = out[i] == want[i];
  checks++;
  if (!ok) {
    failures++;
    printf("FAIL line %d: \"%.*s\" (max %d): got", line, (int)len, text, max);
    for (int i = 0; i < n; i++) printf(" %d", out[i]);
    printf(" (n=%d), want", n);
    for (int i = 0; i < nwant; i++) printf(" %d", want[i]);
    printf("\n");
  }
}
#define EXPECT(tok, text, max, ...)                                                       \
  do {                                                                                    \
    static const int w_[] = {__VA_ARGS__};                                                \
    expect_len(tok, text, strlen(text), max, w_, (int)(sizeof w_ / sizeof w_[0]), __LINE__); \
  } while (0)
#define EXPECT_LEN(tok, text, len, max, ...)                                              \
  do {                                                                                    \
    static const int w_[] = {__VA_ARGS__};                                                \
    expect_len(tok, text, len, max, w_, (int)(sizeof w_ / sizeof w_[0]), __LINE__);      \
  } while (0)

static void test_unicode(void) {
  uint32_t d[WM_UC_MAX_DECOMP], l[WM_UC_MAX_LOWER];
  int n = wm_uc_nfd(0x1E69, d);  // s with dot below and dot above
  CHECK(n == 3 && d[0] == 's' && d[1] == 0x323 && d[2] == 0x307, "NFD U+1E69");
  n = wm_uc_nfd(0xAC01, d);  // Hangul GAG
  CHECK(n == 3 && d[0] == 0x1100 && d[1] == 0x1161 && d[2] == 0x11A8, "NFD Hangul");
  n = wm_uc_nfd(0xF900, d);  // CJK compatibility ideograph
  CHECK(n == 1 && d[0] == 0x8C48, "NFD U+F900");
  n = wm_uc_nfd(0x2FA1D, d);
  CHECK(n == 1 && d[0] == 0x2A600, "NFD U+2FA1D");
  n = wm_uc_nfd('e', d);
  CHECK(n == 1 && d[0] == 'e', "NFD ASCII");
  CHECK(wm_uc_ccc(0x301) == 230 && wm_uc_ccc(0x323) == 220 && wm_uc_ccc('a') == 0 && wm_uc_ccc(0x1D165) == 216, "ccc");
  CHECK(wm_uc_ccc(0x1E94A) == 7, "ccc Adlam nukta (Unicode 9)");
  CHECK(wm_uc_ccc(0x1E130) == 0, "ccc of a mark assigned after Unicode 9 is 0 in the reference");
  CHECK((wm_uc_props(0x200B) & WM_UC_OTHER) && (wm_uc_props(0xE0041) & WM_UC_OTHER), "Cf is other");
  CHECK((wm_uc_props(0x85) & WM_UC_OTHER) && (wm_uc_props(0x85) & WM_UC_WS), "U+0085");
  CHECK((wm_uc_props(0xE000) & WM_UC_OTHER) && (wm_uc_props(0x10FFFD) & WM_UC_OTHER), "private use");
  CHECK(wm_uc_props(0x1F9BF) == 0, "unassigned in Unicode 9 is not other");
  CHECK(wm_uc_props(0x378) == 0, "unassigned is not other");
  CHECK((wm_uc_props(0x3002) & WM_UC_PUNCT) && (wm_uc_props('$') & WM_UC_PUNCT) && (wm_uc_props('~') & WM_UC_PUNCT),
        "punctuation");
  CHECK(!(wm_uc_props(0x2E4F) & WM_UC_PUNCT), "U+2E4F (Unicode 11 Po) is not punctuation in the reference");
  CHECK((wm_uc_props(0x301) & WM_UC_MN) && !(wm_uc_props(0x903) & WM_UC_MN), "Mn");
  CHECK((wm_uc_props(0x3000) & WM_UC_WS) && (wm_uc_props(0x2028) & WM_UC_WS) && !(wm_uc_props(0x200B) & WM_UC_WS),
        "whitespace");
  CHECK(!(wm_uc_props(0x180E) & WM_UC_WS) && (wm_uc_props(0x180E) & WM_UC_OTHER), "U+180E");
  n = wm_uc_lower(0x130, l);
  CHECK(n == 2 && l[0] == 'i' && l[1] == 0x307, "lower U+0130");
  n = wm_uc_lower(0x1C90, l);
  CHECK(n == 1 && l[0] == 0x10D0, "lower Georgian Mtavruli");
  n = wm_uc_lower(0x10400, l);
  CHECK(n == 1 && l[0] == 0x10428, "lower Deseret");
  n = wm_uc_lower(0x1E9E, l);
  CHECK(n == 1 && l[0] == 0xDF, "lower U+1E9E");
  n = wm_uc_lower(0x100, l);
  CHECK(n == 1 && l[0] == 0x101, "lower U+0100");
  n = wm_uc_lower(0x101, l);
  CHECK(n == 1 && l[0] == 0x101, "lower U+0101");
  n = wm_uc_lower(0x3A3, l);
  CHECK(n == 1 && l[0] == 0x3C3, "lower sigma (no final-sigma rule in char::to_lowercase)");
  CHECK(wm_uc_is_chinese(0x4E00) && wm_uc_is_chinese(0x2B920) && !wm_uc_is_chinese(0x2B820) && !wm_uc_is_chinese(0x3000),
        "chinese ranges");
}

static void test_fixture(wm_tokenizer *tok) {
  CHECK(wm_tokenizer_num_special(tok) == 2, "num_special");
  EXPECT(tok, "Hello, World!", 512, CLS, HELLO, COMMA, WORLD, BANG, SEP);
  EXPECT(tok, "unaffable", 512, CLS, UN, AFF_, ABLE_, SEP);
  EXPECT(tok, "worlds", 512, CLS, WORLD, S_, SEP);
  EXPECT(tok, "Caf\xc3\xa9", 512, CLS, CAFE, SEP);          // strip accents follows lowercase
  EXPECT(tok, "CAFE\xcc\x81", 512, CLS, CAFE, SEP);         // combining acute is Mn
  EXPECT(tok, "\xe4\xb8\xad\xe6\x96\x87", 512, CLS, ZHONG, WEN, SEP);
  EXPECT(tok, "x\xe4\xb8\xadx", 512, CLS, X, ZHONG, X, SEP);
  EXPECT(tok, "xxx", 512, CLS, X, X_, X_, SEP);
  EXPECT(tok, "hellxo", 512, CLS, HELL, X_, O_, SEP);
  EXPECT(tok, "helloq", 512, CLS, UNK, SEP);                // any unmatched piece: the whole word is [UNK]
  EXPECT(tok, "hello.world", 512, CLS, HELLO, DOT, WORLD, SEP);
  EXPECT(tok, "hello\xe3\x80\x82world", 512, CLS, HELLO, UNK, WORLD, SEP);  // U+3002 is punctuation
  EXPECT(tok, "$", 512, CLS, UNK, SEP);
  // added tokens: matched in the raw text, leftmost-longest, never normalized
  EXPECT(tok, "[CLS] hello [SEP]", 512, CLS, CLS, HELLO, SEP, SEP);
  EXPECT(tok, "[CLS]hello[SEP]", 512, CLS, CLS, HELLO, SEP, SEP);
  EXPECT(tok, "hello[MASK]world", 512, CLS, HELLO, MASK, WORLD, SEP);
  EXPECT(tok, "[cls]", 512, CLS, LBR, UNK, RBR, SEP);
  EXPECT(tok, "[MASK", 512, CLS, LBR, UNK, SEP);
  EXPECT(tok, "[[PAD]]", 512, CLS, LBR, PAD, RBR, SEP);
  // empty and whitespace-only
  EXPECT(tok, "", 512, CLS, SEP);
  EXPECT_LEN(tok, NULL, 0, 512, CLS, SEP);
  EXPECT(tok, " \t\n\r\xc2\xa0\xe3\x80\x80 ", 512, CLS, SEP);
  // controls and format characters are removed, whitespace splits
  EXPECT(tok, "hel\xe2\x80\x8blo", 512, CLS, HELLO, SEP);       // U+200B (Cf)
  EXPECT(tok, "hel\xf3\xa0\x81\x81lo", 512, CLS, HELLO, SEP);   // U+E0041 tag (Cf)
  EXPECT(tok, "hel\x01lo", 512, CLS, HELLO, SEP);
  EXPECT(tok, "hello\xc2\xa0world", 512, CLS, HELLO, WORLD, SEP);
  EXPECT(tok, "hello\xc2\x85world", 512, CLS, UNK, SEP);         // U+0085 is Cc: removed, not a space
  EXPECT(tok, "hello\xf0\x9f\xa6\xbf", 512, CLS, UNK, SEP);       // U+1F9BF: kept (not "other"), so one word
  // NUL bytes are text (removed by clean_text)
  EXPECT_LEN(tok, "hel\0lo", 6, 512, CLS, HELLO, SEP);
  EXPECT_LEN(tok, "\0\0\0", 3, 512, CLS, SEP);
  // invalid UTF-8: U+FFFD per maximal invalid subsequence, then removed
  EXPECT(tok, "\xff\xfehello\xc3", 512, CLS, HELLO, SEP);
  EXPECT(tok, "hello\xe2\x80", 512, CLS, HELLO, SEP);
  EXPECT(tok, "a\xed\xa0\x80" "a", 512, CLS, A, A_, SEP);      // encoded surrogate
  EXPECT(tok, "a\xf4\x90\x80\x80" "a", 512, CLS, A, A_, SEP);  // > U+10FFFF
  EXPECT(tok, "a\xc0\xaf" "a", 512, CLS, A, A_, SEP);          // overlong
  EXPECT(tok, "[CLS\xff]", 512, CLS, LBR, UNK, RBR, SEP);
  // Unicode version mix: Georgian Mtavruli (Unicode 11) is lower-cased (Rust std), not removed
  EXPECT(tok, "\xe1\xb2\x90", 512, CLS, GEO_AN, SEP);
  EXPECT(tok, "\xe1\xba\x9e", 512, CLS, SZ, SEP);              // U+1E9E -> ß
  EXPECT(tok, "\xc4\xb0", 512, CLS, I, SEP);                   // U+0130: NFD drops the dot, then lower-case
  // canonical reordering: U+1D16D (ccc 226) U+1D165 (ccc 216) -> 1D165 1D16D
  EXPECT(tok, "X\xf0\x9d\x85\xad\xf0\x9d\x85\xa5", 512, CLS, X_MC, SEP);
  EXPECT(tok, "X\xf0\x9d\x85\xa5\xf0\x9d\x85\xad", 512, CLS, X_MC, SEP);
  // max_input_chars_per_word = 100 (characters)
  char buf[512];
  memset(buf, 'a', 101);
  {
    int32_t out[512];
    int n = wm_tokenizer_encode(tok, buf, 100, out, 512);
    CHECK(n == 102 && out[1] == A && out[2] == A_ && out[100] == A_ && out[101] == SEP, "100 chars: %d ids", n);
  }
  EXPECT_LEN(tok, buf, 101, 512, CLS, UNK, SEP);
  // truncation keeps the special tokens
  EXPECT(tok, "hello world hello", 4, CLS, HELLO, WORLD, SEP);
  EXPECT(tok, "hello world hello", 3, CLS, HELLO, SEP);
  EXPECT(tok, "hello world hello", 2, CLS, SEP);
  EXPECT(tok, "unaffable", 4, CLS, UN, AFF_, SEP);
  EXPECT(tok, "[CLS][CLS][CLS]", 4, CLS, CLS, CLS, SEP);
  {
    int32_t out[4];
    CHECK(wm_tokenizer_encode(tok, "hello", 5, out, 1) == -1, "max_tokens < specials");
    CHECK(wm_tokenizer_encode(tok, "hello", 5, out, -5) == -1, "negative max_tokens");
  }
}

// The encoder must stop reading once the budget is full: the text ends at a PROT_NONE page, len claims 1 MB more.
static void test_early_stop(wm_tokenizer *tok) {
  long page = sysconf(_SC_PAGESIZE);
  uint8_t *m = mmap(NULL, (size_t)page * 2, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (m == MAP_FAILED) { printf("skip early-stop test (mmap)\n"); return; }
  for (long i = 0; i < page; i++) m[i] = "hello "[i % 6];
  mprotect(m + page, (size_t)page, PROT_NONE);
  int32_t out[16];
  int n = wm_tokenizer_encode(tok, (const char *)m, 1 << 20, out, 16);  // would fault if it read past the page
  CHECK(n == 16 && out[0] == CLS && out[1] == HELLO && out[14] == HELLO && out[15] == SEP, "early stop: %d", n);
  munmap(m, (size_t)page * 2);

  // 1 MB of text costs little when truncated
  size_t big = 1 << 20;
  char *t = malloc(big);
  for (size_t i = 0; i < big; i++) t[i] = "hello world "[i % 12];
  int32_t ids[512];
  struct timespec a, b;
  clock_gettime(CLOCK_MONOTONIC, &a);
  n = wm_tokenizer_encode(tok, t, big, ids, 512);
  clock_gettime(CLOCK_MONOTONIC, &b);
  double ms = (double)(b.tv_sec - a.tv_sec) * 1e3 + (double)(b.tv_nsec - a.tv_nsec) / 1e6;
  CHECK(n == 512 && ms < 50, "1 MB text truncated to 512: n=%d, %.3f ms", n, ms);
  printf("1 MB text, 512 tokens: %.3f ms\n", ms);
  // a 1 MB single word (no budget limit reached: the whole word is read, then it is one [UNK])
  memset(t, 'a', big);
  n = wm_tokenizer_encode(tok, t, big, ids, 512);
  CHECK(n == 3 && ids[1] == UNK, "1 MB word");
  // 1 MB of combining marks after a starter (NFD buffer is bounded)
  for (size_t i = 0; i + 4 <= big; i += 4) memcpy(t + i, "\xf0\x9d\x85\xa5", 4);
  t[0] = 'x';
  n = wm_tokenizer_encode(tok, t, big, ids, 512);
  CHECK(n == 3 && ids[1] == UNK, "1 MB of non-starters: %d", n);
  free(t);
}

// Unigram fixture ids (tests/js/unigram-fixture.mjs): UNIGRAM_PIECES, then <mask> (30; 286 with byte fallback).
enum { U_S, U_PAD, U_ES, U_UNK, U_SP, U_HELLO, U_WORLD, U_HELL, U_O, U_SPA, U_B, U_AB, U_EACUTE, U_FI, U_SPX, U_X, U_E,
       U_L, U_H, U_SPH, U_LT, U_GT, U_SPLT, U_ZHONG, U_WEN, U_ZHONGWEN, U_A, U_SPFI, U_TM, U_ONE, U_MASK };

static void test_grapheme(void) {
  // boundaries as unicode-segmentation 1.12 (Unicode 16) finds them
  static const struct { uint32_t cp[6]; int n; const char *brk; } cases[] = {
    {{'\r', '\n'}, 2, "10"},                           // GB3
    {{'e', 0x301, 0x301}, 3, "100"},                   // GB9
    {{0x1100, 0x1161, 0x11A8, 'x'}, 4, "1001"},         // GB6-8 Hangul L V T
    {{0x1F1E6, 0x1F1E7, 0x1F1E8}, 3, "101"},            // GB12/13 regional indicator pairs
    {{0x1F468, 0x200D, 0x1F469}, 3, "100"},             // GB11 emoji ZWJ sequence
    {{'a', 0x200D, 0x1F469}, 3, "101"},                 // GB11 needs a pictograph before the ZWJ
    {{0x915, 0x94D, 0x937}, 3, "100"},                  // GB9c: consonant virama consonant
    {{0x915, 0x93C, 0x94D, 0x937}, 4, "1000"},          // GB9c with an InCB=Extend mark in between
    {{'x', 0x94D, 0x937}, 3, "101"},                    // GB9c needs a consonant first
    {{0x600, 'x'}, 2, "10"},                            // GB9b prepend
    {{'a', 0x903}, 2, "10"},                            // GB9a spacing mark
    {{0x1, 0x301}, 2, "11"},                            // GB4 control
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    wm_gc_state st;
    wm_gc_reset(&st);
    char got[8] = {0};
    for (int k = 0; k < cases[i].n; k++) got[k] = wm_gc_next(&st, cases[i].cp[k]) ? '1' : '0';
    CHECK(strcmp(got, cases[i].brk) == 0, "grapheme case %zu: %s, want %s", i, got, cases[i].brk);
  }
}

static void test_unigram_fixture(wm_tokenizer *tok) {
  CHECK(wm_tokenizer_num_special(tok) == 2, "num_special");
  EXPECT(tok, "", 512, U_S, U_ES);
  EXPECT_LEN(tok, NULL, 0, 512, U_S, U_ES);
  EXPECT(tok, " ", 512, U_S, U_SP, U_ES);                     // whitespace alone is the "▁" piece
  EXPECT(tok, "  ", 512, U_S, U_SP, U_ES);                    // Replace " {2,}" -> " "
  EXPECT(tok, "hello world", 512, U_S, U_HELLO, U_WORLD, U_ES);
  EXPECT(tok, "hello  world", 512, U_S, U_HELLO, U_WORLD, U_ES);
  EXPECT(tok, " hello", 512, U_S, U_HELLO, U_ES);             // starts with the replacement: nothing prepended
  EXPECT(tok, "hello ", 512, U_S, U_HELLO, U_SP, U_ES);
  EXPECT(tok, "hellohello", 512, U_S, U_HELLO, U_HELL, U_O, U_ES);
  EXPECT(tok, "Hello", 512, U_S, U_SP, U_UNK, U_E, U_L, U_L, U_O, U_ES);  // no lower-casing: H is unknown
  EXPECT(tok, "hello\tworld", 512, U_S, U_HELLO, U_WORLD, U_ES);          // charsmap: tab -> space
  EXPECT(tok, "hello\r\nworld", 512, U_S, U_HELLO, U_WORLD, U_ES);        // CR LF is one cluster: one space
  EXPECT(tok, "\r\n", 512, U_S, U_SP, U_ES);
  // the charsmap replaces a whole cluster (< 6 bytes) by the value of its shortest matching prefix
  EXPECT(tok, "e\xcc\x81", 512, U_S, U_SP, U_EACUTE, U_ES);
  EXPECT(tok, "e\xcc\x81\xcc\x81x", 512, U_S, U_SP, U_EACUTE, U_X, U_ES);                // 2nd accent dropped
  EXPECT(tok, "e\xcc\x81\xcc\x81\xcc\x81x", 512, U_S, U_SP, U_E, U_UNK, U_X, U_ES);     // 7 bytes: per character
  EXPECT(tok, "\xef\xac\x81\xcc\x81", 512, U_S, U_SPFI, U_ES);                            // fi ligature + accent
  EXPECT(tok, "\xe2\x84\xa2", 512, U_S, U_SP, U_TM, U_ES);                                // TM sign
  EXPECT(tok, "\xe2\x91\xa0\xe2\x91\xa0", 512, U_S, U_SP, U_ONE, U_ONE, U_ES);
  EXPECT(tok, "\xef\xbc\xa1" "b", 512, U_S, U_SP, U_AB, U_ES);                            // full-width A -> a
  EXPECT(tok, "\x15", 512, U_S, U_ES);                                                    // removed: empty split
  EXPECT(tok, "\x15hello", 512, U_S, U_HELLO, U_ES);
  EXPECT(tok, "x\x15x", 512, U_S, U_SPX, U_X, U_ES);
  EXPECT(tok, "\xe3\x80\x80hello", 512, U_S, U_HELLO, U_ES);                             // ideographic space
  EXPECT(tok, "\xe2\x96\x81\xe2\x96\x81hello", 512, U_S, U_HELLO, U_ES);                 // U+2581 -> space
  // Viterbi: a tie keeps the piece that starts earliest (▁ + ab, not ▁a + b)
  EXPECT(tok, "ab", 512, U_S, U_SP, U_AB, U_ES);
  EXPECT(tok, "a b", 512, U_S, U_SPA, U_SP, U_B, U_ES);
  EXPECT(tok, "\xe4\xb8\xad\xe6\x96\x87\xe4\xb8\xad", 512, U_S, U_SP, U_ZHONGWEN, U_ZHONG, U_ES);
  EXPECT(tok, "\xe4\xb8\xad\xe4\xb8\xad\xe6\x96\x87\xe6\x96\x87", 512, U_S, U_SP, U_ZHONG, U_ZHONGWEN, U_WEN, U_ES);
  // unknown characters: consecutive ones fused into one <unk>; the "<unk>" piece fuses too
  EXPECT(tok, "qq", 512, U_S, U_SP, U_UNK, U_ES);
  EXPECT(tok, "q q", 512, U_S, U_SP, U_UNK, U_SP, U_UNK, U_ES);
  EXPECT(tok, "hqqo", 512, U_S, U_SP, U_H, U_UNK, U_O, U_ES);
  EXPECT(tok, "\xef\xbc\x9cunk\xef\xbc\x9e", 512, U_S, U_SP, U_UNK, U_ES);               // "<unk>" after the charsmap
  EXPECT(tok, "q\xef\xbc\x9cunk\xef\xbc\x9e", 512, U_S, U_SP, U_UNK, U_ES);
  EXPECT(tok, "\xf0\x9f\x98\x80", 512, U_S, U_SP, U_UNK, U_ES);
  EXPECT(tok, "x\xf0\x9f\x98\x80x", 512, U_S, U_SPX, U_UNK, U_X, U_ES);
  // added tokens split the text; each split gets its own "▁"
  EXPECT(tok, "<unk>", 512, U_S, U_UNK, U_ES);
  EXPECT(tok, "q<unk>q", 512, U_S, U_SP, U_UNK, U_UNK, U_SP, U_UNK, U_ES);
  EXPECT(tok, "<s>hello</s>", 512, U_S, U_S, U_HELLO, U_ES, U_ES);
  EXPECT(tok, "hello<mask>world", 512, U_S, U_HELLO, U_MASK, U_WORLD, U_ES);
  EXPECT(tok, " <mask> ", 512, U_S, U_SP, U_MASK, U_SP, U_ES);
  // invalid UTF-8 is U+FFFD (unknown here), a NUL byte is text
  EXPECT(tok, "a\xff" "b", 512, U_S, U_SPA, U_UNK, U_B, U_ES);
  EXPECT(tok, "\xed\xa0\x80", 512, U_S, U_SP, U_UNK, U_ES);
  EXPECT_LEN(tok, "x\0x", 3, 512, U_S, U_SPX, U_UNK, U_X, U_ES);
  EXPECT(tok, "x\xe0\xa5\x8d\xe0\xa4\x95", 512, U_S, U_SPX, U_UNK, U_ES);                 // x + virama + KA
  // truncation keeps the special tokens
  EXPECT(tok, "hello world hello world hello", 4, U_S, U_HELLO, U_WORLD, U_ES);
  EXPECT(tok, "hello world hello world hello", 3, U_S, U_HELLO, U_ES);
  EXPECT(tok, "hello world hello world hello", 2, U_S, U_ES);
  EXPECT(tok, "<s><s><s>", 4, U_S, U_S, U_S, U_ES);
  {
    int32_t out[4];
    CHECK(wm_tokenizer_encode(tok, "hello", 5, out, 1) == -1, "max_tokens < specials");
  }
}

static void test_unigram_bytes(wm_tokenizer *tok) {
  enum { B0 = 30 };  // <0x00>
  EXPECT(tok, "qq", 512, U_S, U_SP, B0 + 'q', B0 + 'q', U_ES);
  EXPECT(tok, "hq", 512, U_S, U_SP, U_H, B0 + 'q', U_ES);
  EXPECT(tok, "\xf0\x9f\x98\x80", 512, U_S, U_SP, B0 + 0xF0, B0 + 0x9F, B0 + 0x98, B0 + 0x80, U_ES);
  EXPECT(tok, "<unk>q", 512, U_S, U_UNK, U_SP, B0 + 'q', U_ES);
  // a fused run longer than any piece goes out byte by byte as it is read
  char q[64];
  memset(q, 'q', 20);
  int32_t out[64];
  int n = wm_tokenizer_encode(tok, q, 20, out, 64);
  int ok = n == 23 && out[0] == U_S && out[1] == U_SP && out[22] == U_ES;
  for (int i = 2; ok && i < 22; i++) ok = out[i] == B0 + 'q';
  CHECK(ok, "20 unknown bytes: %d ids", n);
  n = wm_tokenizer_encode(tok, q, 20, out, 6);
  CHECK(n == 6 && out[4] == B0 + 'q' && out[5] == U_ES, "truncated byte run: %d ids", n);
}

// A pruned vocabulary: the kept pieces only, unknown runs that spell a pruned piece become bytes, and the hit flag
// says when the full vocabulary would have done otherwise.
static void test_unigram_pruned(wm_tokenizer *tok) {
  enum { B0 = 30, E2 = B0 + 0xE2, X96 = B0 + 0x96, X81 = B0 + 0x81 };  // "▁" is E2 96 81
  EXPECT(tok, "hello", 512, U_S, U_HELLO, U_ES);
  CHECK(wm_tokenizer_pruned_hit(tok) == 0, "hello: no hit");
  // ▁world, ▁ and l are pruned: unknown runs "▁w" and "rld" around the kept o, as bytes
  EXPECT(tok, "world", 512, U_S, E2, X96, X81, B0 + 'w', U_O, B0 + 'r', B0 + 'l', B0 + 'd', U_ES);
  CHECK(wm_tokenizer_pruned_hit(tok) == 1, "world: hit");
  // ▁ alone is a pruned piece: its fused run goes out as bytes, then the kept hell and x
  EXPECT(tok, "hellx", 512, U_S, E2, X96, X81, U_HELL, U_X, U_ES);
  CHECK(wm_tokenizer_pruned_hit(tok) == 1, "hellx: hit");
  EXPECT(tok, "hello hello", 512, U_S, U_HELLO, U_HELLO, U_ES);
  CHECK(wm_tokenizer_pruned_hit(tok) == 0, "hello hello: no hit");
  // the flag is per encode, and a word cut by truncation is not judged
  EXPECT(tok, "hello world", 3, U_S, U_HELLO, U_ES);
  CHECK(wm_tokenizer_pruned_hit(tok) == 0, "truncated before world: no hit");
}

// Early stop and 1 MB single words through a Unigram tokenizer.
static void test_unigram_big(wm_tokenizer *tok, int32_t sp_hello) {
  long page = sysconf(_SC_PAGESIZE);
  uint8_t *m = mmap(NULL, (size_t)page * 2, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (m != MAP_FAILED) {
    for (long i = 0; i < page; i++) m[i] = "hello "[i % 6];
    mprotect(m + page, (size_t)page, PROT_NONE);
    int32_t out[16];
    int n = wm_tokenizer_encode(tok, (const char *)m, 1 << 20, out, 16);  // would fault if it read past the page
    CHECK(n == 16 && out[0] == 0 && out[1] == sp_hello && out[15] == 2, "unigram early stop: %d", n);
    munmap(m, (size_t)page * 2);
  }
  size_t big = 1 << 20;
  char *t = malloc(big);
  static int32_t ids[1 << 20];
  struct timespec a, b;
  const char *units[] = {"\xe4\xb8\xad\xe6\x96\x87", "a", "ab", "q", " "};
  for (size_t u = 0; u < sizeof units / sizeof *units; u++) {
    size_t ul = strlen(units[u]), len = 0;
    while (len + ul <= big) { memcpy(t + len, units[u], ul); len += ul; }
    clock_gettime(CLOCK_MONOTONIC, &a);
    int n = wm_tokenizer_encode(tok, t, len, ids, 512);
    clock_gettime(CLOCK_MONOTONIC, &b);
    double ms = (double)(b.tv_sec - a.tv_sec) * 1e3 + (double)(b.tv_nsec - a.tv_nsec) / 1e6;
    CHECK(n >= 3 && n <= 512 && ids[0] == 0 && ids[n - 1] == 2, "1 MB of \"%s\": %d ids", units[u], n);
    CHECK(tok->ucap <= 65536, "lattice memory given back after 1 MB of \"%s\" (%zu)", units[u], tok->ucap);
    printf("1 MB of \"%s\", 512 tokens: %d ids, %.3f ms\n", units[u], n, ms);
    int n2 = wm_tokenizer_encode(tok, t, len, ids, 1 << 20);  // and the whole of it
    CHECK(n2 >= n && ids[0] == 0 && ids[n2 - 1] == 2, "1 MB of \"%s\", no limit: %d ids", units[u], n2);
  }
  free(t);
}

static uint64_t rng = 0x9E3779B97F4A7C15ull;
static uint32_t rnd(void) {
  rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17;
  return (uint32_t)(rng >> 11);
}

static const char *probe_texts[] = {"Hello, World! [CLS] unaffable", "", "\xe4\xb8\xad\xe6\x96\x87 caf\xc3\xa9 \xff",
                                    "[MASK][SEP]x", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"};

static void probe(const uint8_t *blob, size_t size, int *accepted) {
  char err[256];
  wm_tokenizer *tok = wm_tokenizer_new(blob, size, err, sizeof err);
  if (!tok) {
    CHECK(err[0] != 0, "rejection without a message");
    return;
  }
  (*accepted)++;
  int32_t out[64];
  for (size_t i = 0; i < sizeof probe_texts / sizeof *probe_texts; i++) {
    int n = wm_tokenizer_encode(tok, probe_texts[i], strlen(probe_texts[i]), out, 64);
    CHECK(n <= 64, "encode of a corrupted blob overflowed");
  }
  wm_tokenizer_free(tok);
}

static void test_corrupt(const uint8_t *orig, size_t size, const char *name, int header_values, int random_trials) {
  uint8_t *b = malloc(size + 64);
  int accepted = 0, trials = 0;
  char err[256];
  // truncations
  for (size_t n = 0; n < size; n += (n < 256 ? 1 : 1 + size / 97)) {
    memcpy(b, orig, n);
    CHECK(!wm_tokenizer_new(b, n, err, sizeof err), "%s truncated to %zu accepted", name, n);
    trials++;
  }
  // every header byte set to interesting values
  static const uint8_t vals[] = {0, 1, 2, 0x7f, 0x80, 0xff, 0x10, 0x40};
  for (size_t i = 0; i < 128; i++)
    for (size_t v = 0; v < (size_t)header_values; v++) {
      memcpy(b, orig, size);
      b[i] = vals[v];
      probe(b, size, &accepted);
      trials++;
    }
  // random u32 writes anywhere, and random byte flips in the header and tables
  for (int t = 0; t < random_trials; t++) {
    memcpy(b, orig, size);
    int k = 1 + (int)(rnd() % 4);
    for (int j = 0; j < k; j++) {
      size_t at = (t & 1) ? rnd() % (size < 4096 ? size : 4096) : rnd() % size;
      if (at + 4 <= size && (rnd() & 1)) {
        uint32_t v = rnd();
        memcpy(b + at, &v, 4);
      } else {
        b[at] ^= (uint8_t)(1u << (rnd() % 8));
      }
    }
    probe(b, size, &accepted);
    trials++;
  }
  // misaligned and NULL
  memcpy(b + 1, orig, size);
  CHECK(!wm_tokenizer_new(b + 1, size, err, sizeof err), "misaligned blob accepted");
  CHECK(!wm_tokenizer_new(NULL, 0, err, sizeof err), "NULL accepted");
  printf("%s: %d corrupted variants, %d still valid (tokenized without incident)\n", name, trials, accepted);
  free(b);
}

static void test_random_text(wm_tokenizer *tok, const char *name) {
  char t[256];
  int32_t out[300];
  for (int i = 0; i < 20000; i++) {
    size_t n = rnd() % sizeof t;
    for (size_t j = 0; j < n; j++) {
      uint32_t r = rnd();
      t[j] = (r & 0x300) ? (char)(r & 0xff) : "[CLS]\xe4\xb8\xad\xcc\x81 a"[r % 12];
    }
    int max = 2 + (int)(rnd() % 298);
    int k = wm_tokenizer_encode(tok, t, n, out, max);
    CHECK(k >= 2 && k <= max, "%s random bytes: %d ids for max %d", name, k, max);
  }
}

static wm_tokenizer *open_blob(const char *path, uint8_t **data, size_t *size) {
  char err[256];
  *data = read_file(path, size);
  wm_tokenizer *tok = wm_tokenizer_new(*data, *size, err, sizeof err);
  if (!tok) printf("FAIL: %s rejected: %s\n", path, err);
  return tok;
}

int main(int argc, char **argv) {
  if (argc < 5) {
    fprintf(stderr, "usage: test_tokenizer FIXTURE_BLOB UNIGRAM_BLOB BYTES_BLOB PRUNED_BLOB [REAL_BLOB [XLMR_BLOB]]\n");
    return 2;
  }
  test_unicode();
  test_grapheme();
  size_t fsize, usize, bsize;
  uint8_t *fblob, *ublob, *bblob;
  wm_tokenizer *tok = open_blob(argv[1], &fblob, &fsize);
  if (!tok) return 1;
  test_fixture(tok);
  test_early_stop(tok);
  test_random_text(tok, "fixture");
  wm_tokenizer_free(tok);
  test_corrupt(fblob, fsize, "fixture blob", 8, 3000);
  if (!(tok = open_blob(argv[2], &ublob, &usize))) return 1;
  test_unigram_fixture(tok);
  test_unigram_big(tok, U_HELLO);
  test_random_text(tok, "unigram fixture");
  wm_tokenizer_free(tok);
  test_corrupt(ublob, usize, "unigram fixture blob", 8, 3000);
  if (!(tok = open_blob(argv[3], &bblob, &bsize))) return 1;
  test_unigram_bytes(tok);
  test_random_text(tok, "byte-fallback fixture");
  wm_tokenizer_free(tok);
  test_corrupt(bblob, bsize, "byte-fallback fixture blob", 8, 1000);
  {
    size_t psize;
    uint8_t *pblob;
    if (!(tok = open_blob(argv[4], &pblob, &psize))) return 1;
    test_unigram_pruned(tok);
    test_unigram_big(tok, U_HELLO);
    test_random_text(tok, "pruned fixture");
    wm_tokenizer_free(tok);
    test_corrupt(pblob, psize, "pruned fixture blob", 8, 1000);
    free(pblob);
  }
  if (argc > 5) {
    size_t rsize;
    uint8_t *rblob;
    wm_tokenizer *rt = open_blob(argv[5], &rblob, &rsize);
    if (!rt) return 1;
    EXPECT(rt, "[CLS] hello [SEP]", 512, 101, 101, 7592, 102, 102);
    test_random_text(rt, argv[5]);
    wm_tokenizer_free(rt);
    test_corrupt(rblob, rsize, argv[5], 8, 3000);
    free(rblob);
  }
  if (argc > 6) {  // the real XLM-R tokenizer (multilingual-e5-small)
    size_t xsize;
    uint8_t *xblob;
    wm_tokenizer *xt = open_blob(argv[6], &xblob, &xsize);
    if (!xt) return 1;
    EXPECT(xt, "", 512, 0, 2);
    EXPECT(xt, "A man with a hard hat is dancing.", 512, 0, 62, 332, 678, 10, 7941, 1256, 83, 123, 21896, 5, 2);
    EXPECT(xt, "e\xcc\x81\xcc\x81x", 512, 0, 393, 425, 2);
    EXPECT(xt, "\xef\xac\x81\xcc\x81", 512, 0, 809, 2);
    EXPECT(xt, "\r\n", 512, 0, 6, 2);
    EXPECT(xt, "  ", 512, 0, 6, 2);
    EXPECT(xt, "\xe5\x9b\xaf\xe5\x8d\x8e", 512, 0, 6, 3, 7919, 2);  // unknown CJK character, then a piece
    EXPECT(xt, "<mask>", 512, 0, 250001, 2);
    test_unigram_big(xt, 33600);
    test_random_text(xt, argv[6]);
    wm_tokenizer_free(xt);
    test_corrupt(xblob, xsize, argv[6], 2, 300);
    free(xblob);
  }
  free(fblob);
  free(ublob);
  free(bblob);
  printf("test_tokenizer: %d/%d checks passed\n", checks - failures, checks);
  return failures ? 1 : 0;
}
