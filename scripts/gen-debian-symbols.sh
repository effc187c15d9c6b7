#!/bin/sh
# Rewrites debian/libcpns0.symbols from the export list: one exported symbol
# name per line (default libcpns.exports at the top of the tree).
#   scripts/gen-debian-symbols.sh [EXPORTS]
# A symbol already in debian/libcpns0.symbols keeps the version recorded
# there; a new one gets the upstream version of the top debian/changelog
# entry, the first release that has it. The soname comes from configure.ac's
# libtool version (current - age). dh_makeshlibs (-c4) then fails the package
# build if the library and this file disagree.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
exports=${1:-$top/libcpns.exports}
symbols=$top/debian/libcpns0.symbols
[ -r "$exports" ] || { echo "gen-debian-symbols: cannot read $exports" >&2; exit 1; }

version=$(sed -n '1s/^[^(]*(\([^)]*\)).*/\1/p' "$top/debian/changelog")
# Upstream part: no epoch, no Debian revision.
version=${version#*:}
version=${version%-*}
[ -n "$version" ] || { echo "gen-debian-symbols: no version in debian/changelog" >&2; exit 1; }

lt_value() {
  sed -n "s/^AC_SUBST(\[LT_$1\], \[\([0-9]*\)\])/\1/p" "$top/configure.ac"
}
current=$(lt_value CURRENT)
age=$(lt_value AGE)
if [ -z "$current" ] || [ -z "$age" ]; then
  echo "gen-debian-symbols: no LT_CURRENT/LT_AGE in configure.ac" >&2
  exit 1
fi
major=$((current - age))

previous=/dev/null
[ ! -f "$symbols" ] || previous=$symbols
tmp=$symbols.tmp
trap 'rm -f "$tmp"' EXIT
{
  printf 'libcpns.so.%s libcpns%s #MINVER#\n' "$major" "$major"
  printf '* Build-Depends-Package: libcpns-dev\n'
  # Blank lines and # comments in the export list are skipped.
  sed -e 's/#.*//' -e 's/[[:space:]]//g' -e '/^$/d' "$exports" | LC_ALL=C sort -u |
  awk -v version="$version" -v previous="$previous" '
    BEGIN {
      while ((getline line < previous) > 0)
        if (line ~ /^ [^ ]+@Base /) {
          split(line, f, " ")
          sub(/@Base$/, "", f[1])
          known[f[1]] = f[2]
        }
    }
    { printf " %s@Base %s\n", $0, ($0 in known) ? known[$0] : version }'
} >"$tmp"
mv -f "$tmp" "$symbols"
echo "gen-debian-symbols: $symbols: $(grep -c '@Base ' "$symbols") symbols"
