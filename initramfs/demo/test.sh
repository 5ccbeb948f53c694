#!/bin/sh
# The demo's ExUnit tests on the host's OTP 25.2.3 (the same OTP as the guest's ERTS).
#   test.sh BUILD_DIR     (mix build output goes there, never into the source tree)
set -eu
[ $# -eq 1 ] || { echo "usage: test.sh BUILD_DIR" >&2; exit 1; }
mkdir -p "$1"
build=$(cd "$1" && pwd)
export MIX_ENV=test MIX_BUILD_ROOT="$build/mix" MIX_HOME="$build/mix-home" HEX_OFFLINE=1
cd "$(dirname "$0")"
exec mix test
