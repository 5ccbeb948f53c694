#!/usr/bin/env bash
# kernel/build.sh OUTDIR — build MicroBEAM's guest kernel from Debian's linux-source-6.1.
#
# Writes OUTDIR/bzImage, OUTDIR/vmlinux (uncompressed ELF, PVH entry note), OUTDIR/config
# and OUTDIR/.done. Work happens under ${MICROBEAM_CACHE:-/var/cache/microbeam}/kernel.
# Config = `make tinyconfig` + kernel/microbeam.config, and every line of the fragment
# is checked in the final .config.
set -euo pipefail

PKG=linux-source-6.1
PKG_VERSION=6.1.192-2
TARBALL=/usr/src/linux-source-6.1.tar.xz
TARBALL_SHA256=4d415b3d364834fd818270e88813e90323bbfce4f519a0e6bd4940ddcd7df693
TOP=linux-source-6.1                      # directory inside the tarball

# Fixed build identity, so the same inputs give the same bytes.
export KBUILD_BUILD_TIMESTAMP="Thu Jan  1 00:00:00 UTC 2026"
export KBUILD_BUILD_USER=microbeam
export KBUILD_BUILD_HOST=microbeam
export KBUILD_BUILD_VERSION=1
export LC_ALL=C TZ=UTC

ME=kernel/build.sh
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
FRAGMENT=$HERE/microbeam.config
PATCHES=("$HERE"/patches/*.patch)          # applied in name order with patch -p1
STEPS=6

die() { echo "$ME: error: $*" >&2; exit 1; }
step() { echo "[kernel $1/$STEPS] $2"; }

[ $# -eq 1 ] || die "usage: $ME OUTDIR"
OUT=$1
[ -f "$FRAGMENT" ] || die "$FRAGMENT: config fragment missing"
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)

# The stamp names every input; .done holding the same stamp means nothing changed.
PATCHES_SHA256=$(cat "${PATCHES[@]}" | sha256sum | cut -d' ' -f1)
STAMP="$PKG=$PKG_VERSION sha256=$TARBALL_SHA256 patches=$PATCHES_SHA256 fragment=$(sha256sum "$FRAGMENT" | cut -d' ' -f1) script=$(sha256sum "${BASH_SOURCE[0]}" | cut -d' ' -f1)"
if [ -f "$OUT/.done" ] && [ "$(cat "$OUT/.done")" = "$STAMP" ] \
   && [ -f "$OUT/bzImage" ] && [ -f "$OUT/vmlinux" ] && [ -f "$OUT/config" ]; then
    echo "[kernel] $OUT/bzImage is up to date"
    exit 0
fi
rm -f "$OUT/.done"

CACHE=${MICROBEAM_CACHE:-/var/cache/microbeam}/kernel
mkdir -p "$CACHE"
exec 9>"$CACHE/.lock"
flock 9                                   # one kernel build at a time per cache

# --- 1: source package, pinned by version and checksum --------------------------------
step 1 "check $PKG $PKG_VERSION ($TARBALL)"
apt_install() {
    echo "[kernel] apt-get install -y $*"
    if ! DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$@" >"$CACHE/apt.log" 2>&1; then
        apt-get update >>"$CACHE/apt.log" 2>&1 || true
        DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$@" >>"$CACHE/apt.log" 2>&1 \
            || die "apt-get install $* failed (see $CACHE/apt.log)"
    fi
}
if [ ! -f "$TARBALL" ]; then
    apt_install "$PKG=$PKG_VERSION"
    [ -f "$TARBALL" ] || die "$TARBALL: missing after installing $PKG=$PKG_VERSION"
fi
have=$(dpkg-query -W -f='${Version}' "$PKG" 2>/dev/null || true)
[ -z "$have" ] || [ "$have" = "$PKG_VERSION" ] \
    || die "$TARBALL: comes from $PKG $have, need $PKG_VERSION (apt-get install $PKG=$PKG_VERSION)"
sum=$(sha256sum "$TARBALL" | cut -d' ' -f1)
[ "$sum" = "$TARBALL_SHA256" ] \
    || die "$TARBALL: sha256 $sum does not match pinned $TARBALL_SHA256 ($PKG $PKG_VERSION)"

# Host tools the kernel build needs (Debian package per missing command).
missing=()
for t in gcc:gcc make:make patch:patch flex:flex bison:bison bc:bc zstd:zstd xz:xz-utils \
         perl:perl flock:util-linux; do
    command -v "${t%%:*}" >/dev/null || missing+=("${t#*:}")
done
[ -f /usr/include/gelf.h ] || missing+=(libelf-dev)        # objtool
[ ${#missing[@]} -eq 0 ] || apt_install "${missing[@]}"

# --- 2: unpack and patch once, keyed by the tarball's and the patches' checksums -------
SRCKEY="$TARBALL_SHA256 $PATCHES_SHA256"
SRC=$CACHE/src-$PKG_VERSION/$TOP
if [ "$(cat "$CACHE/src-$PKG_VERSION/.unpacked" 2>/dev/null)" = "$SRCKEY" ]; then
    step 2 "source already unpacked and patched in $SRC"
else
    step 2 "unpack $TARBALL into $CACHE/src-$PKG_VERSION, apply ${#PATCHES[@]} patch(es)"
    # A fresh tree has the tarball's old mtimes: make would keep objects built from
    # files a removed or changed patch touched. So new sources mean a clean build.
    rm -rf "$CACHE/src-$PKG_VERSION" "$CACHE/src.tmp" "$CACHE/build-$PKG_VERSION"
    mkdir -p "$CACHE/src.tmp"
    tar -C "$CACHE/src.tmp" -xJf "$TARBALL"
    [ -f "$CACHE/src.tmp/$TOP/Makefile" ] || die "$TARBALL: no $TOP/Makefile inside"
    for p in "${PATCHES[@]}"; do
        patch -s -p1 -N -d "$CACHE/src.tmp/$TOP" <"$p" >"$CACHE/patch.log" 2>&1 \
            || die "$p: does not apply to $PKG $PKG_VERSION (see $CACHE/patch.log)"
    done
    mv "$CACHE/src.tmp" "$CACHE/src-$PKG_VERSION"
    echo "$SRCKEY" >"$CACHE/src-$PKG_VERSION/.unpacked"
fi

# --- 3: configure: tinyconfig + fragment ------------------------------------------------
BUILD=$CACHE/build-$PKG_VERSION
mkdir -p "$BUILD"
KMAKE=(make -C "$SRC" O="$BUILD" ARCH=x86_64 -s)
step 3 "configure: tinyconfig + kernel/microbeam.config"
"${KMAKE[@]}" tinyconfig >"$BUILD/config.log" 2>&1 || die "make tinyconfig failed (see $BUILD/config.log)"
(cd "$SRC" && scripts/kconfig/merge_config.sh -m -O "$BUILD" "$BUILD/.config" "$FRAGMENT") \
    >>"$BUILD/config.log" 2>&1 || die "merge_config.sh failed (see $BUILD/config.log)"
"${KMAKE[@]}" olddefconfig >>"$BUILD/config.log" 2>&1 || die "make olddefconfig failed (see $BUILD/config.log)"

# --- 4: every fragment line must have survived Kconfig ----------------------------------
step 4 "verify every option of the fragment is in the final .config"
bad=0 n=0
while IFS= read -r line; do
    case "$line" in
        CONFIG_*=*) sym=${line%%=*}; want=${line#*=} ;;
        "# CONFIG_"*" is not set") sym=${line#\# }; sym=${sym%% *}; want=n ;;
        *) continue ;;
    esac
    n=$((n + 1))
    got=$(grep -E "^($sym=|# $sym is not set\$)" "$BUILD/.config" | head -n1 || true)
    case "$got" in "$sym="*) got=${got#*=} ;; *) got=n ;; esac
    if [ "$got" != "$want" ]; then
        echo "$ME: error: $FRAGMENT: $sym wants '$want' but the final .config has '$got' (unmet dependency or select?)" >&2
        bad=1
    fi
done <"$FRAGMENT"
[ $bad -eq 0 ] || die "$FRAGMENT: options above did not end up as requested"
echo "[kernel] $n fragment options verified"

# --- 5: compile --------------------------------------------------------------------------
step 5 "compile bzImage + vmlinux (make -j$(nproc), log $BUILD/build.log)"
if ! "${KMAKE[@]}" -j"$(nproc)" bzImage >"$BUILD/build.log" 2>&1; then
    tail -n 30 "$BUILD/build.log" >&2
    die "kernel compile failed (see $BUILD/build.log)"
fi

# --- 6: install ----------------------------------------------------------------------------
step 6 "install bzImage, vmlinux, config into $OUT"
install -m 0644 "$BUILD/arch/x86/boot/bzImage" "$OUT/bzImage.tmp" && mv "$OUT/bzImage.tmp" "$OUT/bzImage"
install -m 0644 "$BUILD/vmlinux" "$OUT/vmlinux.tmp" && mv "$OUT/vmlinux.tmp" "$OUT/vmlinux"
install -m 0644 "$BUILD/.config" "$OUT/config"
echo "$STAMP" >"$OUT/.done"
echo "[kernel] done: $OUT/bzImage $(stat -c %s "$OUT/bzImage") bytes, vmlinux $(stat -c %s "$OUT/vmlinux") bytes"
