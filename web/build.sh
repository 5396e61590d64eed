#!/usr/bin/env bash
# Builds the web page into web/dist/ (index.html, optiscape.js, optiscape_bg.wasm): any static
# host serves that folder as it is. Needs the Rust toolchain; installs the rest on first use:
# the wasm32 target, and binaryen's wasm-opt from apt when it is missing (used only when it is
# version 116 or newer, see below). wasm-bindgen is web/bindgen, built here.
#
#   ./web/build.sh            # build web/dist/
#   ./web/serve.sh            # then open http://127.0.0.1:8080/
#
# The web build has its own persistent target directory ($HOME/.cache/optiscape/target-web, or
# $OPTISCAPE_WEB_TARGET): a second compilation of the Bevy stack, about 17 minutes the first
# time on 2 cores and about a minute after a change to optiscape.
set -euo pipefail
cd "$(dirname "$0")/.."

export CARGO_TARGET_DIR="${OPTISCAPE_WEB_TARGET:-$HOME/.cache/optiscape/target-web}"
export CARGO_TERM_COLOR=never
OUT=web/dist

rustup target add wasm32-unknown-unknown >/dev/null 2>&1 || true

# wasm-bindgen (web/bindgen: its library, pinned to the version of the wasm-bindgen crate that
# Cargo.lock holds; the glue and the module's descriptors must be of one version).
want=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/"/, "", $3); print $3 }' Cargo.lock)
have=$(sed -n 's/^wasm-bindgen-cli-support = "=\(.*\)"$/\1/p' web/bindgen/Cargo.toml)
if [ "$want" != "$have" ]; then
  echo "web: Cargo.lock has wasm-bindgen $want but web/bindgen/Cargo.toml pins $have" >&2
  exit 2
fi
echo "web: cargo build --release --manifest-path web/bindgen/Cargo.toml"
cargo build --release --manifest-path web/bindgen/Cargo.toml

if ! command -v wasm-opt >/dev/null 2>&1; then
  echo "web: installing binaryen (wasm-opt)"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq binaryen >/dev/null 2>&1 || true
fi

echo "web: cargo build --target wasm32-unknown-unknown --profile web"
cargo build --target wasm32-unknown-unknown --profile web --bin optiscape

rm -rf "$OUT"
mkdir -p "$OUT"
"$CARGO_TARGET_DIR/release/optiscape-web-bindgen" \
  "$CARGO_TARGET_DIR/wasm32-unknown-unknown/web/optiscape.wasm" "$OUT"
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
