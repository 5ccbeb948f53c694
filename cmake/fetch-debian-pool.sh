#!/usr/bin/env bash
# Fetch the upstream tarball of a source package of another Debian release from the
# archive's pool, by path, into the cache, check it and unpack it.
#   fetch-debian-pool.sh NAME DESTDIR [SUBDIR ...]
# NAME, suite, version, pool directory and SHA-256s come from cmake/debian-pool-sources.txt
# (see there why only the upstream tarball, and how to move a pin). The host's apt sources
# are never touched. With SUBDIRs only those directories of the tarball are extracted.
set -euo pipefail
name=$1 dest=$2; shift 2
here=$(cd "$(dirname "$0")" && pwd)
cache=${MICROBEAM_CACHE:-/var/cache/microbeam}
pins=$here/debian-pool-sources.txt
pin=$(awk -v n="$name" '$1==n {print; exit}' "$pins")
[ -n "$pin" ] || { echo "fetch-debian-pool: $name is not pinned in cmake/debian-pool-sources.txt" >&2; exit 1; }
read -r _ suite version directory _dsc_sha orig_sha <<<"$pin"
mirror=${MICROBEAM_DEBIAN_MIRROR:-http://deb.debian.org/debian}
src=${directory##*/} upver=${version#*:}; upver=${upver%-*}
mkdir -p "$cache/src"
orig=""
for ext in xz gz bz2; do
  f="$cache/src/${src}_${upver}.orig.tar.$ext"
  if [ -f "$f" ] && echo "$orig_sha  $f" | sha256sum -c --status; then orig=$f; break; fi
done
if [ -z "$orig" ]; then
  command -v curl >/dev/null || { echo "fetch-debian-pool: curl not found (apt-get install curl)" >&2; exit 1; }
  echo "fetch-debian-pool: downloading $src $version ($suite) from $mirror/$directory"
  for ext in xz gz bz2; do
    f="$cache/src/${src}_${upver}.orig.tar.$ext"
    if curl -fsSL --retry 3 -o "$f.part" "$mirror/$directory/${src}_${upver}.orig.tar.$ext" 2>/dev/null; then
      mv "$f.part" "$f"; orig=$f; break
    fi
    rm -f "$f.part"
  done
  [ -n "$orig" ] || { echo "fetch-debian-pool: ${src}_${upver}.orig.tar.* is not in $mirror/$directory (point releases of $suite replace versions in the pool): move the pin $name in cmake/debian-pool-sources.txt to the version $suite's Sources index lists now (the file's header says how)" >&2; exit 1; }
fi
echo "$orig_sha  $orig" | sha256sum -c --status ||
  { echo "fetch-debian-pool: $orig does not match the SHA-256 $orig_sha pinned for $name in cmake/debian-pool-sources.txt (delete it to fetch it again, or move the pin)" >&2; exit 1; }
rm -rf "$dest.tmp" && mkdir -p "$dest.tmp"
# The tarball has one top directory whose name varies: strip it. set -f: patterns for tar.
set -f
tar -xf "$orig" -C "$dest.tmp" --strip-components=1 --wildcards --no-wildcards-match-slash \
  $([ $# -eq 0 ] || printf '*/%s ' "$@")
set +f
rm -rf "$dest" && mv "$dest.tmp" "$dest"
echo "fetch-debian-pool: $name $version ($suite, upstream tarball) -> $dest"
