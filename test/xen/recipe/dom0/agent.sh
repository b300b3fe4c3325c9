#!/bin/sh
# dom0's side of the host's request folder (the 9p share "ctl"). The host renames a script into
# req/ID.sh; this moves it to run/, runs it with bash, and writes out/ID.out and out/ID.err, then
# out/ID.rc last (by rename), which tells the host the answer is complete.
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
c=/mnt/ctl
# Before rc.sh has mounted the share there is nothing to serve; init respawns this script.
mountpoint -q $c || { sleep 2; exit 0; }
mkdir -p $c/req $c/run $c/out
echo "uptime $(cut -d' ' -f1 /proc/uptime)" > $c/agent.ready.tmp && mv $c/agent.ready.tmp $c/agent.ready
while :; do
  for f in $c/req/*.sh; do
    [ -e "$f" ] || continue
    id=$(basename "$f" .sh)
    mv "$f" "$c/run/$id.sh" 2>/dev/null || continue
    (
      cd /root
      bash "$c/run/$id.sh" > "$c/out/$id.out" 2> "$c/out/$id.err" < /dev/null
      echo $? > "$c/out/$id.rc.tmp" && mv "$c/out/$id.rc.tmp" "$c/out/$id.rc"
    ) &
  done
  sleep 0.3
done
