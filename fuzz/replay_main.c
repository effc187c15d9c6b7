/*
 * Corpus replay driver. Without --enable-fuzzing every fuzz target links this
 * main instead of libFuzzer's, so `make check` runs each seed of
 * fuzz/corpus/<target>/ through LLVMFuzzerTestOneInput: a crash, an abort or
 * a sanitizer report fails the test. Arguments are files or directories
 * (their regular files, in name order), like libFuzzer's file arguments.
 */
#define _POSIX_C_SOURCE 200809L

#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Far above any seed; stops a stray huge file from being read whole. */
#define REPLAY_MAX_INPUT (16u * 1024u * 1024u)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
/* Optional in a target, as with libFuzzer. */
int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

static unsigned long replayed;

/* Runs one file. The input is copied into a buffer of exactly its size so
 * that ASan reports any read past the end. */
static int replay_file(const char *path) {
  FILE *f = fopen(path, "rb");
  if (f == NULL) {
    fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
    return -1;
  }
  struct stat st;
  if (fstat(fileno(f), &st) != 0 || st.st_size < 0 || (uintmax_t)st.st_size > REPLAY_MAX_INPUT) {
    fprintf(stderr, "replay: %s: unreadable or larger than %u bytes\n", path, REPLAY_MAX_INPUT);
    fclose(f);
    return -1;
  }
  size_t size = (size_t)st.st_size;
  /* malloc(0) may return NULL; keep a valid pointer for empty inputs. */
  uint8_t *data = malloc(size ? size : 1);
  if (data == NULL || fread(data, 1, size, f) != size) {
    fprintf(stderr, "replay: %s: read failed\n", path);
    free(data);
    fclose(f);
    return -1;
  }
  fclose(f);
  LLVMFuzzerTestOneInput(data, size);
  free(data);
  replayed++;
  return 0;
}

static int is_regular_entry(const struct dirent *entry) { return entry->d_name[0] != '.'; }

static int replay_dir(const char *dir) {
  struct dirent **entries;
  int n = scandir(dir, &entries, is_regular_entry, alphasort);
  if (n < 0) {
    fprintf(stderr, "replay: %s: %s\n", dir, strerror(errno));
    return -1;
  }
  int rv = 0;
  for (int i = 0; i < n; i++) {
    size_t len = strlen(dir) + 1 + strlen(entries[i]->d_name) + 1;
    char *path = malloc(len);
    struct stat st;
    if (path == NULL) {
      rv = -1;
    } else {
      snprintf(path, len, "%s/%s", dir, entries[i]->d_name);
      if (stat(path, &st) == 0 && S_ISREG(st.st_mode) && replay_file(path) != 0)
        rv = -1;
    }
    free(path);
    free(entries[i]);
  }
  free(entries);
  return rv;
}

int main(int argc, char **argv) {
  if (LLVMFuzzerInitialize != NULL)
    LLVMFuzzerInitialize(&argc, &argv);
  if (argc < 2) {
    fprintf(stderr,
            "usage: %s FILE|DIR...\n(corpus replay build; configure "
            "with --enable-fuzzing for libFuzzer)\n",
            argv[0]);
    return 2;
  }
  int rv = 0;
  for (int i = 1; i < argc; i++) {
    struct stat st;
    if (argv[i][0] == '-') {
      fprintf(stderr,
              "replay: option %s needs a libFuzzer build "
              "(configure --enable-fuzzing)\n",
              argv[i]);
      return 2;
    }
    if (stat(argv[i], &st) != 0) {
      fprintf(stderr, "replay: %s: %s\n", argv[i], strerror(errno));
      rv = 1;
    } else if (S_ISDIR(st.st_mode) ? replay_dir(argv[i]) != 0 : replay_file(argv[i]) != 0) {
      rv = 1;
    }
  }
  printf("replay: %lu inputs ran without a crash\n", replayed);
  return rv;
}
