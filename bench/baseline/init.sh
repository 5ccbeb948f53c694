#!/bin/sh
# PID 1 of the baseline guest: busybox sh, the conventional minimal initramfs init.
# It sets the system up with busybox applets and kernel modules, then runs the Mix
# release's own start script in the foreground, as a service manager would; when the
# release stops, it powers off.
export PATH=/bin:/sbin HOME=/root TERM=vt100 LANG=C.UTF-8
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /tmp /run /dev/pts /dev/shm
mount -t tmpfs tmpfs /tmp
mount -t tmpfs tmpfs /run
mount -t devpts devpts /dev/pts
# virtio-net on q35 (Debian's cloud kernel has these as modules), in dependency order
for m in $(cat /lib/modules/load-order); do
    insmod "/lib/modules/$m.ko" || echo "init: insmod $m failed"
done
i=0
while [ ! -e /sys/class/net/eth0 ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
hostname baseline
ip link set lo up
ip addr add 10.0.2.15/24 dev eth0
ip link set eth0 up
ip route add default via 10.0.2.2
/release/bin/baseline start
echo "init: the release stopped ($?); powering off"
poweroff -f
