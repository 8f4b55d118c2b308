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
INC     := -Isrc -I$(GEN)

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
native: $(NATIVE)/libwembed.a $(NATIVE)/wembed-native

$(NATIVE)/libwembed.a: $(SRCS) $(HDRS) | $(DEPS_STAMP)
	@mkdir -p $(NATIVE)/obj
	@rm -f $@
	@for f in $(SRCS); do o=$(NATIVE)/obj/$$(echo $$f | tr '/' '_' | sed 's/\.c$$/.o/'); \
	  $(CC) $(WARN) $(CFLAGS_NATIVE) $(INC) -c $$f -o $$o || exit 1; done
	ar rcs $@ $(NATIVE)/obj/*.o

$(NATIVE)/wembed-native: tools/wembed_native.c $(NATIVE)/libwembed.a
	$(CC) $(WARN) $(CFLAGS_NATIVE) $(INC) $< $(NATIVE)/libwembed.a -lm -o $@

# --- wasm build ----------------------------------------------------------------------------------------------
WASM    := dist/wembed.wasm
WASM_EXPORTS := _wm_open,_wm_buffer,_wm_feed,_wm_last_error,_wm_info,_wm_dim,_wm_tokenize,_wm_embed,_wm_close,_malloc,_free
EMFLAGS := -O3 -msimd128 $(WARN) $(INC) -DNDEBUG -sSTANDALONE_WASM --no-entry -sALLOW_MEMORY_GROWTH=1 \
           -sINITIAL_MEMORY=4MB -sMAXIMUM_MEMORY=4GB -sSTACK_SIZE=1MB -sEXPORTED_FUNCTIONS=$(WASM_EXPORTS) \
           -sERROR_ON_UNDEFINED_SYMBOLS=1 -fno-exceptions
wasm: $(WASM)
$(WASM): $(SRCS) $(HDRS) | $(DEPS_STAMP)
	@mkdir -p dist
	emcc $(EMFLAGS) $(SRCS) -o $@
	@printf 'wasm: %s bytes (%s gzip)\n' $$(stat -c %s $@) $$(gzip -9c $@ | wc -c)

all: native wasm

.PHONY: all deps native wasm test demo clean
clean:
	rm -rf $(BUILD) dist
