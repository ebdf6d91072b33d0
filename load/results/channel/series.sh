#!/usr/bin/env bash
# usage: series.sh OUTDIR RUNS — restarts the server on the same database for each run
OUT=$1; N=$2; P=${3:-20}; R=${4:-20}; B=/work/main/target/release/conclave; L=/work/main/target/release/conclave-load
mkdir -p $OUT; DB=/tmp/chbench/c.db
for i in $(seq 1 $N); do
  while [ "$(cut -d' ' -f1 /proc/loadavg | cut -d. -f1)" -ge 2 ]; do sleep 5; done
  PORT=$((20000 + RANDOM % 20000))
  $B serve --bind 127.0.0.1:$PORT --database-url $DB --chat-starts-per-minute 0 --session-rate 0 --max-connections-per-token 1000 >/dev/null 2>$OUT/server-$i.log &
  SP=$!; sleep 1.5
  echo "$(date +%T) load $(cut -d' ' -f1-3 /proc/loadavg) run $i" >> $OUT/log
  $L --url http://127.0.0.1:$PORT --channel --members 2000 --online 500 --posters $P --channel-rate $R --duration 30 --drain 3 --json $OUT/run-$i.json > $OUT/run-$i.txt 2>&1 &
  LP=$!
  # Server CPU over the posting window: sample once posting starts, and 30 s later.
  while ! grep -q "posting for" $OUT/run-$i.txt 2>/dev/null; do sleep 0.2; done
  T0=$(awk '{print $14+$15}' /proc/$SP/stat); R0=$(grep VmRSS /proc/$SP/status | awk '{print $2}')
  sleep 30
  T1=$(awk '{print $14+$15}' /proc/$SP/stat); R1=$(grep VmRSS /proc/$SP/status | awk '{print $2}')
  wait $LP
  echo "run $i server_cpu_ticks $((T1-T0)) over 30 s (ticks of 1/100 s), rss_kib $R0 -> $R1" >> $OUT/log
  kill -TERM $SP; wait $SP 2>/dev/null
done
echo done >> $OUT/log
