#!/bin/sh
# Usage: [SANITIZER=undefined] scripts/check-cflite.sh [SECONDS]
# Checks the ClusterFuzzLite build without Docker: runs
# .clusterfuzzlite/build.sh the way the builder image does, on a copy of the
# tree in $SRC/libcpns, with the variables of an ASan libFuzzer build set
# (CC=clang, CFLAGS with -fsanitize=address,fuzzer-no-link,
# LIB_FUZZING_ENGINE=-fsanitize=fuzzer, SRC, OUT and WORK in a temporary
# directory). Then every target in $OUT must have its seed corpus zip,
# dictionary and options, and each runs SECONDS (default 5) from its unzipped
# seeds with its dictionary and max_len, as ClusterFuzzLite would. Fails on
# a build error, a missing file, a crash, leak, timeout or OOM (reproducers
# kept in ./fuzz-artifacts/cflite/).
set -eu
seconds=${1:-5}
srcdir=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

SRC=$work/src OUT=$work/out WORK=$work/work
CC=${CC:-clang}
CXX=${CXX:-clang++}
# The builder's flags for SANITIZER (address, the default, or undefined).
case ${SANITIZER:=address} in
address) sanitizer_flags=-fsanitize=address,fuzzer-no-link ;;
undefined)
  ubsan=array-bounds,bool,builtin,enum,float-divide-by-zero,function,integer-divide-by-zero,null
  ubsan=$ubsan,object-size,return,returns-nonnull-attribute,shift,signed-integer-overflow
  ubsan=$ubsan,unreachable,vla-bound,vptr
  sanitizer_flags="-fsanitize=$ubsan,unsigned-integer-overflow -fno-sanitize-recover=$ubsan"
  sanitizer_flags="$sanitizer_flags -fsanitize=fuzzer-no-link"
  ;;
*) echo "check-cflite: SANITIZER=$SANITIZER: address or undefined" >&2; exit 2 ;;
esac
CFLAGS="-O1 -fno-omit-frame-pointer -gline-tables-only $sanitizer_flags"
CXXFLAGS=$CFLAGS
LIB_FUZZING_ENGINE=-fsanitize=fuzzer
export SRC OUT WORK CC CXX CFLAGS CXXFLAGS LIB_FUZZING_ENGINE SANITIZER
# As ClusterFuzz runs them: unsigned wrap-around (well defined, and relied
# on by asn1c's runtime) reported by the build flags but silenced.
: "${ASAN_OPTIONS:=detect_leaks=1}"
: "${UBSAN_OPTIONS:=halt_on_error=1:print_stacktrace=1:silence_unsigned_overflow=1}"
export ASAN_OPTIONS UBSAN_OPTIONS
mkdir -p "$SRC/libcpns" "$OUT" "$WORK"

# The Dockerfile's COPY: the committed files (with their working-tree
# content) when this is a git checkout, else the tree without build output.
if git -C "$srcdir" rev-parse --git-dir >/dev/null 2>&1; then
  (cd "$srcdir" && git ls-files -z | xargs -0 tar -cf -) | tar -xf - -C "$SRC/libcpns"
else
  (cd "$srcdir" && tar --exclude=.git -cf - .) | tar -xf - -C "$SRC/libcpns"
fi
cp "$SRC/libcpns/.clusterfuzzlite/build.sh" "$SRC/build.sh"

echo "check-cflite: build.sh ($SANITIZER) with CC=$CC CFLAGS=\"$CFLAGS\" LIB_FUZZING_ENGINE=$LIB_FUZZING_ENGINE"
if ! (cd "$SRC/libcpns" && bash -eu "$SRC/build.sh") >"$work/build.log" 2>&1; then
  tail -n 60 "$work/build.log" >&2
  echo "check-cflite: build.sh failed" >&2
  exit 1
fi

status=0
count=0
for source in "$SRC/libcpns"/fuzz/fuzz_*.c; do
  name=$(basename "$source" .c)
  for f in "$name" "${name}_seed_corpus.zip" "$name.dict" "$name.options"; do
    if ! [ -s "$OUT/$f" ]; then
      echo "check-cflite: no $f in \$OUT (every target has seeds, fuzz/$name.dict and fuzz/$name.options)" >&2
      status=1
    fi
  done
done
[ "$status" -eq 0 ] || exit 1

for prog in "$OUT"/fuzz_*; do
  name=${prog##*/}
  case $name in *.*) continue ;; esac
  corpus=$work/corpus/$name
  mkdir -p "$corpus"
  unzip -q "$OUT/${name}_seed_corpus.zip" -d "$corpus"
  max_len=$(sed -n 's/^max_len *= *//p' "$OUT/$name.options")
  log=$work/$name.log
  if "$prog" -dict="$OUT/$name.dict" ${max_len:+-max_len="$max_len"} \
      -max_total_time="$seconds" -print_final_stats=1 -artifact_prefix="$work/$name-" \
      "$corpus" >"$log" 2>&1; then
    result=ok
  else
    result=FAILED
    status=1
  fi
  count=$((count + 1))
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -n 1 || true)
  seeds=$(unzip -Z1 "$OUT/${name}_seed_corpus.zip" | grep -vc '/$' || true)
  printf '%-24s %s: %s seeds, %s execs in %ss, %s\n' "$name" "$result" "$seeds" \
    "${execs:-?}" "$seconds" "${cov:-cov: ?}"
  if [ "$result" = FAILED ]; then
    tail -n 40 "$log" >&2
    mkdir -p fuzz-artifacts/cflite
    cp "$work/$name"-* fuzz-artifacts/cflite/ 2>/dev/null || true
    echo "check-cflite: reproducer(s) in fuzz-artifacts/cflite/" >&2
  fi
done
[ "$count" -gt 0 ] || { echo "check-cflite: build.sh put no fuzz targets in \$OUT" >&2; exit 1; }
exit $status
