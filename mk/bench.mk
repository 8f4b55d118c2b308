# --- benchmark against the peer (bench/compare.mjs) ------------------------------------------------------------------
#   make bench          wembed vs onnxruntime-web 1.30 (wasm backend, in Node) on gte-small-synth int8, the same token
#                       ids: batch 1 at 16/32/128/512 tokens, 256 STS sentences, load-to-ready, wasm sizes, fidelity.
#                       1 and 2 threads (wembed: batch 1 on 1). Prints a table (ratio ORT/wembed, > 1 = wembed faster) and
#                       writes bench/results.json. Measures, asserts nothing. BENCH_ARGS="--runs 40" etc.
#                       Then bench/load.mjs (last byte -> ready, peak memory during a streamed load, bytes shipped) and
#                       bench/gemm.mjs (the int8 GEMM's GOPS against the measured peak of its instruction mix), both
#                       merged into bench/results.json ("load", "gemm").
#                       Then the same cases in headless Chromium (bench/browser.mjs, bench/browser/: Debian's chromium
#                       via playwright-core, a cross-origin isolated page from tests/browser/server.mjs), one page per
#                       thread count; its table is printed and merged into bench/results.json under "chromium".
#                       Chromium runs wembed's relaxed-SIMD module; the page also runs the SIMD128 one, interleaved,
#                       and prints a second table (relaxed vs SIMD128). BENCH_BROWSER_ARGS="--runs 30" etc.
#                       (--no-ort: that table alone). Skipped loudly when /usr/bin/chromium is absent.
#   make bench-browser  the Chromium part alone (merges into the existing bench/results.json).
#   make bench-profile  wembed alone under node --cpu-prof with a wasm built with --profiling-funcs (function names):
#                       self time per function on the same cases.
# (mk/*.mk is read before the main Makefile defines WASM, EMFLAGS and MODELS_DIR: spell the paths out; recipes
#  expand EMFLAGS later, when it exists)
BENCH_ARGS ?=
BENCH_BROWSER_ARGS ?=
BENCH_MODEL := $(BUILD)/models/gte-small-synth.int8.wemb
BENCH_PROF_WASM := $(BUILD)/bench/wembed.prof.wasm

bench: dist/wembed.wasm dist/wembed-relaxed.wasm dist/wembed-mt.wasm dist/wembed-relaxed-mt.wasm $(BENCH_MODEL) \
       $(BUILD)/bench_kernels.wasm | $(DEPS_STAMP)
	@if [ ! -f $(SHARED)/models/gte-small-synth/onnx/model_quantized.onnx ]; then \
	  echo '!! SKIPPED bench: $(SHARED)/models/gte-small-synth/onnx/model_quantized.onnx is absent'; exit 0; fi; \
	WEMBED_SHARED=$(abspath $(SHARED))/ node bench/compare.mjs --model $(BENCH_MODEL) $(BENCH_ARGS) && \
	node --expose-gc bench/load.mjs $(BENCH_MODEL) --out bench/results.json && \
	node bench/gemm.mjs --wasm $(BUILD)/bench_kernels.wasm --out bench/results.json && \
	WEMBED_SHARED=$(abspath $(SHARED))/ node bench/browser.mjs --model $(BENCH_MODEL) $(BENCH_BROWSER_ARGS)

bench-browser: dist/wembed.wasm dist/wembed-relaxed.wasm dist/wembed-mt.wasm dist/wembed-relaxed-mt.wasm $(BENCH_MODEL) | $(DEPS_STAMP)
	WEMBED_SHARED=$(abspath $(SHARED))/ node bench/browser.mjs --model $(BENCH_MODEL) $(BENCH_BROWSER_ARGS)

$(BENCH_PROF_WASM): $(SRCS) $(HDRS) | $(DEPS_STAMP)
	@mkdir -p $(@D)
	emcc $(EMFLAGS) --profiling-funcs $(SRCS) -o $@

bench-profile: $(BENCH_PROF_WASM) $(BENCH_MODEL) | $(DEPS_STAMP)
	WEMBED_SHARED=$(abspath $(SHARED))/ node bench/compare.mjs --profile --wasm $(BENCH_PROF_WASM) --model $(BENCH_MODEL) $(BENCH_ARGS)

# make bench-prune: multilingual-e5-small-synth as full int8, with the q4 table and with the vocabulary pruned to a
# multilingual corpus (bench/prune.mjs; about 9 minutes): file sizes, fidelity, reference texts hitting pruned pieces.
bench-prune: dist/wembed.wasm | $(DEPS_STAMP)
	node bench/prune.mjs

.PHONY: bench bench-browser bench-profile bench-prune
