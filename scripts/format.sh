#!/bin/sh
# Usage: scripts/format.sh [--check]
# Formats every hand-written C file of the tree with clang-format and the
# committed .clang-format (make format); with --check, changes nothing and
# fails listing the files that differ (CI). Generated code keeps the form
# its generator gives it: asn1c's output (codec/gen/, tests/canary/gen/),
# Ragel's (codec/ragel/) and files made at build time are not listed.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
clang_format=${CLANG_FORMAT:-clang-format}
command -v "$clang_format" >/dev/null || {
  echo "format.sh: $clang_format not found (apt-get install clang-format)" >&2
  exit 1
}

if [ -d .git ] && command -v git >/dev/null; then
  files=$(git ls-files '*.c' '*.h')
else
  files=$(find . -name '*.[ch]' ! -path './.git/*' | sed 's|^\./||' | LC_ALL=C sort)
fi
files=$(printf '%s\n' "$files" | grep -vE '^(codec/gen/|codec/ragel/|tests/canary/gen/)' |
  grep -vxE 'include/cpns/version\.h|tests/readme_example\.c' || true)
[ -n "$files" ] || { echo "format.sh: no C files found under $top" >&2; exit 1; }

if [ "${1:-}" = --check ]; then
  bad=
  for f in $files; do
    "$clang_format" --dry-run -Werror "$f" >/dev/null 2>&1 || bad="$bad $f"
  done
  if [ -n "$bad" ]; then
    echo "format.sh: these files differ from .clang-format (run scripts/format.sh):" >&2
    for f in $bad; do
      echo "  $f" >&2
    done
    # Show the first difference, so the log alone tells what is wrong.
    set -- $bad
    "$clang_format" "$1" | diff -u "$1" - | head -n 40 >&2 || true
    exit 1
  fi
  echo "format.sh: $(printf '%s\n' "$files" | wc -l) files match .clang-format"
else
  printf '%s\n' "$files" | xargs "$clang_format" -i
fi
