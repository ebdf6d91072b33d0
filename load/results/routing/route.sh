#!/usr/bin/env bash
# usage: route.sh OUT RATE — one routing run on a fresh SQLite server (release build)
set -u
OUT=$1; RATE=$2
BIN=/work/main/target/release/conclave
D=$(mktemp -d /tmp/bench/db-XXXX); PORT=$((20000 + RANDOM % 20000))
$BIN admin --database-url $D/c.db create-user --email admin@example.com --name Admin --role admin --password admin-password >/dev/null
$BIN serve --bind 127.0.0.1:$PORT --database-url $D/c.db --chat-starts-per-minute 0 --session-rate 0 >/dev/null 2>$D/log &
SP=$!; sleep 1.5
/work/main/target/release/conclave-load --url http://127.0.0.1:$PORT --routing --agents 50 --capacity 3 --arrival-rate $RATE --hold 5 --duration 30 --drain 30 > $OUT 2>&1
echo "rc=$?" >> $OUT
kill -TERM $SP; wait $SP 2>/dev/null; rm -rf $D
