#!/usr/bin/env bash
# Serves web/dist/ (built by ./web/build.sh) on http://127.0.0.1:${PORT:-8080}/ for trying the
# page locally. Any static file server works; this one needs only Python.
set -euo pipefail
cd "$(dirname "$0")/dist"
port="${PORT:-8080}"
echo "optiscape: http://127.0.0.1:$port/  (Ctrl-C to stop)"
exec python3 -m http.server --bind 127.0.0.1 "$port"
