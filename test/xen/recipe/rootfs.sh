#!/bin/bash
# Stage 1 of the Xen rig's image: a Debian 12 root tree with the hypervisor, dom0's kernel and Xen's
# tools, made by mmdebstrap from this host's own apt sources (read now, so no mirror is written
# down anywhere). Usage: rootfs.sh OUTDIR   (OUTDIR must not exist; the tree lands in OUTDIR/tree)
set -euo pipefail
out=${1:?usage: rootfs.sh OUTDIR}
[ ! -e "$out" ] || { echo "rootfs.sh: $out exists" >&2; exit 2; }

sources=()
for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.sources /etc/apt/sources.list.d/*.list; do
  [ -f "$f" ] && grep -qE '^[[:space:]]*(URIs:|deb[[:space:]])[^#]*debian' "$f" && sources+=("$f")
done
((${#sources[@]})) || { echo "rootfs.sh: no Debian apt sources on this host" >&2; exit 1; }

# busybox-static: dom0's init and the guest initramfs's only binary. qemu-system-xen: the qdisk
# backend. cpio: packs the guest initramfs inside the tree (stage 2).
packages=linux-image-amd64,initramfs-tools,xen-hypervisor-4.17-amd64,xen-utils-4.17,xenstore-utils,
packages+=qemu-system-xen,qemu-utils,busybox-static,kmod,e2fsprogs,util-linux,procps,iproute2,cpio,
packages+=libstdc++6,ca-certificates

mkdir -p "$out"
mmdebstrap --quiet --mode=root --variant=minbase --include="$packages" \
  --dpkgopt='path-exclude=/usr/share/man/*' \
  --dpkgopt='path-exclude=/usr/share/doc/*' \
  --dpkgopt='path-exclude=/usr/share/locale/*' \
  --customize-hook='rm -f "$1"/etc/apt/sources.list "$1"/etc/apt/sources.list.d/*' \
  --customize-hook='rm -rf "$1"/var/cache/apt/* "$1"/var/lib/apt/lists/*' \
  bookworm "$out/tree" "${sources[@]}"
