#!/usr/bin/env bash
mkdir -p /tmp/bench/routeruns
for i in 1 2; do
  for r in 10 20 40; do
    while [ "$(cut -d' ' -f1 /proc/loadavg | cut -d. -f1)" -ge 2 ]; do sleep 5; done
    echo "$(date +%T) $(cut -d' ' -f1-3 /proc/loadavg) run $i rate $r" >> /tmp/bench/routeruns/log
    /tmp/bench/route.sh /tmp/bench/routeruns/r$r-$i.txt $r
  done
done
echo done >> /tmp/bench/routeruns/log
