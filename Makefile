# wembed — build, test and demo.
#   make demo   build everything, convert ../shared/models/gte-small-synth, embed and rank (the main job)
#   make test   every test (C units, ASan/UBSan run, wasm kernels, tokenizer + embedding parity, bad input)
# Dependencies are installed by `make deps` (scripts/deps.sh), which every other target runs first.
SHELL := /bin/bash
.DEFAULT_GOAL := all
export NODE_PATH := /usr/share/nodejs

BUILD   ?= build
SHARED  ?= ../shared
UTF8PROC := third_party/utf8proc
GEN     := $(BUILD)/gen

CC      ?= cc
WARN    := -Wall -Wextra -Werror -std=c11
CFLAGS_NATIVE ?= -O2 -g
INC     := -Isrc -I$(GEN) -Itools

# Every C source under src/ is shared by the native and the wasm build; the generated Unicode tables too.
SRCS    := $(sort $(wildcard src/*.c src/*/*.c)) $(GEN)/unicode_tables.c
HDRS    := $(wildcard src/*.h src/*/*.h)

# --- dependencies -------------------------------------------------------------------------------------------
DEPS_STAMP := $(BUILD)/.deps
deps: $(DEPS_STAMP)
$(DEPS_STAMP): scripts/deps.sh package.json $(wildcard package-lock.json)
	bash scripts/deps.sh
	@mkdir -p $(BUILD) && touch $@

