#!/usr/bin/env bash
# The cpio writer against an oracle: GNU cpio must list and extract what we wrote
# exactly as specified (names, types, modes, owners, device numbers, symlink targets,
# contents), and two runs must give identical bytes.
set -uo pipefail
tool=${1:?usage: oracle_test.sh MICROBEAM_CPIO}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failed=0 passed=0
check() {
  local what=$1; shift
  if "$@"; then echo "ok   $what"; passed=$((passed + 1)); else echo "FAIL $what"; failed=$((failed + 1)); fi
}
mkdir -p "$tmp/src"
printf 'hello\n' >"$tmp/src/a.txt"
head -c 100003 /dev/urandom >"$tmp/src/blob"   # not a multiple of 4: exercises padding
: >"$tmp/src/empty"
cat >"$tmp/one.spec" <<SPEC
dir /release 0755 0 0
dir /release/lib 0750 1000 100
file /release/lib/a.txt $tmp/src/a.txt 0644 1000 100
file /release/blob $tmp/src/blob 0600 0 0
file /release/empty $tmp/src/empty 0444 0 0
slink /release/init-link /init 0777 0 0
dir /dev 0755 0 0
nod /dev/console 0600 0 0 c 5 1
nod /dev/vda 0660 0 6 b 254 0
pipe /dev/fifo 0644 0 0
SPEC
SOURCE_DATE_EPOCH=1700000000 "$tool" -o "$tmp/one.cpio" "$tmp/one.spec"
check "writer exits 0" test -s "$tmp/one.cpio"
"$tool" --mtime 1700000000 -o "$tmp/two.cpio" "$tmp/one.spec"
check "same inputs give identical bytes" cmp -s "$tmp/one.cpio" "$tmp/two.cpio"

listing=$(cpio -itv --quiet --numeric-uid-gid <"$tmp/one.cpio" 2>&1)
expect_line() { echo "$listing" | grep -qE "$1"; }
check "cpio lists exactly 10 entries" test "$(echo "$listing" | wc -l)" -eq 10
check "dir with owner 1000/100"   expect_line '^drwxr-x--- +2 1000 +100 .* release/lib$'
check "file mode and size"        expect_line '^-rw------- +1 0 +0 +100003 .* release/blob$'
check "empty file"                expect_line '^-r--r--r-- +1 0 +0 +0 .* release/empty$'
check "symlink target"            expect_line '^lrwxrwxrwx .* release/init-link -> /init$'
check "char device 5,1"           expect_line '^crw------- .* 5, +1 .* dev/console$'
check "block device 254,0"        expect_line '^brw-rw---- .* 254, +0 .* dev/vda$'
check "fifo"                      expect_line '^prw-r--r-- .* dev/fifo$'
check "mtime from SOURCE_DATE_EPOCH" expect_line 'Nov 14  2023 release/blob$'
check "entries sorted by name"    test "$(cpio -it --quiet <"$tmp/one.cpio")" = "$(cpio -it --quiet <"$tmp/one.cpio" | LC_ALL=C sort)"
mkdir "$tmp/x"
(cd "$tmp/x" && cpio -id --quiet --no-absolute-filenames <"$tmp/one.cpio" 2>/dev/null)
check "contents extract byte for byte" cmp -s "$tmp/src/blob" "$tmp/x/release/blob"
check "small file extracts" cmp -s "$tmp/src/a.txt" "$tmp/x/release/lib/a.txt"

printf 'file /x %s/src/missing 0644 0 0\n' "$tmp" >"$tmp/bad.spec"
err=$("$tool" -o "$tmp/bad.cpio" "$tmp/bad.spec" 2>&1); rc=$?
check "bad spec: exit 1 with one line naming spec:line and file" \
  test "$rc" -eq 1 -a "$(echo "$err" | wc -l)" -eq 1 -a -n "$(echo "$err" | grep "bad.spec:1: cannot read .*missing")"
check "bad spec: no archive left behind" test ! -e "$tmp/bad.cpio"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
