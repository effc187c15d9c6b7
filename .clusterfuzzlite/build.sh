#!/bin/bash -eu
# ClusterFuzzLite / OSS-Fuzz build of libcpns's fuzz targets, run by the
# builder image (Dockerfile) with CC, CFLAGS, CXX, CXXFLAGS,
# LIB_FUZZING_ENGINE, SRC, OUT and WORK set; CI runs it locally the same way
# (scripts/check-cflite.sh). The library is built by its own build system
# with the builder's flags (its sanitizer and coverage instrumentation); each
# target fuzz/fuzz_<t>.c is compiled with $CC $CFLAGS and linked with
# $LIB_FUZZING_ENGINE. Into $OUT go the targets, their seed corpora
# fuzz_<t>_seed_corpus.zip (fuzz/corpus/<t>/), dictionaries and options.
src=$SRC/libcpns
build=$WORK/build

cd "$src"
autoreconf -fi
mkdir -p "$build"
cd "$build"
# Only the library: no programs (libevent, SQLite) and no unit tests, so
# Check is not needed (setting its variables skips the pkg-config probe).
"$src/configure" --disable-shared --disable-examples CHECK_CFLAGS=' ' CHECK_LIBS=' '
make -j"$(nproc)" libcpns_core.la

# libsodium linked statically: the runner image does not have it.
sodium_cflags=$(pkg-config --cflags libsodium)
sodium_lib=$(pkg-config --variable=libdir libsodium)/libsodium.a

for source in "$src"/fuzz/fuzz_*.c; do
  name=$(basename "$source" .c)
  t=${name#fuzz_}
  # shellcheck disable=SC2086 # flag lists split on purpose
  $CC $CFLAGS -I"$src/include" -I"$build/include" -I"$src" $sodium_cflags -pthread \
    -c "$source" -o "$WORK/$name.o"
  # shellcheck disable=SC2086
  $CXX $CXXFLAGS "$WORK/$name.o" -o "$OUT/$name" $LIB_FUZZING_ENGINE \
    "$build/.libs/libcpns_core.a" "$sodium_lib" -pthread
  rm -f "$OUT/${name}_seed_corpus.zip"
  (cd "$src/fuzz/corpus/$t" && zip -q -r "$OUT/${name}_seed_corpus.zip" .)
  cp "$src/fuzz/$name.dict" "$src/fuzz/$name.options" "$OUT/"
done