# --- generated Unicode tables (from utf8proc, at build time) ---------------------------------------------------
-include mk/*.mk

# --- native build --------------------------------------------------------------------------------------------
NATIVE  := $(BUILD)/native
native: $(NATIVE)/libwembed.a $(NATIVE)/wembed_native $(NATIVE)/embed_ids

$(NATIVE)/libwembed.a: $(SRCS) $(HDRS) | $(DEPS_STAMP)
	@mkdir -p $(NATIVE)/obj
	@rm -f $@
	@for f in $(SRCS); do o=$(NATIVE)/obj/$$(echo $$f | tr '/' '_' | sed 's/\.c$$/.o/'); \
	  $(CC) $(WARN) $(CFLAGS_NATIVE) $(INC) -c $$f -o $$o || exit 1; done
	ar rcs $@ $(NATIVE)/obj/*.o

$(NATIVE)/%: tools/%.c $(NATIVE)/libwembed.a
	$(CC) $(WARN) $(CFLAGS_NATIVE) $(INC) $< $(NATIVE)/libwembed.a -lm -o $@

# --- wasm build ----------------------------------------------------------------------------------------------
WASM    := dist/wembed.wasm
WASM_RELAXED := dist/wembed-relaxed.wasm  # the relaxed-SIMD build of the same sources (below)
WASM_MT      := dist/wembed-mt.wasm dist/wembed-relaxed-mt.wasm  # both on a shared memory, for threads (below)
WASM_EXPORTS := _wm_open,_wm_buffer,_wm_feed,_wm_last_error,_wm_info,_wm_dim,_wm_tokenize,_wm_embed,_wm_pruned_texts,_wm_close,_malloc,_free
WASM_EXPORTS := $(WASM_EXPORTS),_wm_threads,_wm_helper
# convert --vocab-from tokenizes its corpus with the tokenizer the model ships (js/convert/corpus.js): the tokenizer alone
WASM_EXPORTS := $(WASM_EXPORTS),_wm_tokenizer_new,_wm_tokenizer_encode,_wm_tokenizer_free,_wm_tokenizer_pruned_hit
EMFLAGS := -O3 -msimd128 $(WARN) $(INC) -DNDEBUG -sSTANDALONE_WASM --no-entry -sALLOW_MEMORY_GROWTH=1 \
           -sINITIAL_MEMORY=4MB -sMAXIMUM_MEMORY=4GB -sTOTAL_STACK=1MB -sEXPORTED_FUNCTIONS=$(WASM_EXPORTS) \
           -sERROR_ON_UNDEFINED_SYMBOLS=1 -fno-exceptions
WASM_BUDGET := 307200  # bytes per module (300 KB)
wasm: $(WASM) $(WASM_RELAXED) $(WASM_MT)
$(WASM): $(SRCS) $(HDRS) | $(DEPS_STAMP)
	@mkdir -p dist
	emcc $(EMFLAGS) $(SRCS) -o $@
	@printf 'wasm: %s bytes (%s gzip)\n' $$(stat -c %s $@) $$(gzip -9c $@ | wc -c)
	@test $$(stat -c %s $@) -le $(WASM_BUDGET) || { echo '$@ exceeds the size budget of $(WASM_BUDGET) bytes'; exit 1; }

# --- the relaxed-SIMD module (dist/wembed-relaxed.wasm) ----------------------------------------------------------
# The same sources with -mrelaxed-simd (kernels/*_relaxed.c join in), compiled by Debian's clang-19 since emcc
# 3.1.6's clang 14 has no relaxed-SIMD builtins, and linked by wasm-ld-19 against emscripten's prebuilt standalone
# sysroot exactly as emcc links $(WASM) (its `emcc -v` link line, less the C++/GL/socket libraries nothing uses),
# but WITHOUT wasm-opt: Debian's binaryen 108 corrupts relaxed opcodes. -ffp-contract=off: relaxed SIMD has a
# fused multiply-add, and no f32 expression may be contracted into it (the two modules must agree bit for bit).
# js/core.js loads this module where the engine validates it and computes a known relaxed dot right.
RELAXED      := $(BUILD)/relaxed
EM_SYSROOT   ?= /usr/share/emscripten/cache/sysroot
RELAXED_CC   := clang-19
RELAXED_LD   := wasm-ld-19
RELAXED_CFLAGS := --target=wasm32-unknown-emscripten --sysroot=$(EM_SYSROOT) -iwithsysroot/include/compat -mcpu=mvp \
                  -msimd128 -mrelaxed-simd -ffp-contract=off -O3 -mllvm -disable-lsr $(WARN) -DNDEBUG
# emscripten_notify_memory_growth: the one import (as in $(WASM)); any other undefined symbol fails the link
RELAXED_LDFLAGS = -L$(EM_SYSROOT)/lib/wasm32-emscripten -lstandalonewasm-memgrow -lstubs -lnoexit -lc -ldlmalloc \
                  -lcompiler_rt --strip-debug -z stack-size=1048576 --max-memory=4294967296 --global-base=1024
comma := ,
RELAXED_EXPORTS := $(patsubst _%,--export=%,$(subst $(comma), ,$(WASM_EXPORTS)))

# objects of $(1) (sources) in $(2) (directory), compiled with $(3) (flags); and the list of allowed imports
define clang_objs
	@mkdir -p $(2) && rm -f $(2)/*.o
	@echo '$(RELAXED_CC) $(3) -c <each of: $(1)>'
	@for f in $(1); do o=$(2)/$$(echo $$f | tr '/' '_' | sed 's/\.c$$/.o/'); \
	  $(RELAXED_CC) $(3) -c $$f -o $$o || exit 1; done
	@printf 'emscripten_notify_memory_growth\n' > $(2)/imports.txt
endef

# the module $(1) from $(SRCS) compiled into $(2) with flags $(3), linked with extra flags $(4)
define clang_module
	$(call clang_objs,$(SRCS),$(2),$(3) $(INC))
	@mkdir -p dist
	$(RELAXED_LD) -o $(1) $(2)/*.o $(EM_SYSROOT)/lib/wasm32-emscripten/crt1_reactor.o $(RELAXED_LDFLAGS) \
	  --allow-undefined-file=$(2)/imports.txt --entry=_initialize --initial-memory=4194304 $(RELAXED_EXPORTS) \
	  --export=_initialize $(4)
	@printf 'wasm ($(notdir $(1))): %s bytes (%s gzip)\n' $$(stat -c %s $(1)) $$(gzip -9c $(1) | wc -c)
	@test $$(stat -c %s $(1)) -le $(WASM_BUDGET) || { echo '$(1) exceeds the size budget of $(WASM_BUDGET) bytes'; exit 1; }
endef

$(WASM_RELAXED): $(SRCS) $(HDRS) | $(DEPS_STAMP)
	$(call clang_module,$@,$(RELAXED),$(RELAXED_CFLAGS))

# --- the shared-memory modules (dist/wembed-mt.wasm, dist/wembed-relaxed-mt.wasm) -------------------------------------
# For load(src, { threads }) where SharedArrayBuffer exists (Node; cross-origin isolated pages): one memory holds
# the model, and every thread runs its own instance of one of these on it (src/encoder/team.h; Team in js/pool.js).
# emcc 3.1.6 refuses -pthread with STANDALONE_WASM, so clang-19 builds them as the relaxed module above, with
# atomics (-pthread) for our sources, the memory imported and shared, and helpers' stacks set through the
# sysroot's stackRestore. --no-check-features: the prebuilt single-threaded libc has no atomics; only the calling
# thread ever enters it (malloc, snprintf): helpers run kernels and the team's wait loop, nothing else.
MT_CFLAGS := $(filter-out -mrelaxed-simd,$(RELAXED_CFLAGS)) -pthread
MT_LDFLAGS := --shared-memory --import-memory --no-check-features --export=stackRestore
dist/wembed-mt.wasm: $(SRCS) $(HDRS) | $(DEPS_STAMP)
	$(call clang_module,$@,$(BUILD)/mt,$(MT_CFLAGS),$(MT_LDFLAGS))
dist/wembed-relaxed-mt.wasm: $(SRCS) $(HDRS) | $(DEPS_STAMP)
	$(call clang_module,$@,$(BUILD)/relaxed-mt,$(MT_CFLAGS) -mrelaxed-simd,$(MT_LDFLAGS))

all: native wasm

.PHONY: all deps native wasm test demo clean
clean:
	rm -rf $(BUILD) dist

# --- tests ---------------------------------------------------------------------------------------------------
# Converted test models (cached in build/models; tests convert on their own when these are absent).
MODELS_DIR := $(BUILD)/models
TEST_MODELS := $(foreach m,gte-small-synth gte-small-zh-synth,$(foreach d,int8 f32,$(MODELS_DIR)/$(m).$(d).wemb))
models: $(TEST_MODELS)
$(MODELS_DIR)/%.wemb: $(wildcard js/convert/*.js) js/format.js | $(DEPS_STAMP)
	@mkdir -p $(MODELS_DIR)
	node js/cli.js convert $(SHARED)/models/$(basename $*) -o $@ --dtype $(subst .,,$(suffix $*))

# Native build under AddressSanitizer + UndefinedBehaviorSanitizer, through the public C API fed in uneven chunks:
# the reader's mutation test (test_format), every reference text of gte-small-synth through a small model with the
# real tokenizer (ids must be identical), and the first zh reference texts through the real zh model (int8 bars).
ASAN := $(BUILD)/asan
ASAN_FLAGS := -O2 -g -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
$(ASAN)/%: tools/%.c $(SRCS) $(HDRS)
	@mkdir -p $(ASAN)
	$(CC) $(WARN) $(ASAN_FLAGS) $(INC) $< $(SRCS) -lm -o $@
$(ASAN)/test_format: tests/c/test_format.c $(SRCS) $(HDRS)
	@mkdir -p $(ASAN)
	$(CC) $(WARN) $(ASAN_FLAGS) $(INC) $< $(SRCS) -lm -o $@
SMALL_MODEL := $(MODELS_DIR)/small-bert.int8.wemb
$(SMALL_MODEL): $(wildcard js/convert/*.js) js/format.js tests/js/fixtures.mjs
	rm -f $@ && node -e "import('./tests/js/common.mjs').then((m) => m.smallModel('int8'))"
# Pruned vocabularies (convert --vocab-from tokenizes the corpus with the wasm module).
PRUNED_SMALL := $(MODELS_DIR)/small-bert.pruned.int8.wemb $(MODELS_DIR)/small-xlmr.pruned.int8.wemb
$(PRUNED_SMALL): $(MODELS_DIR)/small-%.pruned.int8.wemb: $(wildcard js/convert/*.js) js/format.js tests/js/fixtures.mjs $(WASM)
	rm -f $@ && node -e "import('./tests/js/common.mjs').then((m) => m.prunedSmallModel('$*'))"
ASAN_ZH_TEXTS ?= 100
ASAN_XLMR_TEXTS ?= 12000
test-asan: $(ASAN)/wembed_native $(ASAN)/test_format $(SMALL_MODEL) $(MODELS_DIR)/gte-small-zh-synth.int8.wemb $(PRUNED_SMALL)
	@echo '== ASan/UBSan: .wemb reader under mutations' && $(ASAN)/test_format $(SMALL_MODEL)
	@echo '== ASan/UBSan: all gte-small-synth reference texts (small model, real tokenizer)'
	node tests/js/texts-bin.mjs $(SHARED)/reference/models/gte-small-synth/texts.jsonl $(ASAN)/gte.bin
	$(ASAN)/wembed_native $(SMALL_MODEL) $(ASAN)/gte.bin $(ASAN)/gte.f32 $(ASAN)/gte.ids >/dev/null
	node tests/js/check-native.mjs $(SHARED)/reference/models/gte-small-synth $(ASAN)/gte.f32 $(ASAN)/gte.ids --ids-only
	@echo '== ASan/UBSan: first $(ASAN_ZH_TEXTS) gte-small-zh-synth reference texts (real model, int8)'
	node tests/js/texts-bin.mjs $(SHARED)/reference/models/gte-small-zh-synth/texts.jsonl $(ASAN)/zh.bin --first $(ASAN_ZH_TEXTS)
	$(ASAN)/wembed_native $(MODELS_DIR)/gte-small-zh-synth.int8.wemb $(ASAN)/zh.bin $(ASAN)/zh.f32 $(ASAN)/zh.ids >/dev/null
	node tests/js/check-native.mjs $(SHARED)/reference/models/gte-small-zh-synth $(ASAN)/zh.f32 $(ASAN)/zh.ids
	@echo '== ASan/UBSan: pruned vocabularies: reader mutations (EMB_WORD_MAP), the corpus texts keep their ids, other texts'
	$(ASAN)/test_format $(MODELS_DIR)/small-bert.pruned.int8.wemb
	$(ASAN)/wembed_native $(MODELS_DIR)/small-bert.pruned.int8.wemb $(ASAN)/gte.bin $(ASAN)/pg.f32 $(ASAN)/pg.ids >/dev/null
	node tests/js/check-native.mjs $(SHARED)/reference/models/gte-small-synth $(ASAN)/pg.f32 $(ASAN)/pg.ids --ids-only
	$(ASAN)/wembed_native $(MODELS_DIR)/small-bert.pruned.int8.wemb $(ASAN)/zh.bin $(ASAN)/pz.f32 >/dev/null
	node tests/js/texts-bin.mjs $(SHARED)/reference/models/multilingual-e5-small-synth/texts.jsonl $(ASAN)/e5.bin
	$(ASAN)/wembed_native $(MODELS_DIR)/small-xlmr.pruned.int8.wemb $(ASAN)/e5.bin $(ASAN)/pe.f32 $(ASAN)/pe.ids >/dev/null
	node tests/js/check-native.mjs $(SHARED)/reference/models/multilingual-e5-small-synth $(ASAN)/pe.f32 $(ASAN)/pe.ids --ids-only
	node tests/js/texts-bin.mjs $(SHARED)/reference/tokenizers/xlmr-unigram.jsonl $(ASAN)/xlmr.bin --first $(ASAN_XLMR_TEXTS)
	$(ASAN)/wembed_native $(MODELS_DIR)/small-xlmr.pruned.int8.wemb $(ASAN)/xlmr.bin $(ASAN)/px.f32 >/dev/null

# The TypeScript declarations compile against an example written as a user would (package self-reference).
test-types: | $(DEPS_STAMP)
	node_modules/.bin/tsc -p tests/types && echo 'types: tests/types/example.ts compiles against js/index.d.ts'

test-js: $(WASM) models
	node --test --test-concurrency=2 tests/js/

# C units and kernels first (fast), then the sanitizer run, the tokenizer speed figures, and the JS suites
# (parity, robustness, converter) last, on both cores.
test: all test-kernels test-tokenizer test-asan bench-tokenizer test-types test-browser test-js

# --- the main job --------------------------------------------------------------------------------------------
demo: all
	node scripts/demo.mjs $(SHARED)/models/gte-small-synth $(MODELS_DIR)/demo.int8.wemb

.PHONY: models test-asan test-types test-js
