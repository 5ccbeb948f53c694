#!/bin/sh
# Builds the example Mix release offline (no Hex, no deps) with Debian's Elixir 1.14.
#
#   examples/greeting_elixir/build.sh OUTDIR
#
# OUTDIR holds what `mix release` makes (bin/, erts-13.1.5/, lib/, releases/); the build
# tree goes to OUTDIR.build, never into the source tree.
set -eu
[ $# -eq 1 ] || { echo "usage: build.sh OUTDIR" >&2; exit 2; }
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$1"
out=$(cd "$1" && pwd)
export MIX_ENV=prod MIX_BUILD_ROOT="$out.build/mix" MIX_HOME="$out.build/mix-home" HEX_OFFLINE=1
cd "$here"
echo "[greeting_elixir] mix release greeting -> $out"
mix release greeting --path "$out" --overwrite --quiet
