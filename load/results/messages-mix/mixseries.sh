#!/usr/bin/env bash
# Alternates plain and mixed runs, 3 pairs, at RATE msg/s per room.
RATE=${1:-3}; ROOMS=${2:-1000}; DUR=${3:-20}
for i in 1 2 3; do
  for v in plain mix; do
    while [ "$(cut -d' ' -f1 /proc/loadavg | cut -d. -f1)" -ge 2 ]; do sleep 5; done
    echo "$(date +%T) $(cut -d' ' -f1-3 /proc/loadavg) run $i $v" >> /tmp/bench/mixruns/log
    if [ $v = plain ]; then /tmp/bench/mix.sh /tmp/bench/mixruns/r$RATE-$v-$i.json $RATE $ROOMS $DUR
    else /tmp/bench/mix.sh /tmp/bench/mixruns/r$RATE-$v-$i.json $RATE $ROOMS $DUR "reactions=0.3,edits=0.2"; fi
  done
done
echo done >> /tmp/bench/mixruns/log
