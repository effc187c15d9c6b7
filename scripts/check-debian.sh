#!/bin/sh
# The Debian packages, end to end, as root on Debian 12:
#   1. a clean copy of the tree (committed files only);
#   2. its build dependencies (apt-get build-dep on debian/control) and the
#      packaging tools;
#   3. dpkg-buildpackage -us -uc -b, then lintian on the .changes (errors
#      fail, the other tags are printed);
#   4. the built packages installed into this machine, then checked from
#      there: pkg-config --libs libcpns, a program compiled against the
#      installed library (tests/installcheck.c, shared and static), cpns-msg,
#      and the README demo (scripts/demo.sh) with /usr/bin/cpns-server and
#      /usr/bin/cpns-gateway;
#   5. the packages purged again, whatever happened before.
# Usage: scripts/check-debian.sh [WORKDIR]   (default: a new temporary dir)
# DEB_BUILD_OPTIONS is passed on (e.g. nocheck when make check runs
# elsewhere); JOBS sets the build's parallelism (default 2).
set -eu
src=$(cd "$(dirname "$0")/.." && pwd)
work=${1:-$(mktemp -d "${TMPDIR:-/tmp}/cpns-deb.XXXXXX")}
jobs=${JOBS:-2}
packages="libcpns0 libcpns-dev cpns-server cpns-gateway"
export DEBIAN_FRONTEND=noninteractive

