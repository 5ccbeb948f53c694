#!/bin/sh
# The demo's ExUnit tests on OTP 27 + Elixir 1.18 (the toolchain the demo is built with,
# the same OTP as the guest's ERTS 27).
#   test.sh BUILD_DIR     (mix build output goes there, never into the source tree)
# MICROBEAM_TOOLCHAIN_PATH (set by the build's test) goes first on PATH.
set -eu
[ $# -eq 1 ] || { echo "usage: test.sh BUILD_DIR" >&2; exit 1; }
[ -z "${MICROBEAM_TOOLCHAIN_PATH:-}" ] || PATH="$MICROBEAM_TOOLCHAIN_PATH:$PATH"
mkdir -p "$1"
build=$(cd "$1" && pwd)
export MIX_ENV=test MIX_BUILD_ROOT="$build/mix" MIX_HOME="$build/mix-home" HEX_OFFLINE=1
cd "$(dirname "$0")"
exec mix test
