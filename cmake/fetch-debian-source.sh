#!/usr/bin/env bash
# Fetch one pinned Debian source package into the cache and unpack it.
#   fetch-debian-source.sh NAME DESTDIR [SUBDIR ...]
# Version and .dsc checksum come from cmake/debian-sources.txt. Without SUBDIRs the
# package is unpacked with dpkg-source (Debian patches applied); with SUBDIRs only those
# directories of the upstream tarball are extracted (for huge trees such as LLVM), after
# the tarball's SHA-256 is checked against the .dsc.
set -euo pipefail
name=$1 dest=$2; shift 2
here=$(cd "$(dirname "$0")" && pwd)
cache=${MICROBEAM_CACHE:-/var/cache/microbeam}
read -r _ version dsc_sha < <(awk -v n="$name" '$1==n {print; exit}' "$here/debian-sources.txt") ||
  { echo "fetch-debian-source: $name is not pinned in cmake/debian-sources.txt" >&2; exit 1; }
upver=${version#*:}          # strip the epoch: file names carry none
dsc="$cache/src/${name}_${upver}.dsc"
mkdir -p "$cache/src"
if [ ! -f "$dsc" ] || ! echo "$dsc_sha  $dsc" | sha256sum -c --status; then
  echo "fetch-debian-source: downloading $name $version"
  grep -q 'deb-src' /etc/apt/sources.list.d/*.sources /etc/apt/sources.list 2>/dev/null ||
    { echo "fetch-debian-source: no deb-src entry in apt sources (run cmd/microbeam setup)" >&2; exit 1; }
  (cd "$cache/src" && apt-get source --download-only -q "$name=$version" >/dev/null)
fi
echo "$dsc_sha  $dsc" | sha256sum -c --status ||
  { echo "fetch-debian-source: $dsc does not match the pinned SHA-256 $dsc_sha" >&2; exit 1; }
# Every file the .dsc lists must match its SHA-256 there.
awk '/^Checksums-Sha256:/{on=1; next} /^[^ ]/{on=0} on && NF==3 {print $1"  "$3}' "$dsc" |
  (cd "$cache/src" && sha256sum -c --quiet) ||
  { echo "fetch-debian-source: a file of $name does not match $dsc" >&2; exit 1; }
rm -rf "$dest.tmp" && mkdir -p "$(dirname "$dest")"
if [ $# -eq 0 ]; then
  dpkg-source --no-check -x "$dsc" "$dest.tmp" >/dev/null   # checksums verified above
else
  orig=$(ls "$cache/src/${name}_${upver%%-*}".orig.tar.* | head -1)
  mkdir -p "$dest.tmp"
  # The tarball has one top directory whose name varies: match any, without crossing '/'.
  # set -f: the patterns are for tar, not for the shell to expand against the cwd.
  set -f
  tar -xf "$orig" -C "$dest.tmp" --strip-components=1 --wildcards --no-wildcards-match-slash \
    $(printf '*/%s ' "$@")
  set +f
fi
rm -rf "$dest" && mv "$dest.tmp" "$dest"
echo "fetch-debian-source: $name $version -> $dest"
