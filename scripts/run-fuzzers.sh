#!/bin/sh
# Usage: scripts/run-fuzzers.sh SECONDS [BUILDDIR]
# Runs every libFuzzer target built in BUILDDIR/fuzz (`make fuzz` in a
# --enable-fuzzing build; default BUILDDIR: the current directory) for
# SECONDS each, one after another, on a temporary copy of its seed corpus
# fuzz/corpus/<t>/ for fuzz/fuzz_<t>, so the committed seeds stay as they are,
# with its dictionary fuzz/fuzz_<t>.dict and the max_len of fuzz/fuzz_<t>.options.
# Prints each target's executions; fails on a crash, leak, timeout or OOM and
# keeps the reproducer in BUILDDIR/fuzz-artifacts/<t>/.
# With FUZZ_CORPUS_OUT=DIR the grown corpora stay in DIR/<t>/ (for
# `make fuzz-merge FUZZ_MERGE_FROM=DIR`); with FUZZ_RUNS=N a target also
# stops after N executions (whichever comes first).
set -eu
seconds=${1:?usage: run-fuzzers.sh SECONDS [BUILDDIR]}
builddir=${2:-.}
srcdir=$(cd "$(dirname "$0")/.." && pwd)

targets=$(find "$builddir/fuzz" -maxdepth 1 -type f -name 'fuzz_*' ! -name '*.*' \
  -perm -u+x 2>/dev/null | LC_ALL=C sort)
[ -n "$targets" ] || { echo "run-fuzzers: no fuzz targets in $builddir/fuzz (make fuzz?)" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
status=0
for prog in $targets; do
  t=${prog##*/fuzz_}
  corpus=$work/corpus-$t
  [ -z "${FUZZ_CORPUS_OUT:-}" ] || corpus=$FUZZ_CORPUS_OUT/$t
  mkdir -p "$corpus"
  set --
  dict=$srcdir/fuzz/fuzz_$t.dict
  [ ! -f "$dict" ] || set -- "$@" -dict="$dict"
  max_len=$(sed -n 's/^max_len *= *//p' "$srcdir/fuzz/fuzz_$t.options" 2>/dev/null || true)
  [ -z "$max_len" ] || set -- "$@" -max_len="$max_len"
  [ -z "${FUZZ_RUNS:-}" ] || set -- "$@" -runs="$FUZZ_RUNS"
  [ -d "$srcdir/fuzz/corpus/$t" ] && cp -R "$srcdir/fuzz/corpus/$t/." "$corpus/"
  artifacts=$builddir/fuzz-artifacts/$t
  mkdir -p "$artifacts"
  log=$work/$t.log
  if "$prog" "$@" -max_total_time="$seconds" -print_final_stats=1 \
      -artifact_prefix="$artifacts/" "$corpus" >"$log" 2>&1; then
    result=ok
    rmdir "$artifacts" 2>/dev/null || true
  else
    result=FAILED
    status=1
  fi
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -n 1 || true)
  time=$(sed -n 's/^Done [0-9]* runs in \([0-9]*\) second.*/\1/p' "$log" | tail -n 1)
  printf '%-24s %s: %s execs in %ss, %s, corpus %s files\n' "fuzz_$t" "$result" \
    "${execs:-?}" "${time:-$seconds}" "${cov:-cov: ?}" "$(ls "$corpus" | wc -l)"
  if [ "$result" = FAILED ]; then
    tail -n 60 "$log" >&2
    echo "reproducer(s) in $artifacts/" >&2
  fi
done
exit $status
