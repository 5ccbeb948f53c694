#!/bin/sh
# /init of the baseline guest: busybox sh as PID 1, the conventional minimal initramfs.
# It sets the system up with busybox applets, then runs the release's own start script
# in the foreground as its child (as a service manager would) and powers off when the
# release stops. PID 1 never exits, so the kernel never panics on its way out.
export PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 TERM=vt100

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /tmp /run

# Debian's cloud kernel has virtio as modules: virtio_pci for q35's virtio-net-pci,
# virtio_mmio for microvm (found through ACPI). modprobe resolves the dependencies
# from the modules.dep that build.sh generated for the modules in the image.
# virtio_balloon: what udev would load for a balloon device (free page reporting, in
# `bench --density`); without the device it stays idle.
modprobe -a virtio_pci virtio_mmio virtio_net virtio_balloon || echo "init: modprobe failed"

i=0
while [ ! -e /sys/class/net/eth0 ] && [ "$i" -lt 100 ]; do
    sleep 0.05
    i=$((i + 1))
done
[ -e /sys/class/net/eth0 ] || echo "init: no eth0 after 5 s"

# QEMU user networking: guest 10.0.2.15/24, gateway 10.0.2.2.
hostname baseline
ip link set lo up
ip addr add 10.0.2.15/24 dev eth0
ip link set eth0 up
ip route add default via 10.0.2.2

cd /
/release/bin/demo start
echo "init: the release stopped (status $?); powering off"
poweroff -f
