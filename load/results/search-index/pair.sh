#!/usr/bin/env bash
# usage: pair.sh OUTDIR PAIRS MIX nameA binA nameB binB — alternates A and B runs (1000 rooms, 3 msg/s/room, 20 s)
OUT=$1; N=$2; MIX=$3; NA=$4; BA=$5; NB=$6; BB=$7
mkdir -p $OUT
for i in $(seq 1 $N); do
  for v in A B; do
    if [ $v = A ]; then NAME=$NA; BIN=$BA; else NAME=$NB; BIN=$BB; fi
    while [ "$(cut -d' ' -f1 /proc/loadavg | cut -d. -f1)" -ge 2 ]; do sleep 5; done
    echo "$(date +%T) $(cut -d' ' -f1-3 /proc/loadavg) run $i $NAME" >> $OUT/log
    D=$(mktemp -d /tmp/bench/db-XXXX); PORT=$((20000 + RANDOM % 20000))
    $BIN admin --database-url $D/c.db create-user --email admin@example.com --name Admin --role admin --password admin-password >/dev/null
    $BIN serve --bind 127.0.0.1:$PORT --database-url $D/c.db --chat-starts-per-minute 0 --session-rate 0 --max-connections-per-token 1000 >/dev/null 2>$D/log &
    SP=$!; sleep 1.5
    ARGS=(--url http://127.0.0.1:$PORT --rooms 1000 --customer-rate 1 --reply-rate 1 --note-rate 1 --duration 20 --server-pid $SP --json $OUT/r3-$NAME-$i.json)
    [ -n "$MIX" ] && ARGS+=(--mix "$MIX")
    /work/main/target/release/conclave-load "${ARGS[@]}" >/dev/null 2>&1
    kill -TERM $SP; wait $SP 2>/dev/null; cp $D/log $OUT/server-$NAME-$i.log; rm -rf $D
  done
done
echo done >> $OUT/log
