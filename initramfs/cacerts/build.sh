#!/usr/bin/env bash
# The guest's trust store: /etc/ssl/certs/ca-certificates.crt, built from the pinned
# Debian `ca-certificates` source as the package builds it (mozilla/certdata2pem.py turns
# Mozilla's certdata.txt into one PEM file per CA trusted for server authentication,
# minus Debian's blacklist), then concatenated in file-name order as
# update-ca-certificates does with the default /etc/ca-certificates.conf.
#   initramfs/cacerts/build.sh OUTDIR
# Writes OUTDIR/ca-certificates.crt and OUTDIR/count.txt. Idempotent (OUTDIR/.done).
set -euo pipefail
[ $# -eq 1 ] || { echo "usage: $0 OUTDIR" >&2; exit 2; }
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
out=$(mkdir -p "$1" && cd "$1" && pwd)
if [ -f "$out/.done" ]; then echo "[cacerts] up to date: $out"; exit 0; fi
die() { echo "cacerts: $*" >&2; exit 1; }
python3 -c 'import cryptography' 2>/dev/null ||
  die "python3's cryptography module is missing (apt-get install python3-cryptography)"
work=$out.work
rm -rf "$work" && mkdir -p "$work"
echo "[cacerts 1/2] unpack ca-certificates source"
"$repo/cmake/fetch-debian-source.sh" ca-certificates "$work/src" >"$out/build.log" 2>&1 ||
  die "fetching ca-certificates failed (log: $out/build.log)"
echo "[cacerts 2/2] certdata.txt -> one PEM bundle"
(cd "$work/src/mozilla" && python3 -W ignore certdata2pem.py >>"$out/build.log" 2>&1) ||
  die "certdata2pem.py failed (log: $out/build.log)"
shopt -s nullglob
crts=("$work"/src/mozilla/*.crt "$work"/src/mozilla/extra/*.crt)
[ ${#crts[@]} -ge 50 ] || die "only ${#crts[@]} certificates came out of certdata.txt"
printf '%s\n' "${crts[@]}" | LC_ALL=C sort | while read -r f; do cat "$f"; done >"$out/ca-certificates.crt"
n=$(grep -c -- '-----BEGIN CERTIFICATE-----' "$out/ca-certificates.crt")
echo "$n" >"$out/count.txt"
rm -rf "$work"
date -u +%FT%TZ >"$out/.done"
echo "[cacerts] done: $out ($n certificates, $(stat -c %s "$out/ca-certificates.crt") bytes)"
