#!/usr/bin/env bash
# One node against two, on this machine: the same rooms, rates and checks, on PostgreSQL;
# the two nodes share it and a Redis, and each room's members are spread over them.
#
#   PATH=target/release:$PATH bash load/results/cluster/run.sh OUT_DIR NODES [LOAD OPTIONS…]
#
# Needs a PostgreSQL at $PG (a role that may create databases) and redis-server installed.
# Writes OUT_DIR/summary.txt (the load tool's table), OUT_DIR/cpu.txt (CPU seconds of each
# server process, and of Redis and PostgreSQL, over the whole run) and the nodes' logs.
set -euo pipefail
out=$1 nodes=$2
shift 2
PG=${PG:-postgres://conclave_ci:conclave_ci@127.0.0.1:5432}
mkdir -p "$out"
db="conclave_bench_$$"
psql "$PG/postgres" -qc "CREATE DATABASE $db" >/dev/null
url="$PG/$db"
pids=()
redis_pid=""
cleanup() {
  for pid in "${pids[@]}" $redis_pid; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  psql "$PG/postgres" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null || true
}
trap cleanup EXIT
conclave admin --database-url "$url" create-user --email admin@example.com --name Admin \
  --role admin --password admin-password >/dev/null
cluster=()
if [ "$nodes" -gt 1 ]; then
  redis-server --bind 127.0.0.1 --port 6391 --save '' --appendonly no >/dev/null &
  redis_pid=$!
  sleep 0.5
  cluster=(--redis-url redis://127.0.0.1:6391)
fi
urls=()
for i in $(seq 1 "$nodes"); do
  port=$((8200 + i))
  conclave serve --bind "127.0.0.1:$port" --database-url "$url" --files-dir "$out/files" \
    --chat-starts-per-minute 0 --session-rate 0 "${cluster[@]}" >/dev/null 2>"$out/node$i.log" &
  pids+=($!)
  urls+=("http://127.0.0.1:$port")
done
for u in "${urls[@]}"; do
  for _ in $(seq 1 100); do curl -sf "$u/health" >/dev/null && break; sleep 0.1; done
done
sleep 2 # the nodes hear each other's beats
cpu() { awk '{print ($14 + $15) / 100}' "/proc/$1/stat"; }
postgres_cpu() {
  local total=0
  for p in $(pgrep -x postgres); do total=$(awk -v t="$total" '{print t + ($14 + $15) / 100}' "/proc/$p/stat" 2>/dev/null || echo "$total"); done
  echo "$total"
}
before=(); for p in "${pids[@]}"; do before+=("$(cpu "$p")"); done
redis_before=$([ -n "$redis_pid" ] && cpu "$redis_pid" || echo 0)
pg_before=$(postgres_cpu)
start=$(date +%s.%N)
IFS=,; joined="${urls[*]}"; unset IFS
conclave-load --url "$joined" "$@" > "$out/summary.txt"
end=$(date +%s.%N)
{
  echo "wall seconds: $(echo "$end - $start" | bc)"
  for i in "${!pids[@]}"; do
    echo "node $((i + 1)) cpu seconds: $(echo "$(cpu "${pids[$i]}") - ${before[$i]}" | bc)"
  done
  [ -n "$redis_pid" ] && echo "redis cpu seconds: $(echo "$(cpu "$redis_pid") - $redis_before" | bc)"
  echo "postgres cpu seconds: $(echo "$(postgres_cpu) - $pg_before" | bc)"
} > "$out/cpu.txt"
cat "$out/cpu.txt"
