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

# The targets of the example programs' own parsers also need those
# programs' sources, and Debian libraries linked statically (the runner image
# has none): name them here, per target.
extra_sources() {
  case $1 in
  fuzz_timearg) echo examples/server/timearg.c ;;
  fuzz_server_config) echo examples/server/conffile.c ;;
  fuzz_json_text) echo examples/common/json.c examples/common/cli.c ;;
  esac
}
extra_libs() {
  case $1 in
  fuzz_server_config) echo "$(pkg-config --variable=libdir inih)/libinih.a" ;;
  fuzz_json_text) echo "$(pkg-config --variable=libdir jansson)/libjansson.a" ;;
  esac
}

for source in "$src"/fuzz/fuzz_*.c; do
  name=$(basename "$source" .c)
  t=${name#fuzz_}
  objs="$WORK/$name.o"
  # shellcheck disable=SC2086 # flag lists split on purpose
  $CC $CFLAGS -I"$src/include" -I"$build/include" -I"$src" $sodium_cflags -pthread \
    -c "$source" -o "$WORK/$name.o"
  for extra in $(extra_sources "$name"); do
    obj="$WORK/${name}_$(basename "$extra" .c).o"
    # shellcheck disable=SC2086
    $CC $CFLAGS -I"$src/include" -I"$build/include" -I"$src" $sodium_cflags -pthread \
      -c "$src/$extra" -o "$obj"
    objs="$objs $obj"
  done
  # shellcheck disable=SC2086
  $CXX $CXXFLAGS $objs -o "$OUT/$name" $LIB_FUZZING_ENGINE \
    "$build/.libs/libcpns_core.a" $(extra_libs "$name") "$sodium_lib" -pthread
  rm -f "$OUT/${name}_seed_corpus.zip"
  (cd "$src/fuzz/corpus/$t" && zip -q -r "$OUT/${name}_seed_corpus.zip" .)
  cp "$src/fuzz/$name.dict" "$src/fuzz/$name.options" "$OUT/"
done
