#!/bin/sh
# Builds the demo release with mix and stages it for the guest.
#
#   build-demo.sh BUILD_DIR [assemble.escript options, e.g. --otp-lib DIR]
#
# Writes only under BUILD_DIR: mix/ (MIX_BUILD_ROOT), mix-home/, mix-release/
# (what `mix release` made), staging/release/ (the guest tree), release.spec
# and sizes.json. Nothing is fetched and nothing is written into the source tree.
set -eu
[ $# -ge 1 ] || { echo "usage: build-demo.sh BUILD_DIR [assemble options]" >&2; exit 1; }
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$1"
build=$(cd "$1" && pwd)
shift

# MICROBEAM_TOOLCHAIN_PATH (if set) goes first on PATH: the OTP/Elixir the demo is built
# with (the build sets it to its OTP 27 + Elixir 1.18 toolchain).
[ -z "${MICROBEAM_TOOLCHAIN_PATH:-}" ] || PATH="$MICROBEAM_TOOLCHAIN_PATH:$PATH"
export MIX_ENV=prod MIX_BUILD_ROOT="$build/mix" MIX_HOME="$build/mix-home" HEX_OFFLINE=1
rm -rf "$build/mix-release"
cd "$here/../demo"
mix release demo --path "$build/mix-release" --overwrite --quiet
exec escript "$here/assemble.escript" "$build/mix-release" "$build/staging" \
  "$build/release.spec" "$build/sizes.json" "$@"
