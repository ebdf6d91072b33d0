#!/usr/bin/env bash
# Reactions on a held message and on one read back from the database, against a release
# server on a fresh SQLite database with the default --kept-messages (BENCHMARKS.md,
# "Soak"). Needs node and npm: the `ws` version of ../shared/bench/node-ws is installed
# beside the database.
set -euo pipefail
dir=${1:-/tmp/recall}
here=$(cd "$(dirname "$0")" && pwd)
rm -rf "$dir" && mkdir -p "$dir"
conclave admin --database-url "$dir/recall.db" create-user --email admin@example.com \
  --name Admin --role admin --password admin-password
conclave serve --database-url "$dir/recall.db" --bind 127.0.0.1:18600 \
  --chat-starts-per-minute 0 --session-rate 0 >"$dir/server.out" 2>"$dir/server.log" &
server=$!
trap 'kill $server' EXIT
sleep 2
mkdir -p "$dir/node" && cp "$here"/../../../../shared/bench/node-ws/package*.json "$dir/node/"
(cd "$dir/node" && npm ci --silent)
NODE_PATH="$dir/node/node_modules" node "$here/recall.js" http://127.0.0.1:18600 "${ROUNDS:-300}" "${MESSAGES:-1200}"
