#!/bin/sh
# Replays every fuzz target's seed corpus, fuzz/corpus/<t>/ for fuzz/fuzz_<t>
# (FUZZ_TARGETS from Makefile.am): linked with fuzz/replay_main.c, or with
# libFuzzer, which runs file arguments once each. Fails on a crash, a
# sanitizer report or a target without seeds.
set -eu
srcdir=${top_srcdir:-.}
status=0
count=0
for prog in ${FUZZ_TARGETS:-}; do
  t=${prog##*/fuzz_}
  corpus=$srcdir/fuzz/corpus/$t
  if ! [ -d "$corpus" ] || [ -z "$(find "$corpus" -type f | head -n 1)" ]; then
    echo "FAIL: $prog has no seeds in $corpus" >&2
    status=1
    continue
  fi
  n=$(find "$corpus" -type f | wc -l)
  if find "$corpus" -type f -exec "./$prog" {} + >"$prog.replay.out" 2>&1; then
    echo "ok: $prog replayed $n seeds"
  else
    echo "FAIL: $prog on $corpus:" >&2
    tail -n 40 "$prog.replay.out" >&2
    status=1
  fi
  rm -f "$prog.replay.out"
  count=$((count + 1))
done
[ "$count" -gt 0 ] || [ "$status" -ne 0 ] || { echo "no fuzz targets configured"; exit 77; }
exit $status
