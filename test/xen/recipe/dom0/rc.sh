#!/bin/sh
# dom0's one-time start: file systems, Xen's kernel modules, the C xenstored, xen-init-dom0,
# xenconsoled and the host's 9p shares. Each step prints a "xen-rig:" line on the console, which
# the host reads as its boot milestones.
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
say() { echo "xen-rig: $* (uptime $(cut -d' ' -f1 /proc/uptime))"; }
mountpoint -q /proc || mount -t proc proc /proc
mountpoint -q /sys || mount -t sysfs sys /sys
mountpoint -q /dev || mount -t devtmpfs dev /dev
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /dev/shm
mountpoint -q /run || mount -t tmpfs -o mode=755 tmpfs /run
mount -o remount,rw /
mount -t tmpfs tmpfs /tmp
hostname dom0
ip link set lo up 2>/dev/null
say "dom0 userspace up, kernel $(uname -r)"
for m in xenfs xen-evtchn xen-gntdev xen-gntalloc xen-privcmd xen-blkback loop 9pnet_virtio 9p; do
  modprobe "$m" 2>/dev/null || say "modprobe $m failed"
done
mountpoint -q /proc/xen || mount -t xenfs xenfs /proc/xen
mkdir -p /run/xen /run/xenstored /var/log/xen/console /var/lib/xen
bin=/usr/lib/xen-4.17/bin
# The C xenstored, as Debian's xen init script starts it by default.
"$bin"/xenstored --pid-file /run/xenstore.pid || say "xenstored failed: status $?"
i=0
until xenstore-read / >/dev/null 2>&1 || [ $i -ge 600 ]; do sleep 0.1; i=$((i + 1)); done
"$bin"/xen-init-dom0 || say "xen-init-dom0 failed: status $?"
"$bin"/xenconsoled --pid-file=/run/xenconsoled.pid --log=guest --log-dir=/var/log/xen/console ||
  say "xenconsoled failed: status $?"
if name=$(xenstore-read /local/domain/0/name 2>/dev/null); then say "xenstored up, dom0 named $name"
else say "xenstored NOT up"; fi
# The host's shares: ctl (requests, read-write), the checkout and node (read-only).
for tag in ctl checkout nodebin; do
  opts=trans=virtio,version=9p2000.L,msize=524288
  [ $tag = ctl ] || opts=$opts,ro
  mount -t 9p -o "$opts" "$tag" "/mnt/$tag" && say "9p share $tag mounted" || say "9p share $tag NOT mounted"
done
[ -x /mnt/nodebin/node ] && ln -sf /mnt/nodebin/node /usr/local/bin/node
say "rc done"
