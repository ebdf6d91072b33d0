#!/usr/bin/env bash
# The one-hour soak of 2026-12-03 (BENCHMARKS.md, "Soak"): release builds, the server on a
# fresh SQLite database, conclave-load beside it on the same two cores.
set -euo pipefail
dir=${1:-/tmp/soak}
mkdir -p "$dir"
conclave admin --database-url "$dir/soak.db" create-user --email admin@example.com \
  --name Admin --role admin --password admin-password
conclave serve --database-url "$dir/soak.db" --bind 127.0.0.1:18500 \
  --chat-starts-per-minute 0 >"$dir/server.out" 2>"$dir/server.log" &
sleep 2
conclave-load --url http://127.0.0.1:18500 --rooms 1000 --customer-rate 1 --reply-rate 1 \
  --note-rate 0 --duration 3600 --ramp-up 30 --churn 0.1 --drain 15 --max-run 4200 \
  --server-pid "$(pgrep -f 'bind 127.0.0.1:18500')" --json "$dir/report.json" \
  --plot "$dir/plot.svg"
