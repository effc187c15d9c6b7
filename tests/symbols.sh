#!/bin/sh
# Symbol isolation: every global symbol defined by the built libcpns.so and
# libcpns.a must be cpns_* (libcpns.map for the first, the localized partial
# link of Makefile.am for the second), so no internal or asn1c name can clash
# with the program or another library. And the exact list must be the one
# committed in libcpns.exports (one name a line, sorted): an export that
# appears or vanishes is an ABI change, made on purpose by editing that file
# (doc/abi.md says how the version changes with it).
# Run by `make check` in the build dir. With LIBDIR (`make installcheck`),
# checks the installed copies there.
set -eu
exports=$(dirname "$0")/../libcpns.exports
[ -f "$exports" ] || { echo "symbols.sh: $exports missing" >&2; exit 99; }
nm_cmd=${NM:-nm}
libdir=${1:-}
if [ -n "$libdir" ]; then
  objdir=$libdir
  dlname=; [ ! -e "$libdir/libcpns.so" ] || dlname=libcpns.so
  old_library=; [ ! -e "$libdir/libcpns.a" ] || old_library=libcpns.a
else
  objdir=.libs
  la=./libcpns.la
  [ -f "$la" ] || { echo "symbols.sh: $la not built" >&2; exit 99; }
  dlname=$(sed -n "s/^dlname='\(.*\)'$/\1/p" "$la")
  old_library=$(sed -n "s/^old_library='\(.*\)'$/\1/p" "$la")
fi

status=0
checked=0
# $1: file, $2: nm options listing its exported, defined, global symbols
check() {
  syms=$($nm_cmd $2 "$1" | awk 'NF >= 3 && $(NF-1) ~ /^[A-Z]$/ { print $NF }')
  bad=$(printf '%s\n' "$syms" | grep -v -e '^cpns_' -e '^$' || true)
  if [ -n "$bad" ]; then
    echo "FAIL: $1 exports symbols outside cpns_*:" >&2
    printf '  %s\n' $bad >&2
    status=1
  fi
  if ! printf '%s\n' "$syms" | grep -qx 'cpns_init'; then
    echo "FAIL: $1 does not export cpns_init" >&2
    status=1
  fi
  changed=$(printf '%s\n' "$syms" | grep -v '^$' | LC_ALL=C sort -u |
            diff -u "$exports" - | sed -n '3,$p' | grep '^[-+]' || true)
  if [ -n "$changed" ]; then
    echo "FAIL: $1 differs from libcpns.exports (-: listed, not exported; +: exported, not listed):" >&2
    printf '  %s\n' $changed >&2
    status=1
  fi
  echo "$1: $(printf '%s\n' "$syms" | grep -c '^cpns_') global symbols named cpns_*"
  checked=$((checked + 1))
}

[ -z "$dlname" ] || check "$objdir/$dlname" "-D --defined-only"
[ -z "$old_library" ] || check "$objdir/$old_library" "-g --defined-only"
[ "$checked" -gt 0 ] || { echo "symbols.sh: neither library was built" >&2; exit 77; }

# The Debian symbols file must name exactly the exports, or the package
# build (dh_makeshlibs -c4) fails late in CI: regenerate it with
# scripts/gen-debian-symbols.sh.
debsyms=$(dirname "$0")/../debian/libcpns0.symbols
if [ -f "$debsyms" ]; then
  debdiff=$(sed -n 's/^ \(cpns_[A-Za-z0-9_]*\)@Base .*/\1/p' "$debsyms" | LC_ALL=C sort -u |
            diff -u "$exports" - | sed -n '3,$p' | grep '^[-+]' || true)
  if [ -n "$debdiff" ]; then
    echo "FAIL: debian/libcpns0.symbols differs from libcpns.exports (run scripts/gen-debian-symbols.sh):" >&2
    printf '  %s\n' $debdiff >&2
    status=1
  fi
fi
exit $status
