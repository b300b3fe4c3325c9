#!/bin/bash
# dom0's side of the host's request folder (the 9p share "ctl"). The host renames a script into
# req/ID.sh; this moves it to run/, runs it with bash, and writes out/ID.out and out/ID.err, then
# out/ID.rc last (by rename), which tells the host the answer is complete.
#
# It polls without starting a process: `read -t` on a FIFO nobody writes is bash's own timed
# wait. Under TCG a freshly started process (it was always `sleep 0.3`) now and then spun in user
# mode for minutes, and the agent, starting three a second, was where it showed.
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
c=/mnt/ctl
# Before rc.sh has mounted the share there is nothing to serve; init respawns this script.
mountpoint -q $c || { sleep 2; exit 0; }
mkdir -p $c/req $c/run $c/out
tick=/run/xen-rig-agent.tick
[ -p $tick ] || { rm -f $tick; mkfifo $tick; }
exec 9<> $tick
echo "uptime $(cut -d' ' -f1 /proc/uptime)" > $c/agent.ready.tmp && mv $c/agent.ready.tmp $c/agent.ready
shopt -s nullglob
while :; do
  for f in $c/req/*.sh; do
    id=${f##*/}
    id=${id%.sh}
    mv "$f" "$c/run/$id.sh" 2>/dev/null || continue
    (
      cd /root
      bash "$c/run/$id.sh" > "$c/out/$id.out" 2> "$c/out/$id.err" < /dev/null
      echo $? > "$c/out/$id.rc.tmp" && mv "$c/out/$id.rc.tmp" "$c/out/$id.rc"
    ) &
  done
  read -rt 0.3 -u 9 _
done
