#!/bin/sh
# Usage: scripts/fuzz-merge.sh [BUILDDIR [FROMDIR...]]   (`make fuzz-merge`)
# Minimizes each committed seed corpus fuzz/corpus/<t>/ with the libFuzzer
# target BUILDDIR/fuzz/fuzz_<t> (a --enable-fuzzing build; default BUILDDIR:
# the current directory), taking in FROMDIR/<t>/ too when given (corpora
# grown by `FUZZ_CORPUS_OUT=DIR scripts/run-fuzzers.sh`, or downloaded from
# ClusterFuzzLite).
#
# Named seeds (written by `make pdu-corpus`, `make session-corpus` or by
# hand; any name that is not a hex content hash) are kept as they are: they
# document a case and their generators rewrite them. The rest, files named by
# a hash, are replaced by `-merge=1` into a fresh directory that starts with
# the named seeds: only inputs that add coverage features are kept, smallest
# first, each named by the SHA-1 of its content. An empty seed is kept too:
# libFuzzer runs the empty input by itself, so a merge never keeps one, but
# the replay of `make check` needs it. The script then counts the features
# of the new corpus against those of the old one plus FROMDIR's: libFuzzer's
# count of one corpus varies by a feature or two from run to run (the codec
# keeps state across inputs), so up to 0.5% less passes; more leaves the
# corpus as it was and fails.
set -eu
builddir=${1:-.}
[ $# -eq 0 ] || shift
fromdirs=$* # directory names without blanks
srcdir=$(cd "$(dirname "$0")/.." && pwd)

targets=$(find "$builddir/fuzz" -maxdepth 1 -type f -name 'fuzz_*' ! -name '*.*' \
  -perm -u+x 2>/dev/null | LC_ALL=C sort)
[ -n "$targets" ] || { echo "fuzz-merge: no fuzz targets in $builddir/fuzz (make fuzz?)" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

is_hash_name() {
  printf '%s\n' "$1" | grep -Eqx '[0-9a-f]{16,40}'
}

# features DIR...: the coverage features libFuzzer counts after loading DIRs.
features() {
  "$prog" -runs=0 "$@" 2>&1 | sed -n 's/.*INITED.* ft: \([0-9]*\).*/\1/p' | tail -n 1
}

summary() {
  printf '%s files, %s octets' "$(find "$1" -type f | wc -l)" \
    "$(find "$1" -type f -exec cat {} + | wc -c)"
}

status=0
for prog in $targets; do
  t=${prog##*/fuzz_}
  corpus=$srcdir/fuzz/corpus/$t
  if ! "$prog" -help=1 >/dev/null 2>&1; then
    echo "fuzz-merge: $prog is not a libFuzzer build (configure CC=clang --enable-fuzzing)" >&2
    exit 1
  fi
  [ -d "$corpus" ] || { echo "fuzz-merge: no $corpus" >&2; status=1; continue; }
  old=$work/old-$t
  new=$work/new-$t
  mkdir -p "$old" "$new"
  for f in "$corpus"/*; do
    [ -f "$f" ] || continue
    if is_hash_name "${f##*/}" && [ -s "$f" ]; then
      cp "$f" "$old/"
    else
      cp "$f" "$new/"
    fi
  done
  set --
  for from in $fromdirs; do
    [ ! -d "$from/$t" ] || set -- "$@" "$from/$t"
  done
  before_summary=$(summary "$corpus")
  before_ft=$(features "$corpus" "$@")
  if ! "$prog" -merge=1 "$new" "$old" "$@" >"$work/$t.log" 2>&1; then
    echo "fuzz-merge: $prog -merge=1 failed:" >&2
    tail -n 30 "$work/$t.log" >&2
    status=1
    continue
  fi
  after_ft=$(features "$new")
  if [ -z "$after_ft" ] || [ -z "$before_ft" ] ||
     [ "$after_ft" -lt $((before_ft - before_ft / 200)) ]; then
    echo "fuzz-merge: fuzz_$t: merged corpus has ${after_ft:-?} features, before ${before_ft:-?}; corpus left as it was" >&2
    status=1
    continue
  fi
  for f in "$corpus"/*; do
    if [ -f "$f" ] && is_hash_name "${f##*/}"; then
      rm -f "$f"
    fi
  done
  for f in "$new"/*; do
    if [ -f "$f" ] && is_hash_name "${f##*/}"; then
      cp "$f" "$corpus/"
    fi
  done
  printf '%-24s %s, %s features%s -> %s, %s features\n' "fuzz_$t" "$before_summary" \
    "$before_ft" "${1:+ with FROMDIR}" "$(summary "$corpus")" "$after_ft"
done
exit $status
