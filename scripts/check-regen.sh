#!/bin/sh
# Usage: scripts/check-regen.sh [BUILDDIR]
# Drift check: runs every regen script into a temporary directory and diffs
# the result against the committed generated files; fails on any difference,
# and on a *-regen.sh that is not listed below (so none is silently skipped).
# With BUILDDIR (a configured build), also regenerates the suite 1 test
# vectors with its tests/gen_vectors and compares tests/vectors/suite1.json.
set -eu
srcdir=$(cd "$(dirname "$0")/.." && pwd)
builddir=${1:-}

# script (from srcdir)         committed output directory, owned by it alone
regens='
codec/asn1c-regen.sh           codec/gen
codec/ragel-regen.sh           codec/ragel
tests/canary/asn1c-regen.sh    tests/canary/gen
'

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
status=0

for script in $(cd "$srcdir" && find . -name '*-regen.sh' -not -path './.git/*' \
                -not -path ./scripts/check-regen.sh \
                | sed 's|^\./||' | LC_ALL=C sort); do
  if ! printf '%s\n' "$regens" | awk '{ print $1 }' | grep -qx "$script"; then
    echo "check-regen: $script is not listed in scripts/check-regen.sh" >&2
    status=1
  fi
done

n=0
printf '%s\n' "$regens" | while read -r script dir; do
  [ -n "$script" ] || continue
  n=$((n + 1))
  out=$work/out$n
  if ! sh "$srcdir/$script" "$out" >"$work/log" 2>&1; then
    echo "FAIL: $script:" >&2
    cat "$work/log" >&2
    : > "$work/failed"
    continue
  fi
  if diff -ru -x ".*" "$srcdir/$dir" "$out" >"$work/diff"; then
    echo "ok: $dir matches $script ($(ls "$out" | wc -l) files)"
  else
    echo "FAIL: $dir differs from a fresh run of $script (run \`make regen\`):" >&2
    sed "s|$out|(regenerated)|g" "$work/diff" | head -n 80 >&2
    : > "$work/failed"
  fi
done
[ ! -e "$work/failed" ] || status=1

if [ -n "$builddir" ]; then
  make -C "$builddir" tests/gen_vectors >/dev/null
  if "$builddir/tests/gen_vectors" >"$work/suite1.json" &&
     cmp -s "$work/suite1.json" "$srcdir/tests/vectors/suite1.json"; then
    echo "ok: tests/vectors/suite1.json matches tests/gen_vectors"
  else
    echo "FAIL: tests/vectors/suite1.json differs from tests/gen_vectors (run \`make vectors\`)" >&2
    diff -u "$srcdir/tests/vectors/suite1.json" "$work/suite1.json" | head -n 40 >&2 || true
    status=1
  fi
fi
exit $status
