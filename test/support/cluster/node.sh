#!/bin/sh
# One Pacemaker+Corosync node, run as PID 1 of its own PID, mount and UTS namespaces inside a
# network namespace (started by test/support/cluster/cluster.ts as
#   ip netns exec NS unshare -m -u -p -f --kill-child --mount-proc node.sh NAME DIR AGENT).
# Private tmpfs over the daemons' state (/run, /dev/shm for libqb's IPC rings, /var/lib/pacemaker,
# /var/lib/corosync, /etc/corosync, the OCF provider dir) keeps the two nodes apart; libqb's
# abstract sockets are already per network namespace. Killing this PID 1 (SIGKILL) ends every
# process of the node, the agent's QEMU included, and its mounts with it.
set -eu
name=$1 dir=$2 agent=$3
mount --make-rprivate /
for d in /run /dev/shm /var/lib/pacemaker /var/lib/corosync /etc/corosync /var/log/pacemaker /usr/lib/ocf/resource.d; do
	mount -t tmpfs -o mode=0755 "node-$name" "$d"
done
chmod 1777 /dev/shm
hostname "$name"
for d in cib pengine blackbox cores; do
	mkdir -p "/var/lib/pacemaker/$d"
	chown hacluster:haclient "/var/lib/pacemaker/$d"
	chmod 0750 "/var/lib/pacemaker/$d"
done
mkdir -p /run/crm /run/resource-agents /var/log/pacemaker/bundles /usr/lib/ocf/resource.d/colo-xl
chown hacluster:haclient /run/crm /var/log/pacemaker /var/log/pacemaker/bundles
ln -s "$agent" /usr/lib/ocf/resource.d/colo-xl/colo-xl
cp "$dir/corosync.conf" /etc/corosync/corosync.conf
if [ -f "$dir/cib.xml" ]; then
	# a seed CIB (no digest file: Pacemaker accepts that with a warning)
	install -o hacluster -g haclient -m 0600 "$dir/cib.xml" /var/lib/pacemaker/cib/cib.xml
fi

corosync -f >"$dir/corosync.out" 2>&1 &
i=0
until corosync-cmapctl -g totem.cluster_name >/dev/null 2>&1; do
	i=$((i + 1))
	[ $i -lt 100 ] || { echo "corosync did not come up" >&2; exit 1; }
	sleep 0.1
done
PCMK_logfile="$dir/pacemaker.log" PCMK_debug=no pacemakerd >"$dir/pacemakerd.out" 2>&1 &
echo "node $name up" >"$dir/ready"
wait
