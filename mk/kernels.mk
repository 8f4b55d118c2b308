# --- kernels: tests and benchmark (src/kernels/, tests/c/test_kernels.c) --------------------------------------------
#   make test-kernels   test_kernels natively (scalar vs double reference), under ASan/UBSan, and as a WASI module
#                       built with emcc -msimd128 and run by Node (SIMD128 variants vs scalar); its relaxed-SIMD
#                       build ($(BUILD)/test_kernels-relaxed.wasm, clang-19) runs in Chromium with make test-browser
#                       (tests/browser/relaxed.test.js), since Node 20 computes relaxed dots wrongly
#   make bench-kernels  GEMM GOPS of the SIMD128 variants vs scalar in Node; KERNEL_MR=n overrides the int8 MR
#   make bench-kernels-relaxed  the relaxed u6x2 GEMM vs the SIMD128 int16 one, in Chromium (same module, G = 128);
#                       KERNEL_U6X2_MR=n overrides its MR
#
# The int8 GEMM micro-kernel height (WM_GEMM_I8_MR) was picked by measurement: see gemm_i8_simd128.c.
KERNEL_SRCS := $(sort $(wildcard src/kernels/*.c))
KERNEL_HDRS := $(wildcard src/kernels/*.h)
KERNEL_TEST := tests/c/test_kernels.c
KT_NATIVE   := $(BUILD)/native/test_kernels
KT_ASAN     := $(BUILD)/native/test_kernels_asan
KT_WASM     := $(BUILD)/test_kernels.wasm
KT_BENCH    := $(BUILD)/bench_kernels.wasm
KT_EMFLAGS  := -O3 -msimd128 $(WARN) -Isrc -sSTANDALONE_WASM -sALLOW_MEMORY_GROWTH=1 -sTOTAL_STACK=1MB

$(KT_NATIVE): $(KERNEL_SRCS) $(KERNEL_HDRS) $(KERNEL_TEST)
	@mkdir -p $(@D)
	$(CC) $(WARN) -O2 -g -Isrc $(KERNEL_SRCS) $(KERNEL_TEST) -lm -o $@

$(KT_ASAN): $(KERNEL_SRCS) $(KERNEL_HDRS) $(KERNEL_TEST)
	@mkdir -p $(@D)
	$(CC) $(WARN) -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=all -Isrc $(KERNEL_SRCS) \
	  $(KERNEL_TEST) -lm -o $@

$(KT_WASM): $(KERNEL_SRCS) $(KERNEL_HDRS) $(KERNEL_TEST) | $(DEPS_STAMP)
	@mkdir -p $(@D)
	emcc $(KT_EMFLAGS) $(KERNEL_SRCS) $(KERNEL_TEST) -o $@

# The relaxed build: the same sources and test, clang-19 + wasm-ld-19 as dist/wembed-relaxed.wasm (Makefile)
KT_RELAXED       := $(BUILD)/test_kernels-relaxed.wasm
KT_RELAXED_BENCH := $(BUILD)/bench_kernels-relaxed.wasm
define kt_relaxed_link
	$(call clang_objs,$(KERNEL_SRCS) $(KERNEL_TEST),$(1),$(RELAXED_CFLAGS) -Isrc $(2))
	$(RELAXED_LD) -o $@ $(1)/*.o $(EM_SYSROOT)/lib/wasm32-emscripten/crt1.o $(RELAXED_LDFLAGS) \
	  --allow-undefined-file=$(1)/imports.txt --initial-memory=16777216
endef
$(KT_RELAXED): $(KERNEL_SRCS) $(KERNEL_HDRS) $(KERNEL_TEST) | $(DEPS_STAMP)
	$(call kt_relaxed_link,$(BUILD)/relaxed-kt)
$(KT_RELAXED_BENCH): $(KERNEL_SRCS) $(KERNEL_HDRS) $(KERNEL_TEST) FORCE | $(DEPS_STAMP)
	$(call kt_relaxed_link,$(BUILD)/relaxed-kb,$(if $(KERNEL_U6X2_MR),-DWM_GEMM_U6X2_MR=$(KERNEL_U6X2_MR)) $(KERNEL_BENCH_FLAGS))

$(KT_BENCH): $(KERNEL_SRCS) $(KERNEL_HDRS) $(KERNEL_TEST) FORCE | $(DEPS_STAMP)
	@mkdir -p $(@D)
	emcc $(KT_EMFLAGS) $(if $(KERNEL_MR),-DWM_GEMM_I8_MR=$(KERNEL_MR)) $(KERNEL_BENCH_FLAGS) $(KERNEL_SRCS) $(KERNEL_TEST) -o $@

test-kernels: $(KT_NATIVE) $(KT_ASAN) $(KT_WASM)
	@echo '== test_kernels: native' && $(KT_NATIVE)
	@echo '== test_kernels: native, ASan/UBSan' && $(KT_ASAN) > $(KT_ASAN).log || { cat $(KT_ASAN).log; exit 1; }; \
	  tail -n 1 $(KT_ASAN).log
	@echo '== test_kernels: wasm SIMD128 (node:wasi)' && node --no-warnings tests/c/run_wasi.mjs $(KT_WASM)

# --no-liftoff: measure V8's optimized code from the start (on a busy machine the background tier-up to TurboFan
# can lag for seconds, and the baseline code runs 3-5x slower)
bench-kernels: $(KT_BENCH)
	node --no-liftoff --no-warnings tests/c/run_wasi.mjs $(KT_BENCH) --bench

bench-kernels-relaxed: $(KT_RELAXED_BENCH)
	node tests/browser/run-wasi-chromium.mjs $(KT_RELAXED_BENCH) --bench-quick

FORCE:
.PHONY: test-kernels bench-kernels bench-kernels-relaxed FORCE
