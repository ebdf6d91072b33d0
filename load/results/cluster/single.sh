#!/usr/bin/env bash
# One node on SQLite, as a newcomer runs it, with the server binary of BIN_DIR (the load tool is the one on PATH): for comparing
# builds with and without the multi-node code (see BENCHMARKS.md, "Several nodes").
#
#   bash load/results/cluster/single.sh BIN_DIR OUT_FILE [LOAD OPTIONS…]
set -euo pipefail
bin=$1 out=$2
shift 2
dir=$(mktemp -d)
trap 'kill "$server" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$dir"' EXIT
"$bin/conclave" admin --database-url "$dir/load.db" create-user --email admin@example.com \
  --name Admin --role admin --password admin-password >/dev/null
"$bin/conclave" serve --bind 127.0.0.1:8299 --database-url "$dir/load.db" \
  --chat-starts-per-minute 0 >/dev/null 2>"$dir/server.log" &
server=$!
for _ in $(seq 1 100); do curl -sf http://127.0.0.1:8299/health >/dev/null && break; sleep 0.1; done
conclave-load --url http://127.0.0.1:8299 --server-pid "$server" "$@" > "$out" 2>/dev/null
