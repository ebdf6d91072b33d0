#!/usr/bin/env bash
# Alternates HEAD (search index written) and the variant without it, 4 pairs.
RATE=${1:-3}; ROOMS=${2:-1000}; DUR=${3:-20}
for i in 1 2 3 4; do
  for v in index noindex; do
    while [ "$(cut -d' ' -f1 /proc/loadavg | cut -d. -f1)" -ge 2 ]; do sleep 5; done
    echo "$(date +%T) $(cut -d' ' -f1-3 /proc/loadavg) run $i $v" >> /tmp/bench/idxruns/log
    if [ $v = index ]; then B=/work/main/target/release/conclave; else B=/tmp/wt-noidx/target/release/conclave; fi
    /tmp/bench/idx.sh $B /tmp/bench/idxruns/r$RATE-$v-$i.json $RATE $ROOMS $DUR
  done
done
echo done >> /tmp/bench/idxruns/log
