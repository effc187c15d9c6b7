#!/bin/sh
# Usage: bench/codec-ratios.sh [BUILDDIR]   (after `make bench` there)
# Instruction counts, not seconds, of the strict decode against a plain
# asn1c decode (patched runtime: ber_decode + free) and the stock asn1c
# 0.9.28 decode, per PDU shape of bench_codec, from valgrind's callgrind:
# repeatable on a busy machine, unlike bench_codec's own timings. Prints one
# row per shape with instructions per decode and strict/plain.
set -eu
builddir=${1:-.}
bench=$builddir/bench/bench_codec
iterations=2000
[ -x "$bench" ] || { echo "codec-ratios: $bench not built (make bench)" >&2; exit 1; }
command -v valgrind >/dev/null || { echo "codec-ratios: valgrind not found" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
names="keyRequest(first) keyRequest(second) keyChallenge keyDelivery(refused) keyDelivery(success) AuthTranscript keyRequest(v2-ke1) keyChallenge(v2-ke2)"
printf '%-22s %10s %10s %10s %13s\n' shape strict plain stock strict/plain
shape=0
for name in $names; do
  valgrind --tool=callgrind --callgrind-out-file="$work/cg.out" \
    "$bench" "$iterations" 1 "$shape" >/dev/null 2>&1
  # Inclusive costs of the calls main makes, split by what they measure.
  callgrind_annotate --auto=no --inclusive=yes --tree=calling "$work/cg.out" 2>/dev/null |
    awk -v n="$iterations" -v name="$name" '
      /bench_codec\.c:main \[/ { inmain = 1; next }
      inmain && /^ *$/ { inmain = 0 }
      inmain {
        c = $1; gsub(",", "", c); c += 0
        if ($0 ~ /cpns_pdu_decode|cpns_auth_transcript_decode/) strict += c
        else if ($0 ~ /ber_decoder\.c:ber_decode|_free \(/) plain += c
        else if ($0 ~ /cpnsbench_stock_decode/) stock += c
      }
      END {
        if (strict == 0 || plain == 0) { print "codec-ratios: no counts for " name > "/dev/stderr"; exit 1 }
        printf "%-22s %10.0f %10.0f %10.0f %13.3f\n", name, strict / n, plain / n, stock / n, strict / plain
      }'
  shape=$((shape + 1))
done
