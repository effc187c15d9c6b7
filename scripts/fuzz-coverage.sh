#!/bin/sh
# Usage: scripts/fuzz-coverage.sh [BUILDDIR [FROMDIR...]]   (`make fuzz-coverage`)
# Line coverage of the fuzz corpora over the library: runs every fuzz target
# BUILDDIR/fuzz/fuzz_<t> once over each input of fuzz/corpus/<t>/ (and of
# FROMDIR/<t>/ when given, e.g. corpora kept by FUZZ_CORPUS_OUT), merges the
# profiles with llvm-profdata and prints llvm-cov's line figures summed per
# directory: codec/ (our codec and identifiers), codec/ragel/ (Ragel output),
# codec/gen/ (asn1c output), crypto/, exchange/.
#
# BUILDDIR must be configured with CC=clang --enable-coverage (with or without
# --enable-fuzzing). Without BUILDDIR the script configures and builds one in
# a temporary directory. LLVM_PROFDATA and LLVM_COV name the tools (default
# llvm-profdata, llvm-cov; they must match clang's version). With
# FUZZ_COVERAGE_HTML=DIR, llvm-cov also writes its HTML report there.
set -eu
srcdir=$(cd "$(dirname "$0")/.." && pwd)
profdata=${LLVM_PROFDATA:-llvm-profdata}
cov=${LLVM_COV:-llvm-cov}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

if [ $# -eq 0 ]; then
  builddir=$work/build
  mkdir -p "$builddir"
  echo "fuzz-coverage: building with CC=clang --enable-coverage in $builddir"
  (cd "$builddir" && CC=clang "$srcdir/configure" --enable-coverage --disable-examples \
    --disable-shared >"$work/configure.log" 2>&1 && make -j"${JOBS:-2}" fuzz \
    >"$work/make.log" 2>&1) || {
    tail -n 40 "$work/configure.log" "$work/make.log" 2>/dev/null >&2
    exit 1
  }
else
  builddir=$1
  shift
fi
fromdirs=$* # directory names without blanks
if ! grep -q -- '-fcoverage-mapping' "$builddir/Makefile" 2>/dev/null; then
  echo "fuzz-coverage: $builddir is not configured with CC=clang --enable-coverage" >&2
  exit 1
fi

targets=$(find "$builddir/fuzz" -maxdepth 1 -type f -name 'fuzz_*' ! -name '*.*' \
  -perm -u+x 2>/dev/null | LC_ALL=C sort)
[ -n "$targets" ] || { echo "fuzz-coverage: no fuzz targets in $builddir/fuzz (make fuzz?)" >&2; exit 1; }

set --
for prog in $targets; do
  t=${prog##*/fuzz_}
  inputs=$srcdir/fuzz/corpus/$t
  for from in $fromdirs; do
    [ ! -d "$from/$t" ] || inputs="$inputs $from/$t"
  done
  # A libFuzzer build runs its inputs once with -runs=0; the replay build
  # (fuzz/replay_main.c) takes only files and directories.
  runs=
  if LLVM_PROFILE_FILE=$work/probe.ignored "$prog" -help=1 >/dev/null 2>&1; then
    runs=-runs=0
  fi
  # shellcheck disable=SC2086 # word splitting of the input list is intended
  if ! LLVM_PROFILE_FILE="$work/$t-%p.profraw" "$prog" $runs $inputs >"$work/$t.log" 2>&1; then
    echo "fuzz-coverage: fuzz_$t failed on its corpus:" >&2
    tail -n 30 "$work/$t.log" >&2
    exit 1
  fi
  n=0
  for d in $inputs; do
    n=$((n + $(find "$d" -type f | wc -l)))
  done
  printf '%-24s %s inputs\n' "fuzz_$t" "$n"
  if [ $# -eq 0 ]; then set -- "$prog"; else set -- "$@" -object "$prog"; fi
done
"$profdata" merge -sparse "$work"/*.profraw -o "$work/fuzz.profdata"

# One row per source file: path, lines, missed lines (llvm-cov's 8th and
# 9th columns, the same from LLVM 10 on; later columns are branches).
"$cov" report -instr-profile="$work/fuzz.profdata" "$@" >"$work/report.txt"
if [ -n "${FUZZ_COVERAGE_HTML:-}" ]; then
  "$cov" show -format=html -output-dir="$FUZZ_COVERAGE_HTML" \
    -instr-profile="$work/fuzz.profdata" "$@" "$srcdir/codec" "$srcdir/crypto" \
    "$srcdir/exchange"
  echo "fuzz-coverage: HTML report in $FUZZ_COVERAGE_HTML/index.html"
fi

awk -v src="$srcdir/" '
  function dir_of(f) {
    if (index(f, src) == 1) f = substr(f, length(src) + 1)
    sub(/^(\.\.\/)+/, "", f)
    if (f ~ /^codec\/gen\//) return "codec/gen/"
    if (f ~ /^codec\/ragel\//) return "codec/ragel/"
    if (f ~ /^codec\//) return "codec/"
    if (f ~ /^crypto\//) return "crypto/"
    if (f ~ /^exchange\//) return "exchange/"
    return ""
  }
  $8 ~ /^[0-9]+$/ && $9 ~ /^[0-9]+$/ {
    d = dir_of($1)
    if (d == "") next
    lines[d] += $8; missed[d] += $9
    if (d != "codec/gen/") { tl += $8; tm += $9 }
  }
  function row(name, l, m) {
    printf "%-34s %7d %7d %6.1f%%\n", name, l, l - m, l ? 100 * (l - m) / l : 0
  }
  END {
    printf "%-34s %7s %7s %7s\n", "line coverage of the fuzz corpora", "lines", "covered", ""
    n = split("codec/ codec/ragel/ crypto/ exchange/ codec/gen/", order, " ")
    for (i = 1; i <= n; i++)
      if (order[i] in lines) row(order[i], lines[order[i]], missed[order[i]])
    row("all but codec/gen/ (asn1c output)", tl, tm)
    if (tl == 0) exit 1
  }' "$work/report.txt" || {
  echo "fuzz-coverage: no library source in the llvm-cov report:" >&2
  head -n 20 "$work/report.txt" >&2
  exit 1
}