step() { printf '\n=== debian: %s\n' "$*"; }
fail() { echo "check-debian: $*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || fail "run as root: it installs and removes packages"
for p in $packages; do
  if dpkg-query -W -f '${Status}' "$p" 2>/dev/null | grep -q ' installed$'; then
    fail "$p is installed already; this check would remove it afterwards"
  fi
done

step "1. clean copy of the tree in $work/libcpns"
# Only what this script makes goes: WORKDIR may hold other things.
rm -rf "$work/libcpns" "$work/use" "$work"/*.syms "$work/lintian.txt" "$work"/*.deb \
  "$work"/libcpns_*.changes "$work"/libcpns_*.buildinfo
mkdir -p "$work/libcpns"
if [ -d "$src/.git" ] && command -v git >/dev/null; then
  (cd "$src" && git ls-files -z | xargs -0 tar -cf -) | tar -xf - -C "$work/libcpns"
else
  (cd "$src" && tar --exclude=.git -cf - .) | tar -xf - -C "$work/libcpns"
fi
tree=$work/libcpns
# The package version is the release's: debian/changelog follows configure.ac.
upstream=$(sed -n 's/^AC_INIT(\[[^]]*\], \[\([^]]*\)\].*/\1/p' "$tree/configure.ac")
debver=$(sed -n '1s/^[^(]*(\([^)]*\)).*/\1/p' "$tree/debian/changelog")
debupstream=${debver#*:}
debupstream=${debupstream%-*}
[ "$debupstream" = "$upstream" ] ||
  fail "debian/changelog has $debver, configure.ac has $upstream: add a changelog entry (dch -v)"

step "2. build dependencies"
apt-get update
apt-get install -y --no-install-recommends dpkg-dev debhelper fakeroot lintian pkgconf gcc libc6-dev
(cd "$tree" && apt-get build-dep -y ./)

step "3. dpkg-buildpackage -us -uc -b (DEB_BUILD_OPTIONS=${DEB_BUILD_OPTIONS:-})"
DEB_BUILD_OPTIONS="${DEB_BUILD_OPTIONS:+$DEB_BUILD_OPTIONS }parallel=$jobs"
export DEB_BUILD_OPTIONS
(cd "$tree" && dpkg-buildpackage -us -uc -b)
changes=$(ls "$work"/libcpns_*.changes)
debs=
for p in $packages; do
  deb=$(ls "$work/${p}_${debver#*:}_"*.deb) || fail "no package $p built"
  debs="$debs $deb"
done

# dh_makeshlibs (dpkg-gensymbols -c4) fails on a symbol the file lacks, but
# lets a listed symbol vanish if the file dates it to this very version;
# so compare the names both ways here.
so=$(ls "$tree"/debian/libcpns0/usr/lib/*/libcpns.so.*.*.*)
nm -D --defined-only "$so" | awk '$2 ~ /^[A-Z]$/ { print $3 }' | LC_ALL=C sort >"$work/built.syms"
sed -n 's/^ \([^ @]*\)@[^ ]* .*/\1/p' "$tree/debian/libcpns0.symbols" | LC_ALL=C sort >"$work/listed.syms"
diff -u "$work/listed.syms" "$work/built.syms" ||
  fail "debian/libcpns0.symbols and the built library differ (scripts/gen-debian-symbols.sh)"
echo "symbols: $(wc -l <"$work/built.syms") exported, all in debian/libcpns0.symbols"

step "3b. lintian (errors fail)"
lintian_status=0
lintian --fail-on error --pedantic -I "$changes" >"$work/lintian.txt" 2>&1 || lintian_status=$?
cat "$work/lintian.txt"
printf 'lintian: %s errors, %s warnings, %s info, %s pedantic\n' \
  "$(grep -c '^E:' "$work/lintian.txt" || true)" "$(grep -c '^W:' "$work/lintian.txt" || true)" \
  "$(grep -c '^I:' "$work/lintian.txt" || true)" "$(grep -c '^P:' "$work/lintian.txt" || true)"
[ "$lintian_status" = 0 ] || fail "lintian reports errors (exit $lintian_status)"

step "4. install the packages into this machine"
# From here on the packages come off again, whatever happens.
trap 'step "5. purge the packages"; apt-get purge -y $packages' EXIT
trap 'exit 1' HUP INT TERM
# shellcheck disable=SC2086 # one word per package file
apt-get install -y $debs
for p in $packages; do dpkg -s "$p" | sed -n 's/^Version: /'"$p"' /p'; done

step "4a. pkg-config and a program against the installed library"
libs=$(pkg-config --libs libcpns | sed "s/ *$//")
printf 'pkg-config --libs libcpns: %s\n' "$libs"
[ "$libs" = "-lcpns" ] || fail "unexpected pkg-config --libs libcpns: $libs"
mkdir -p "$work/use"
# Built and run from another directory: headers and library come from /usr.
# pkg-config's output is split into words on purpose.
# shellcheck disable=SC2046
cc -Wall -Wextra -Werror $(pkg-config --cflags libcpns) -o "$work/use/shared" \
  "$tree/tests/installcheck.c" $(pkg-config --libs libcpns)
ldd "$work/use/shared" | grep -q 'libcpns\.so\.0 => /\(usr/\)\{0,1\}lib/' ||
  fail "the program does not use the installed libcpns.so.0"
"$work/use/shared"
# shellcheck disable=SC2046
cc -Wall -Wextra -Werror $(pkg-config --cflags libcpns) -o "$work/use/static" \
  "$tree/tests/installcheck.c" -Wl,-Bstatic -lcpns -Wl,-Bdynamic \
  $(pkg-config --static --libs libcpns | sed 's/-lcpns\b//')
"$work/use/static"

step "4b. the installed programs"
[ "$(command -v cpns-msg)" = /usr/bin/cpns-msg ] || fail "cpns-msg is not /usr/bin/cpns-msg"
cpns-msg --version
cpns-msg id entity urn:dev:mac:0011223344ff
# Listed, not looked up with man: minimal images drop /usr/share/man.
for m in cpns-server:cpns-server cpns-gateway:cpns-gateway cpns-gateway:cpns-msg; do
  dpkg -L "${m%%:*}" | grep -qx "/usr/share/man/man1/${m#*:}.1.gz" ||
    fail "${m%%:*} has no man page ${m#*:}(1)"
done

step "4c. README demo against /usr/bin/cpns-server and /usr/bin/cpns-gateway"
(cd "$work/use" && CPNS_SERVER=/usr/bin/cpns-server CPNS_GATEWAY=/usr/bin/cpns-gateway \
  sh "$tree/scripts/demo.sh")

step "4d. the service: unit, sysusers/tmpfiles snippets, conffile"
for f in /lib/systemd/system/cpns-server.service /usr/lib/sysusers.d/cpns-server.conf \
  /usr/lib/tmpfiles.d/cpns-server.conf /etc/cpns/cpns-server.conf; do
  [ -f "$f" ] || fail "cpns-server did not install $f"
done
dpkg-query -W -f '${Conffiles}\n' cpns-server | grep -q '^ /etc/cpns/cpns-server.conf ' ||
  fail "/etc/cpns/cpns-server.conf is not a conffile"
if command -v systemd-analyze >/dev/null; then
  systemd-analyze verify --man=no /lib/systemd/system/cpns-server.service
  systemd-analyze security --offline=yes /lib/systemd/system/cpns-server.service | tail -n 1
fi
if getent passwd cpns-server >/dev/null; then
  echo "system user: $(getent passwd cpns-server)"
else
  echo "system user cpns-server not made (no systemd-sysusers on this machine)"
fi

printf '\ndebian: packages built, lintian clean of errors, installed programs work\n'
