#!/bin/bash
# Runs the libFuzzer targets (fuzz/*_fuzzer.cc) one after the other, each for SECONDS,
# starting from its seed corpus in fuzz/corpus/TARGET (never written to).
#  - By default new inputs go to BUILD/fuzz/TARGET/corpus and are kept for the next run
#    (one such run at a time).
#  - With --fresh (the smoke test) each run starts from the seeds alone, in a directory
#    of its own that is removed when nothing failed.
# A crash or a failed check leaves its input in the target's directory and fails the run.
#   tests/sanitize/fuzz.sh [--seconds N] [--fresh] [TARGET...]
# Default: 10 s each, every target. Build dir: $SANITIZE_BUILD or build/sanitize.
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
build=${SANITIZE_BUILD:-$repo/build/sanitize}
seconds=10 fresh=0
while [[ $# -gt 0 && $1 == --* ]]; do
  case $1 in
    --seconds)
      [[ ${2:-} =~ ^[1-9][0-9]*$ ]] || { echo "fuzz: --seconds needs a positive number" >&2; exit 2; }
      seconds=$2
      shift 2 ;;
    --fresh) fresh=1; shift ;;
    *) echo "fuzz: unknown option $1 (usage: fuzz.sh [--seconds N] [--fresh] [TARGET...])" >&2; exit 2 ;;
  esac
done
targets=("$@")
if [[ ${#targets[@]} -eq 0 ]]; then
  for src in "$repo"/fuzz/*_fuzzer.cc; do
    name=${src##*/}
    targets+=("${name%_fuzzer.cc}")
  done
fi
for t in "${targets[@]}"; do
  [[ -f $repo/fuzz/${t}_fuzzer.cc && -d $repo/fuzz/corpus/$t ]] ||
    { echo "fuzz: no target $t (fuzz/${t}_fuzzer.cc and fuzz/corpus/$t/)" >&2; exit 2; }
done

"$repo/tests/sanitize/build.sh" "$build"
if [[ $fresh == 1 ]]; then
  base=$(mktemp -d "$build/fuzz-fresh.XXXXXX")
else
  base=$build/fuzz
  mkdir -p "$base"
  exec 8>"$base/.lock"
  flock -n 8 || { echo "fuzz: another run is using $base; wait for it or use --fresh" >&2; exit 1; }
fi
export UBSAN_OPTIONS=print_stacktrace=1
failed=()
for t in "${targets[@]}"; do
  work=$base/$t
  mkdir -p "$work/corpus"
  touch "$work/.start"
  echo "fuzz: $t for ${seconds}s"
  if nice -n 19 "$build/${t}_fuzzer" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
       -print_final_stats=1 -artifact_prefix="$work/" "$work/corpus" "$repo/fuzz/corpus/$t" \
       >"$work/log" 2>&1; then
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/log" | tail -1)
    cov=$(grep -ao "cov: [0-9]*" "$work/log" | tail -1 || true)
    echo "fuzz: $t: ${runs:-?} runs, $cov, corpus $(ls "$work/corpus" | wc -l) inputs"
  else
    tail -n 40 "$work/log"
    input=$(find "$work" -maxdepth 1 -newer "$work/.start" -regex '.*/\(crash\|leak\|timeout\|oom\)-.*' | head -1)
    echo "fuzz: $t FAILED (log: $work/log); reproduce: $build/${t}_fuzzer ${input:-<input>}" >&2
    failed+=("$t")
  fi
done
if [[ ${#failed[@]} -gt 0 ]]; then
  echo "fuzz: failed: ${failed[*]}" >&2
  exit 1
fi
if [[ $fresh == 1 ]]; then rm -rf "$base"; fi
