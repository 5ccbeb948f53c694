#!/usr/bin/env bash
# bench/baseline/build.sh OUTDIR — the benchmark's baseline: the conventional way to put
# the demo in a VM, from Debian 12 packages only.
#
#   kernel     Debian's stock cloud kernel (linux-image-cloud-amd64), as shipped
#   initramfs  busybox-static as /bin/sh, init.sh as /init, the virtio-net modules,
#              the Mix release `baseline` of initramfs/demo with Debian's dynamically
#              linked ERTS inside, and the loader and libraries it needs (ldd)
#
# Writes OUTDIR/vmlinuz, OUTDIR/initrd.img (newc, zstd -19 like ours), OUTDIR/sizes.json
# and OUTDIR/.done. Packages are pinned by version and .deb SHA-256 (pins.txt) and kept
# in $MICROBEAM_CACHE/baseline-src.
set -euo pipefail

ME=bench/baseline/build.sh
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
STEPS=6
die() { echo "$ME: error: $*" >&2; exit 1; }
step() { echo "[baseline $1/$STEPS] $2"; }

[ $# -eq 1 ] || die "usage: $ME OUTDIR"
mkdir -p "$1"
OUT=$(cd "$1" && pwd)
CACHE=${MICROBEAM_CACHE:-/var/cache/microbeam}/baseline-src
mkdir -p "$CACHE"
rm -f "$OUT/.done"

# --- 1: pinned packages ---------------------------------------------------------------
step 1 "fetch and check the pinned packages (${CACHE})"
declare -A DEB
while read -r name version sha; do
    [[ -z "$name" || "$name" == \#* ]] && continue
    deb=$(ls "$CACHE/${name}_"*"_amd64.deb" 2>/dev/null | head -1 || true)
    if [ -z "$deb" ]; then
        (cd "$CACHE" && apt-get download -q "$name=$version" >/dev/null 2>"$CACHE/apt.log") \
            || die "apt-get download $name=$version failed (see $CACHE/apt.log)"
        deb=$(ls "$CACHE/${name}_"*"_amd64.deb" | head -1)
    fi
    actual=$(sha256sum "$deb" | cut -d' ' -f1)
    [ "$actual" = "$sha" ] || die "$deb: SHA-256 $actual, pinned $sha ($name $version)"
    DEB[$name]=$deb
done <"$HERE/pins.txt"
KPKG=$(grep -o '^linux-image-[^ ]*' "$HERE/pins.txt")
KVER=${KPKG#linux-image-}

WORK=$OUT/work
rm -rf "$WORK"
mkdir -p "$WORK/kernel" "$WORK/busybox" "$WORK/root"
ROOT=$WORK/root

# --- 2: kernel and modules ------------------------------------------------------------
step 2 "unpack $KPKG"
dpkg-deb -x "${DEB[$KPKG]}" "$WORK/kernel"
cp "$WORK/kernel/boot/vmlinuz-$KVER" "$OUT/vmlinuz"
MODS=$WORK/kernel/lib/modules/$KVER/kernel
# virtio-net over PCI, in dependency order (modinfo -F depends)
LOAD_ORDER="virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci failover net_failover virtio_net"
mkdir -p "$ROOT/lib/modules"
for m in $LOAD_ORDER; do
    ko=$(find "$MODS" -name "$m.ko" | head -1)
    [ -n "$ko" ] || die "$KPKG: module $m.ko not found"
    cp "$ko" "$ROOT/lib/modules/"
done
echo "$LOAD_ORDER" >"$ROOT/lib/modules/load-order"

# --- 3: busybox -----------------------------------------------------------------------
step 3 "busybox-static as /bin/sh and its applets"
dpkg-deb -x "${DEB[busybox-static]}" "$WORK/busybox"
mkdir -p "$ROOT/bin" "$ROOT/sbin" "$ROOT/etc" "$ROOT/root" "$ROOT/proc" "$ROOT/sys" "$ROOT/dev"
cp "$WORK/busybox/bin/busybox" "$ROOT/bin/busybox"
for applet in $("$ROOT/bin/busybox" --list); do
    [ "$applet" = busybox ] || ln -sf busybox "$ROOT/bin/$applet"
done
cp "$HERE/init.sh" "$ROOT/init"
chmod 755 "$ROOT/init"
# Every Debian system has these; without /etc/hosts the kernel app's host-name look-up
# waits for DNS (see the main README).
printf '127.0.0.1\tlocalhost baseline\n' >"$ROOT/etc/hosts"
echo "root:x:0:0:root:/root:/bin/sh" >"$ROOT/etc/passwd"

# --- 4: the release, with Debian's ERTS -----------------------------------------------
step 4 "mix release baseline (initramfs/demo, ERTS from erlang-base)"
MIXB=$OUT/mix
(
    export MIX_ENV=prod MIX_BUILD_ROOT="$MIXB/build" MIX_HOME="$MIXB/home" HEX_OFFLINE=1
    cd "$REPO/initramfs/demo"
    mix release baseline --path "$ROOT/release" --overwrite --quiet
) || die "mix release baseline failed"
[ -x "$ROOT/release/bin/baseline" ] || die "$ROOT/release/bin/baseline: not made by mix release"

# --- 5: the loader and the shared libraries ERTS needs ---------------------------------
step 5 "shared libraries (ldd of the release's ERTS executables)"
libs=$(find "$ROOT/release" -path '*/erts-*/bin/*' -type f -perm -u+x -exec sh -c \
        'ldd "$1" 2>/dev/null || true' _ {} \; \
      | awk '/=>/ && $3 ~ /^\// {print $3}' | sort -u)
[ -n "$libs" ] || die "ldd found no libraries for the release's ERTS"
for lib in $libs /lib64/ld-linux-x86-64.so.2; do
    real=$(readlink -f "$lib")
    mkdir -p "$ROOT$(dirname "$lib")"
    cp "$real" "$ROOT$lib"
done

# --- 6: the initramfs and its sizes ---------------------------------------------------
step 6 "initramfs (newc, zstd -19) and sizes.json"
(cd "$ROOT" && find . -print0 | LC_ALL=C sort -z \
    | cpio --null -o -H newc --quiet --reproducible >"$WORK/initrd.cpio")
zstd -q -f -19 "$WORK/initrd.cpio" -o "$OUT/initrd.img"
python3 - "$ROOT" "$OUT" "$WORK/initrd.cpio" <<'PY'
import json, os, sys
root, out, raw = sys.argv[1], sys.argv[2], sys.argv[3]
def du(path):
    total = 0
    for d, _, files in os.walk(path):
        for f in files:
            p = os.path.join(d, f)
            if not os.path.islink(p):
                total += os.path.getsize(p)
    return total
rel = os.path.join(root, "release")
comp = {"busybox": os.path.getsize(os.path.join(root, "bin/busybox")),
        "kernel_modules": du(os.path.join(root, "lib/modules")),
        "shared_libs": du(os.path.join(root, "lib")) - du(os.path.join(root, "lib/modules")) + du(os.path.join(root, "lib64")),
        "erts": sum(du(os.path.join(rel, d)) for d in os.listdir(rel) if d.startswith("erts-"))}
apps = {name.rsplit("-", 1)[0]: du(os.path.join(rel, "lib", name)) for name in os.listdir(os.path.join(rel, "lib"))}
uncompressed = du(root)
comp["other"] = uncompressed - sum(comp.values()) - sum(apps.values())
comp["apps"] = apps
kernel = os.path.getsize(os.path.join(out, "vmlinuz"))
initrd = os.path.getsize(os.path.join(out, "initrd.img"))
json.dump({"kernel": kernel, "initramfs_compressed": initrd, "initramfs_uncompressed": uncompressed,
           "cpio_bytes": os.path.getsize(raw), "total": kernel + initrd, "components": comp},
          open(os.path.join(out, "sizes.json"), "w"), indent=2)
PY
rm -rf "$WORK"
echo "$KPKG busybox-static $(sha256sum "$HERE/init.sh" "$HERE/pins.txt" | cut -c1-12 | tr '\n' ' ')" >"$OUT/.done"
echo "[baseline] done: $OUT/vmlinuz $(stat -c %s "$OUT/vmlinuz") B, $OUT/initrd.img $(stat -c %s "$OUT/initrd.img") B"
