#!/bin/sh
# CPU contention for the test runs: one busy loop per core (or as many as asked), for a bounded
# time. Start it in the background, keep its PID, stop it with `kill PID`: the loops go with it
# (TERM, INT and HUP are trapped). Each loop runs under timeout(1), so even a SIGKILLed hog
# leaves the machine busy SECONDS at most; given WATCH_PID it also stops when that process is
# gone (a test run that dies before it could stop the hog).
#
#   tools/cpu-hog.sh [SECONDS [LOOPS [WATCH_PID]]]   defaults: 1800 s, one loop per online core
set -u
cores=$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo 2)
secs=${1:-1800}
loops=${2:-$cores}
watch=${3:-}
case "$secs$loops$watch" in *[!0-9]*) echo "usage: $0 [SECONDS [LOOPS [WATCH_PID]]]" >&2; exit 2 ;; esac

pids=''
stop() {
  # shellcheck disable=SC2086
  [ -n "$pids" ] && kill $pids 2>/dev/null
  pids=''
}
trap 'stop; exit 0' TERM INT HUP
trap stop EXIT

i=0
while [ "$i" -lt "$loops" ]; do
  # pinned one per core where taskset exists, so that the loops really cover every core
  if command -v taskset >/dev/null 2>&1; then
    timeout "$secs" taskset -c "$((i % cores))" sh -c 'while :; do :; done' &
  else
    timeout "$secs" sh -c 'while :; do :; done' &
  fi
  pids="$pids $!"
  i=$((i + 1))
done

# waits in the background (sleep 1 at a time when watching), so that a signal is handled at once
left=$secs
if [ -n "$watch" ]; then
  while [ "$left" -gt 0 ] && kill -0 "$watch" 2>/dev/null; do
    sleep 1 &
    wait $!
    left=$((left - 1))
  done
else
  sleep "$secs" &
  pids="$pids $!"
  wait $!
fi
