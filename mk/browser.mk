# --- browser proof (tests/browser/) ---------------------------------------------------------------------------------
#   make test-browser   headless Debian Chromium (playwright-core, never a downloaded browser) loads the int8 zh model
#                       by URL from a local static server on 127.0.0.1 and embeds reference texts; ids, info, vectors
#                       and scores must equal Node's bit for bit, a corrupted copy must be refused naming its section.
#                       Screenshot: build/browser/page.png. WEMBED_BROWSER_PICK=all embeds all 3900 texts.
#                       Skipped loudly when ../shared or /usr/bin/chromium is absent.
#                       Then the relaxed-SIMD proof (tests/browser/relaxed.test.js): the relaxed kernel tests
#                       (build/test_kernels-relaxed.wasm) pass in a page, Chromium picks dist/wembed-relaxed.wasm, and
#                       it embeds bit-identically to dist/wembed.wasm (int8 12-bit/G=128, int8 8-bit per channel, f32).
# (mk/*.mk is read before the main Makefile defines WASM and MODELS_DIR: spell the paths out)
test-browser: dist/wembed.wasm dist/wembed-relaxed.wasm dist/wembed-mt.wasm dist/wembed-relaxed-mt.wasm $(BUILD)/test_kernels-relaxed.wasm \
              $(BUILD)/models/gte-small-zh-synth.int8.wemb | $(DEPS_STAMP)
	node --test tests/browser/browser.test.js tests/browser/relaxed.test.js

.PHONY: test-browser
