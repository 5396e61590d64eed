#!/usr/bin/env bash
# Builds the web page into web/dist/ (index.html, optiscape.js, optiscape_bg.wasm): any static
# host serves that folder as it is. Needs the Rust toolchain; installs the rest on first use
# (the wasm32 target, wasm-bindgen-cli pinned to Cargo.lock's wasm-bindgen, and binaryen's
# wasm-opt from apt when it is missing).
#
#   ./web/build.sh            # build web/dist/
#   ./web/serve.sh            # then open http://127.0.0.1:8080/
#
# The web build has its own persistent target directory (a second compilation of the Bevy
# stack, about 30 minutes the first time on 2 cores, seconds after a change to optiscape).
set -euo pipefail
cd "$(dirname "$0")/.."

export CARGO_TARGET_DIR="${OPTISCAPE_WEB_TARGET:-$HOME/.cache/optiscape/target-web}"
export CARGO_TERM_COLOR=never
TOOLS="$HOME/.cache/optiscape/tools"
OUT=web/dist

rustup target add wasm32-unknown-unknown >/dev/null 2>&1 || true

# wasm-bindgen's command line must be the version of the wasm-bindgen crate in Cargo.lock.
want=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/"/, "", $3); print $3 }' Cargo.lock)
if ! "$TOOLS/bin/wasm-bindgen" --version 2>/dev/null | grep -qx "wasm-bindgen $want"; then
  echo "web: installing wasm-bindgen-cli $want"
  # (Not --locked: its lock names a webpki-roots that some registry mirrors lack.)
  cargo install --quiet --root "$TOOLS" wasm-bindgen-cli --version "$want"
fi
if ! command -v wasm-opt >/dev/null 2>&1; then
  echo "web: installing binaryen (wasm-opt)"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq binaryen >/dev/null 2>&1 || true
fi

echo "web: cargo build --target wasm32-unknown-unknown --profile web"
cargo build --target wasm32-unknown-unknown --profile web --bin optiscape

rm -rf "$OUT"
mkdir -p "$OUT"
"$TOOLS/bin/wasm-bindgen" --target web --no-typescript --remove-name-section \
  --remove-producers-section --out-dir "$OUT" --out-name optiscape \
  "$CARGO_TARGET_DIR/wasm32-unknown-unknown/web/optiscape.wasm"
# wasm-opt, where it can read what rustc and wasm-bindgen write: binaryen 116 or newer. Older
# ones (Debian 12 ships 108) turn wasm-bindgen's table of JavaScript references into a table of
# functions, and the page fails to start; there the module stays as wasm-bindgen wrote it.
opt_version=$(wasm-opt --version 2>/dev/null | sed -n 's/^wasm-opt version \([0-9]*\).*/\1/p')
if [ "${opt_version:-0}" -ge 116 ]; then
  echo "web: wasm-opt -Os (binaryen $opt_version)"
  wasm-opt -Os --strip-debug --strip-producers --enable-bulk-memory \
    --enable-nontrapping-float-to-int --enable-sign-ext --enable-mutable-globals \
    --enable-reference-types --enable-multivalue \
    -o "$OUT/optiscape_bg.opt.wasm" "$OUT/optiscape_bg.wasm"
  mv "$OUT/optiscape_bg.opt.wasm" "$OUT/optiscape_bg.wasm"
else
  echo "web: wasm-opt skipped (binaryen ${opt_version:-missing}; 116 or newer is needed)"
fi
cp web/index.html "$OUT/"

wasm=$(stat -c %s "$OUT/optiscape_bg.wasm")
gz=$(gzip -9 -c "$OUT/optiscape_bg.wasm" | wc -c)
echo "web: $OUT/optiscape_bg.wasm: $((wasm / 1024)) KiB, $((gz / 1024)) KiB compressed (gzip -9)"
