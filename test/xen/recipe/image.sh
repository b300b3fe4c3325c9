#!/bin/bash
# Stage 2 of the Xen rig's image: dom0's configuration, the PV guest's kernel and busybox
# initramfs, and the boot files QEMU loads. Usage: image.sh TREE OUTDIR
#   TREE    stage 1's root tree (rootfs.sh); copied, never changed
#   OUTDIR  must not exist; receives xen, vmlinuz, initrd.img, dom0.img (raw ext4, root=/dev/vda)
set -euo pipefail
recipe=$(cd "$(dirname "$0")" && pwd)
tree=${1:?usage: image.sh TREE OUTDIR}
out=${2:?usage: image.sh TREE OUTDIR}
[ ! -e "$out" ] || { echo "image.sh: $out exists" >&2; exit 2; }
mkdir -p "$out"
root=$out/root
cp -a "$tree" "$root"

# dom0: busybox init runs rc.sh, then keeps the request agent and a console shell alive.
install -m 0755 "$recipe/dom0/rc.sh" "$root/etc/xen-rig-rc.sh"
install -m 0755 "$recipe/dom0/agent.sh" "$root/usr/local/sbin/xen-rig-agent"
install -m 0644 "$recipe/dom0/inittab" "$root/etc/inittab"
ln -sf /bin/busybox "$root/sbin/init"
echo dom0 > "$root/etc/hostname"
printf '/dev/vda / ext4 rw,noatime 0 1\n' > "$root/etc/fstab"
mkdir -p "$root/mnt/ctl" "$root/mnt/checkout" "$root/mnt/nodebin" "$root/var/log/xen/console"
# A root shell on the console without a password: the rig has no network (-nic none).
sed -i 's/^root:[^:]*:/root::/' "$root/etc/shadow"

# The PV guest runs dom0's own kernel with an initramfs of busybox-static, xen-blkfront and init.
kver=$(ls "$root/lib/modules" | sort -V | tail -1)
g=$root/opt/xen-rig/guest
mkdir -p "$g"
stage=$(mktemp -d "$root/tmp/initramfs.XXXXXX")
mkdir -p "$stage"/{bin,dev,proc,sys,lib/modules}
cp "$root/bin/busybox" "$stage/bin/busybox"
blkfront=$(find "$root/lib/modules/$kver" -name 'xen-blkfront.ko*' | head -1)
[ -n "$blkfront" ] || { echo "image.sh: xen-blkfront module missing from kernel $kver" >&2; exit 1; }
case $blkfront in
  *.ko) cp "$blkfront" "$stage/lib/modules/xen-blkfront.ko" ;;
  *.ko.xz) xz -dc "$blkfront" > "$stage/lib/modules/xen-blkfront.ko" ;;
  *) echo "image.sh: cannot unpack $blkfront" >&2; exit 1 ;;
esac
install -m 0755 "$recipe/guest/init" "$stage/init"
# cpio from the tree itself, so the host needs no cpio.
chroot "$root" /bin/sh -c "cd /tmp/$(basename "$stage") && find . | cpio -o -H newc --quiet" | gzip -9 > "$g/initrd.gz"
rm -rf "$stage"
cp "$root/boot/vmlinuz-$kver" "$g/vmlinuz"
install -m 0644 "$recipe/guest/pv.cfg" "$g/pv.cfg"

# What QEMU loads: Xen as a multiboot kernel (QEMU wants the ELF, not the .gz), dom0's kernel and
# initramfs as multiboot modules.
xen_gz=$(ls "$root"/boot/xen-4.17*.gz | sort -V | tail -1)
zcat "$xen_gz" > "$out/xen"
cp "$root/boot/vmlinuz-$kver" "$out/vmlinuz"
cp "$root/boot/initrd.img-$kver" "$out/initrd.img"
mke2fs -q -F -t ext4 -L dom0root -d "$root" "$out/dom0.img" 3G
rm -rf "$root"
echo "kernel $kver; image $(du -h "$out/dom0.img" | cut -f1) used"
