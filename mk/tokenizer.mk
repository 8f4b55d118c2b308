# --- tokenizer: generated Unicode tables, tests and benchmark (src/tokenizer/, tools/gen_unicode_tables.c) ----------
#   $(GEN)/unicode_tables.c  compact tables generated natively from utf8proc + the Unicode 9 sets (tools/unicode9_data.h)
#   make test-tokenizer      unit tests (native and ASan/UBSan), converter refusals, and token-id parity with HF
#                            tokenizers on ../shared (skipped loudly when $(SHARED) is absent): WordPiece (bert-uncased,
#                            bert-zh) and SentencePiece Unigram (xlmr-unigram, from the gzipped real XLM-R tokenizer.json)
#   make bench-tokenizer     MB/s, ours (native tokenize_jsonl --bench for now) vs @huggingface/tokenizers
TOK_GEN      := $(BUILD)/gen_unicode_tables
TOK_DIR      := $(BUILD)/tok
TOK_SRCS     := $(sort $(wildcard src/tokenizer/*.c)) $(GEN)/unicode_tables.c
TOK_HDRS     := $(wildcard src/tokenizer/*.h)
TOK_ASAN     := -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
TOK_PARITY   := bert-uncased:gte-small-synth bert-zh:gte-small-zh-synth xlmr-unigram:multilingual-e5-small-synth
XLMR_JSON    := $(SHARED)/tokenizers/multilingual-e5-small/tokenizer.json.gz

$(TOK_GEN): tools/gen_unicode_tables.c tools/unicode9_data.h tools/unicode16_grapheme.h src/tokenizer/unicode.h \
            src/tokenizer/grapheme.h | $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(CC) $(WARN) -O2 -I$(UTF8PROC) -Itools $< -o $@

$(GEN)/unicode_tables.c: $(TOK_GEN)
	@mkdir -p $(@D)
	$(TOK_GEN) $@

$(TOK_DIR)/test_tokenizer: tests/c/test_tokenizer.c $(TOK_SRCS) $(TOK_HDRS)
	@mkdir -p $(@D)
	$(CC) $(WARN) $(CFLAGS_NATIVE) $(INC) $< $(TOK_SRCS) -o $@
$(TOK_DIR)/test_tokenizer_asan: tests/c/test_tokenizer.c $(TOK_SRCS) $(TOK_HDRS)
	@mkdir -p $(@D)
	$(CC) $(WARN) $(TOK_ASAN) $(INC) $< $(TOK_SRCS) -o $@
$(TOK_DIR)/tokenize_jsonl: tests/c/tokenize_jsonl.c $(TOK_SRCS) $(TOK_HDRS)
	@mkdir -p $(@D)
	$(CC) $(WARN) -O2 $(INC) $< $(TOK_SRCS) -o $@
$(TOK_DIR)/fixture.blob: tests/js/tokenizer-blob.mjs js/convert/tokenizer.js
	@mkdir -p $(@D)
	node tests/js/tokenizer-blob.mjs --fixture $@ >/dev/null
$(TOK_DIR)/fixture-unigram.blob $(TOK_DIR)/fixture-bytes.blob $(TOK_DIR)/fixture-pruned.blob: $(TOK_DIR)/fixture-%.blob: tests/js/tokenizer-blob.mjs \
    tests/js/unigram-fixture.mjs $(wildcard js/convert/*.js)
	@mkdir -p $(@D)
	node tests/js/tokenizer-blob.mjs --fixture-$* $@ >/dev/null
$(TOK_DIR)/bert-uncased.blob: $(SHARED)/models/gte-small-synth/tokenizer.json tests/js/tokenizer-blob.mjs js/convert/tokenizer.js
	@mkdir -p $(@D)
	node tests/js/tokenizer-blob.mjs $< $@ >/dev/null
$(TOK_DIR)/bert-zh.blob: $(SHARED)/models/gte-small-zh-synth/tokenizer.json tests/js/tokenizer-blob.mjs js/convert/tokenizer.js
	@mkdir -p $(@D)
	node tests/js/tokenizer-blob.mjs $< $@ >/dev/null
$(TOK_DIR)/xlmr-unigram.blob: $(XLMR_JSON) tests/js/tokenizer-blob.mjs $(wildcard js/convert/*.js)
	@mkdir -p $(@D)
	node tests/js/tokenizer-blob.mjs $< $@ >/dev/null

TOK_FIXTURES  := $(TOK_DIR)/fixture.blob $(TOK_DIR)/fixture-unigram.blob $(TOK_DIR)/fixture-bytes.blob $(TOK_DIR)/fixture-pruned.blob
TOK_TEST_DEPS := $(TOK_DIR)/test_tokenizer $(TOK_DIR)/test_tokenizer_asan $(TOK_DIR)/tokenize_jsonl $(TOK_FIXTURES)
ifneq ($(wildcard $(SHARED)/README.md),)
TOK_TEST_DEPS += $(TOK_DIR)/bert-uncased.blob $(TOK_DIR)/bert-zh.blob $(TOK_DIR)/xlmr-unigram.blob
TOK_REAL_BLOB := $(TOK_DIR)/bert-uncased.blob $(TOK_DIR)/xlmr-unigram.blob
endif

test-tokenizer: $(TOK_TEST_DEPS) | $(DEPS_STAMP)
	@echo '== tokenizer: converter refusals' && node tests/js/tokenizer-blob.mjs --check
	@echo '== tokenizer: unit tests (native)' && $(TOK_DIR)/test_tokenizer $(TOK_FIXTURES) $(TOK_REAL_BLOB)
	@echo '== tokenizer: unit tests (ASan/UBSan)' && $(TOK_DIR)/test_tokenizer_asan $(TOK_FIXTURES) $(TOK_REAL_BLOB) | tail -n 1
	@if [ ! -f $(SHARED)/README.md ]; then \
	  echo '!! SKIPPED tokenizer parity: $(SHARED) is absent (set SHARED=path/to/shared)'; exit 0; fi; \
	status=0; for pair in $(TOK_PARITY); do name=$${pair%%:*}; model=$${pair##*:}; \
	  echo "== tokenizer parity: $$name"; \
	  $(TOK_DIR)/tokenize_jsonl $(TOK_DIR)/$$name.blob $(SHARED)/reference/tokenizers/$$name.jsonl || status=1; \
	  $(TOK_DIR)/tokenize_jsonl $(TOK_DIR)/$$name.blob $(SHARED)/reference/models/$$model/texts.jsonl || status=1; \
	done; exit $$status

bench-tokenizer: $(TOK_DIR)/tokenize_jsonl $(TOK_DIR)/tokenizer_bench.wasm $(TOK_DIR)/bert-uncased.blob $(TOK_DIR)/bert-zh.blob \
                 $(TOK_DIR)/xlmr-unigram.blob | $(DEPS_STAMP)
	node bench/tokenizer.mjs --name bert-uncased && node bench/tokenizer.mjs --name bert-zh && \
	  node bench/tokenizer.mjs --name xlmr-unigram

.PHONY: test-tokenizer bench-tokenizer

# Tokenizer-only wasm module for bench/tokenizer.mjs (until the wembed loader exists).
$(TOK_DIR)/tokenizer_bench.wasm: $(TOK_SRCS) $(TOK_HDRS) | $(DEPS_STAMP)
	@mkdir -p $(@D)
	emcc -O3 -msimd128 $(WARN) $(INC) -DNDEBUG -sSTANDALONE_WASM --no-entry -sALLOW_MEMORY_GROWTH=1 -sTOTAL_STACK=1MB \
	  -sEXPORTED_FUNCTIONS=_wm_tokenizer_new,_wm_tokenizer_encode,_wm_tokenizer_free,_malloc,_free $(TOK_SRCS) -o $@
