#!/bin/sh
# A release of OTP's kernel, stdlib and mnesia (loaded, not started) with vm.args setting
# Mnesia's directory on the data volume, for tests/qemu/test_data_disk.py. erlc-free:
# systools only, as examples/hello_erlang/build.sh.
#
#   tests/qemu/mnesia_release/build.sh OUTDIR
set -eu
[ $# -eq 1 ] || { echo "usage: build.sh OUTDIR" >&2; exit 2; }
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../../../examples/lib/release.sh"
out=$(absdir "$1")
vsn=0.1.0
rm -rf "$out/releases"
rel=$out/releases/$vsn
mkdir -p "$rel"
cp "$here/vm.args" "$rel/"
printf '[].\n' >"$rel/sys.config"
boot_script "$out" mnesia_probe "$vsn" kernel stdlib mnesia:load
