#!/usr/bin/env bash
# usage: idx.sh BIN OUT_JSON RATE_PER_ROOM ROOMS DUR — one conclave-load run on a fresh SQLite server
set -u
BIN=$1; OUT=$2; RATE=$3; ROOMS=$4; DUR=$5
D=$(mktemp -d /tmp/bench/db-XXXX); PORT=$((20000 + RANDOM % 20000))
$BIN admin --database-url $D/c.db create-user --email admin@example.com --name Admin --role admin --password admin-password >/dev/null
$BIN serve --bind 127.0.0.1:$PORT --database-url $D/c.db --chat-starts-per-minute 0 --session-rate 0 --max-connections-per-token 1000 >/dev/null 2>$D/log &
SP=$!; sleep 1.5
R=$(python3 -c "print($RATE/3)")
/work/main/target/release/conclave-load --url http://127.0.0.1:$PORT --rooms $ROOMS --customer-rate $R --reply-rate $R --note-rate $R --duration $DUR --server-pid $SP --json $OUT >/dev/null 2>&1
kill -TERM $SP; wait $SP 2>/dev/null; rm -rf $D
