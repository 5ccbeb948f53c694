#!/usr/bin/env bash
# bench/baseline/build.sh OUTDIR: the benchmark's baseline, "the conventional way" to put
# the demo in a VM, from Debian 12 packages only (see README.md beside this file).
#
#   kernel     Debian's stock cloud kernel, as shipped
#   initramfs  busybox-static (/bin/sh and its applets), init.sh as /init, the virtio
#              modules, and the demo's plain `mix release` (Debian's dynamically linked
#              ERTS included, bin/demo start) with the loader and libraries ldd names
#
# Writes OUTDIR/vmlinuz, OUTDIR/initrd.img (newc, zstd -9 as mkinitramfs does on
# bookworm), OUTDIR/sizes.json, OUTDIR/.done; its work files go to OUTDIR/build.
# Pinned .debs (pins.txt) are kept in $MICROBEAM_CACHE/baseline-src.
set -euo pipefail

ME=bench/baseline/build.sh
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
STEPS=7
die() { echo "$ME: error: $*" >&2; exit 1; }
step() { echo "[baseline $1/$STEPS] $2"; }

[ $# -eq 1 ] || die "usage: $ME OUTDIR"
for tool in apt-get dpkg-deb mix ldd cpio zstd python3; do
    command -v "$tool" >/dev/null || die "$tool not found (Debian 12 host with erlang, elixir, cpio, zstd)"
done
mkdir -p "$1"
OUT=$(cd "$1" && pwd)
BUILD=$OUT/build
CACHE=${MICROBEAM_CACHE:-/var/cache/microbeam}/baseline-src
mkdir -p "$CACHE" "$BUILD"
rm -f "$OUT/.done"

# --- pinned packages -------------------------------------------------------------------
step 1 "pinned packages (apt-get download into $CACHE)"
declare -A DEB
apt_updated=0
while read -r name version sha; do
    [[ -z "$name" || "$name" == \#* ]] && continue
    deb=$CACHE/${name}_${version//:/%3a}_amd64.deb   # apt-get download's file name
    if [ ! -f "$deb" ]; then
        # Without package lists (a fresh machine) apt-get download finds nothing: update once.
        until (cd "$CACHE" && apt-get download -q "$name=$version") >"$CACHE/apt.log" 2>&1; do
            [ $apt_updated = 0 ] || die "apt-get download $name=$version failed (see $CACHE/apt.log)"
            apt-get update -q >"$CACHE/apt.log" 2>&1 || die "apt-get update failed (see $CACHE/apt.log)"
            apt_updated=1
        done
        [ -f "$deb" ] || die "$name $version: apt-get download made no $deb"
    fi
    actual=$(sha256sum "$deb" | cut -d' ' -f1)
    [ "$actual" = "$sha" ] || die "$name $version: SHA-256 of $deb is $actual, pinned $sha (delete the file to fetch it again)"
    DEB[$name]=$deb
done <"$HERE/pins.txt"
KPKG=$(grep -o '^linux-image-[^ ]*' "$HERE/pins.txt")
KVER=${KPKG#linux-image-}
[ -n "${DEB[busybox-static]:-}" ] || die "$HERE/pins.txt: no busybox-static pin"

ROOT=$BUILD/root                      # the image's tree, made anew each run
rm -rf "$ROOT" "$BUILD/kernel" "$BUILD/busybox"
mkdir -p "$ROOT"/{bin,sbin,usr/bin,usr/sbin,etc,root,proc,sys,dev,tmp,run}

# --- kernel and modules ----------------------------------------------------------------
step 2 "kernel $KPKG and the virtio modules"
dpkg-deb -x "${DEB[$KPKG]}" "$BUILD/kernel"
[ -f "$BUILD/kernel/boot/vmlinuz-$KVER" ] || die "$KPKG: no /boot/vmlinuz-$KVER in the package"
cp "$BUILD/kernel/boot/vmlinuz-$KVER" "$OUT/vmlinuz"
for opt in CONFIG_RD_ZSTD=y CONFIG_DEVTMPFS=y CONFIG_VIRTIO_NET=m CONFIG_VIRTIO_PCI=m; do
    grep -qx "$opt" "$BUILD/kernel/boot/config-$KVER" || die "$KPKG: config-$KVER lacks $opt"
done
# The package has no modules.dep (its postinst runs depmod): make one for the whole
# tree, copy the needed modules with their dependencies, and index those alone, as
# mkinitramfs does. The pinned busybox's depmod writes what its modprobe reads.
BB=$BUILD/busybox/bin/busybox
dpkg-deb -x "${DEB[busybox-static]}" "$BUILD/busybox"
[ -x "$BB" ] || die "busybox-static: no /bin/busybox in the package"
"$BB" depmod -b "$BUILD/kernel" "$KVER"
MODDIR=lib/modules/$KVER
needed=$(python3 - "$BUILD/kernel/$MODDIR/modules.dep" virtio_pci virtio_mmio virtio_net virtio_balloon <<'PY'
import os, sys
deps = {}
for line in open(sys.argv[1]):
    ko, _, rest = line.partition(":")
    deps[os.path.basename(ko).removesuffix(".ko")] = (ko, rest.split())
todo, seen = list(sys.argv[2:]), set()
while todo:
    m = todo.pop()
    if m not in deps:
        sys.exit(f"modules.dep: no module {m}")
    if deps[m][0] not in seen:
        seen.add(deps[m][0])
        todo += [os.path.basename(d).removesuffix(".ko") for d in deps[m][1]]
print("\n".join(sorted(seen)))
PY
) || die "$KPKG: cannot resolve the virtio modules from modules.dep"
for ko in $needed; do
    ko=${ko#/"$MODDIR"/}
    mkdir -p "$ROOT/$MODDIR/$(dirname "$ko")"
    cp "$BUILD/kernel/$MODDIR/$ko" "$ROOT/$MODDIR/$ko"
done
cp "$BUILD/kernel/$MODDIR/modules.order" "$BUILD/kernel/$MODDIR/modules.builtin" "$ROOT/$MODDIR/"
"$BB" depmod -b "$ROOT" "$KVER"

# --- busybox and /init -----------------------------------------------------------------
step 3 "busybox-static and /init"
cp "$BB" "$ROOT/bin/busybox"
# Each applet at its usual place (as initramfs-tools' busybox hook does).
for applet in $("$BB" --list-full); do
    [ "$applet" = bin/busybox ] || [ -e "$ROOT/$applet" ] || ln -s /bin/busybox "$ROOT/$applet"
done
install -m 0755 "$HERE/init.sh" "$ROOT/init"
# Every Debian system has these; the release's node name (demo@baseline) needs the host
# name to resolve locally, and glibc's default without nsswitch.conf asks DNS first.
printf '127.0.0.1\tlocalhost\n127.0.1.1\tbaseline\n' >"$ROOT/etc/hosts"
printf 'hosts: files dns\n' >"$ROOT/etc/nsswitch.conf"
printf 'root:x:0:0:root:/root:/bin/sh\n' >"$ROOT/etc/passwd"
printf 'root:x:0:\n' >"$ROOT/etc/group"

# --- the release -------------------------------------------------------------------------
step 4 "mix release demo, as mix makes it by default (ERTS from erlang-base)"
# initramfs/demo's release config is MicroBEAM's (no ERTS, no scripts): build a copy of
# the project whose demo release has mix release's defaults instead. The copy, the
# build and MIX_HOME stay under OUTDIR; nothing is written into the source tree.
SRC=$BUILD/src/demo
rm -rf "$SRC"
mkdir -p "$SRC"
cp -r "$REPO/initramfs/demo/mix.exs" "$REPO/initramfs/demo/lib" "$SRC/"
[ ! -d "$REPO/initramfs/demo/config" ] || cp -r "$REPO/initramfs/demo/config" "$SRC/"
grep -q 'releases: releases()' "$SRC/mix.exs" \
    || die "initramfs/demo/mix.exs: no 'releases: releases()' to override"
sed -i 's/releases: releases()/releases: Keyword.merge(releases(), demo: [])/' "$SRC/mix.exs"
(
    export MIX_ENV=prod MIX_BUILD_ROOT="$BUILD/mix" MIX_HOME="$BUILD/mix-home" HEX_OFFLINE=1
    cd "$SRC"
    mix release demo --path "$ROOT/release" --overwrite --quiet
) >"$BUILD/mix.log" 2>&1 || die "mix release demo failed (see $BUILD/mix.log)"
[ -x "$ROOT/release/bin/demo" ] || die "$ROOT/release/bin/demo: not made by mix release"
ERTS_DIR=$(echo "$ROOT"/release/erts-*)
[ -x "$ERTS_DIR/bin/beam.smp" ] || die "$ROOT/release: no ERTS in the release"

# --- the loader and shared libraries -----------------------------------------------------
step 5 "shared libraries of the release's executables (ldd)"
libs=$(find "$ROOT/release" -type f -perm -u+x -exec sh -c \
        'for f; do head -c4 "$f" | grep -q ELF && ldd "$f"; done; true' _ {} + \
      | awk '$2 == "=>" && $3 ~ /^\// {print $3} $1 ~ /^\/lib64\// {print $1}' | sort -u)
[ -n "$libs" ] || die "ldd found no libraries for $ERTS_DIR"
for lib in $libs; do
    mkdir -p "$ROOT$(dirname "$lib")"
    cp -L "$lib" "$ROOT$lib" || die "$lib: cannot copy"
done
for exe in "$ERTS_DIR"/bin/{beam.smp,erlexec,erl_child_setup,inet_gethost,epmd}; do
    chroot "$ROOT" /lib64/ld-linux-x86-64.so.2 --list "${exe#"$ROOT"}" >/dev/null 2>&1 \
        || die "${exe#"$ROOT"}: the loader in the image cannot resolve its libraries"
done

# --- the initramfs -----------------------------------------------------------------------
step 6 "initrd.img (newc cpio, zstd -9)"
(cd "$ROOT" && find . | LC_ALL=C sort | cpio --quiet -o -H newc -R 0:0 --reproducible) \
    >"$BUILD/initrd.cpio" || die "cpio of $ROOT failed"
zstd -q -f -9 "$BUILD/initrd.cpio" -o "$OUT/initrd.img"

step 7 "sizes.json"
ver() { dpkg-query -W -f '${Version}' "$1"; }
python3 "$HERE/sizes.py" "$BUILD/initrd.cpio" "$OUT/initrd.img" "$OUT/vmlinuz" "$OUT/sizes.json" \
    "kernel=$KPKG $(grep "^$KPKG " "$HERE/pins.txt" | cut -d' ' -f2)" \
    "busybox-static=$(grep '^busybox-static ' "$HERE/pins.txt" | cut -d' ' -f2)" \
    "erlang-base=$(ver erlang-base)" "elixir=$(ver elixir)" "libc6=$(ver libc6:amd64)" \
    || die "sizes.py failed"
rm -rf "$BUILD/kernel" "$BUILD/busybox"
touch "$OUT/.done"
echo "[baseline] done: $OUT/vmlinuz $(stat -c %s "$OUT/vmlinuz") B, $OUT/initrd.img $(stat -c %s "$OUT/initrd.img") B"
