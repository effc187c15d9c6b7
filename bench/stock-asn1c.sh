#!/bin/sh
# Builds OUT.o: the asn1/ modules through stock asn1c 0.9.28 with its stock,
# unpatched runtime (-fskeletons-copy, no codec/patches), plus
# bench/stock_asn1c.c, linked into one relocatable object in which every
# symbol but cpnsbench_stock_decode is made local, so that the stock runtime
# does not clash with libcpns's patched copy of the same names.
# Usage: stock-asn1c.sh SRCDIR OUT.o   (env: ASN1C CC CFLAGS LD OBJCOPY)
set -eu
srcdir=$1
out=$2
asn1c=${ASN1C:-asn1c}
"$asn1c" -v 2>&1 | grep -q 'v0\.9\.28' || {
  echo "stock-asn1c: bench_codec needs asn1c 0.9.28 (Debian package asn1c)" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir "$work/asn1"
cp "$srcdir"/asn1/*.asn1 "$work/asn1/"
( cd "$work" && LC_ALL=C "$asn1c" -fcompound-names -fincludes-quoted -fskeletons-copy \
    $(ls asn1/*.asn1 | LC_ALL=C sort) >asn1c.log 2>&1 ) ||
  { cat "$work/asn1c.log" >&2; exit 1; }
rm -f "$work/converter-sample.c"
cp "$srcdir/bench/stock_asn1c.c" "$srcdir/bench/stock_asn1c.h" "$work/"
# The flags libcpns builds its own asn1c output with (GEN_CFLAGS), so the
# two decoders differ only in the runtime patches.
for f in "$work"/*.c; do
  ${CC:-cc} ${CFLAGS:-} -std=gnu99 -D_DEFAULT_SOURCE -w -I"$work" \
    -c "$f" -o "${f%.c}.o"
done
${LD:-ld} -r "$work"/*.o -o "$work/all.o"
${OBJCOPY:-objcopy} --keep-global-symbol=cpnsbench_stock_decode "$work/all.o"
mv -f "$work/all.o" "$out"
