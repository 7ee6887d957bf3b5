#!/bin/sh
# Builds aos.wasm (wasm64, emscripten, standalone: WASI imports only) from aos.c. Needs Debian's
# `emscripten` package (3.1.6). Debian ships a frozen cache with wasm32 libraries only, so this uses a
# private config with the cache unfrozen: the first build compiles libc for wasm64 (several minutes).
set -eu
cd "$(dirname "$0")"
CACHE="${EM_CACHE:-${TMPDIR:-/tmp}/aonode-emcache}"
CONFIG="$CACHE.config"
mkdir -p "$CACHE"
# Debian's node rejects the --experimental-wasm-* flags emscripten 3.1.6 passes: drop the one it lacks.
NODE="$CACHE.node"
printf '#!/bin/sh\nfor a; do shift; case "$a" in --experimental-wasm-bigint) ;; *) set -- "$@" "$a";; esac; done\nexec node "$@"\n' > "$NODE"
chmod +x "$NODE"
sed -e 's/^FROZEN_CACHE = True.*/FROZEN_CACHE = False/' -e "s|^NODE_JS = .*|NODE_JS = '$NODE'|" \
  /usr/share/emscripten/.emscripten > "$CONFIG"
# emcc's last step runs the generated JS under node, which fails on memory64 in Debian's node; the .wasm
# is complete by then, so that failure is tolerated when the file was written.
rm -f aos.wasm
EM_CONFIG="$CONFIG" EM_CACHE="$CACHE" emcc aos.c -o aos.wasm \
  -O2 -sMEMORY64=1 -sSTANDALONE_WASM -sALLOW_MEMORY_GROWTH=1 -sINITIAL_MEMORY=1MB -sTOTAL_STACK=65536 \
  -sEXPORTED_FUNCTIONS=_malloc,_free,_handle --no-entry || test -s aos.wasm
