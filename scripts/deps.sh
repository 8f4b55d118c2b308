#!/usr/bin/env bash
# Installs what a fresh machine of this kind lacks, idempotently:
#   emscripten (Debian 3.1.6), clang-19 + lld-19 (the relaxed-SIMD module: emcc 3.1.6 cannot build it),
#   utf8proc C sources (apt-get source, into third_party/, git-ignored),
#   chromium + a CJK font (browser tests, screenshots) and the npm devDependencies (npm ci).
# Each step is skipped when its result is already present.
set -euo pipefail
cd "$(dirname "$0")/.."
SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"

need_apt_update=1
apt_update() { if [ $need_apt_update = 1 ]; then $SUDO apt-get update -qq; need_apt_update=0; fi; }

if ! command -v emcc >/dev/null 2>&1; then
  apt_update
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq emscripten >/dev/null
fi

if ! command -v clang-19 >/dev/null 2>&1 || ! command -v wasm-ld-19 >/dev/null 2>&1; then
  apt_update
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq clang-19 lld-19 >/dev/null
fi

if [ ! -f third_party/utf8proc/utf8proc.c ]; then
  # apt-get source needs a deb-src entry: add one beside the deb822 entry the machine has.
  if ! grep -rqs '^Types:.*deb-src' /etc/apt/sources.list.d/ /etc/apt/sources.list 2>/dev/null; then
    printf 'Types: deb-src\nURIs: http://deb.debian.org/debian\nSuites: bookworm bookworm-updates\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
      | $SUDO tee /etc/apt/sources.list.d/wembed-deb-src.sources >/dev/null
    need_apt_update=1
  fi
  apt_update
  tmp=$(mktemp -d)
  (cd "$tmp" && apt-get source -qq --download-only utf8proc >/dev/null 2>&1 || (cd "$tmp" && apt-get source -qq utf8proc >/dev/null))
  orig=$(ls "$tmp"/utf8proc_*.orig.tar.* | head -n 1)
  rm -rf third_party/utf8proc && mkdir -p third_party/utf8proc
  tar -xf "$orig" -C third_party/utf8proc --strip-components=1
  rm -rf "$tmp"
fi

if [ "${WEMBED_SKIP_CHROMIUM:-0}" != 1 ] && ! command -v chromium >/dev/null 2>&1; then
  apt_update
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium fonts-wqy-microhei >/dev/null
fi

if [ -f package-lock.json ] && [ ! -f node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi
echo "deps: ok (emcc $(emcc --version 2>/dev/null | head -n1 | grep -o '[0-9]\+\.[0-9]\+\.[0-9]\+' | head -n1), clang-19 $(clang-19 --version | head -n1 | grep -o '[0-9]\+\.[0-9]\+\.[0-9]\+' | head -n1), utf8proc $(grep -m1 'UTF8PROC_VERSION_MAJOR' third_party/utf8proc/utf8proc.h | awk '{print $3}').$(grep -m1 'UTF8PROC_VERSION_MINOR' third_party/utf8proc/utf8proc.h | awk '{print $3}'))"
