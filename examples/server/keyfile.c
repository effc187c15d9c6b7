/*
 * cpns-server key file (see keyfile.h). Format: the 8 octets
 * "CPNSSK01", the 32-octet server secret, the 32-octet master key.
 */
#define _POSIX_C_SOURCE 200809L

#include "examples/server/keyfile.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

static int write_all(int fd, const uint8_t *buf, size_t len) {
  while (len > 0) {
    ssize_t w = write(fd, buf, len);
    if (w < 0) {
      if (errno == EINTR) {
        continue;
      }
      return -1;
    }
    buf += w;
    len -= (size_t)w;
  }
  return 0;
}

/* fsync of the directory holding path, so the new name survives a crash. */
static int fsync_parent_dir(const char *path) {
  char *copy = strdup(path);
  if (copy == NULL) {
    return -1;
  }
  int fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  free(copy);
  if (fd < 0) {
    return -1;
  }
  int rc = fsync(fd);
  close(fd);
  return rc;
}

int server_keyfile_create(const char *path) {
  size_t tmp_len = strlen(path) + sizeof(".tmp.XXXXXX");
  char *tmp = malloc(tmp_len);
  uint8_t *buf = sodium_malloc(SERVER_KEYFILE_LEN);
  int fd = -1, rc = -1;
  if (tmp == NULL || buf == NULL) {
    fprintf(stderr, "out of memory creating key file %s\n", path);
    goto out;
  }
  snprintf(tmp, tmp_len, "%s.tmp.XXXXXX", path);
  /* mkstemp creates the file with mode 0600 and O_EXCL. */
  fd = mkstemp(tmp);
  if (fd < 0) {
    fprintf(stderr, "cannot create temporary key file %s: %s\n", tmp, strerror(errno));
    goto out;
  }
  memcpy(buf, SERVER_KEYFILE_MAGIC, SERVER_KEYFILE_MAGIC_LEN);
  cpns_crypto_random(buf + SERVER_KEYFILE_MAGIC_LEN, CPNS_SERVER_SECRET_LEN + CPNS_MASTER_KEY_LEN);
  if (fchmod(fd, S_IRUSR | S_IWUSR) != 0 || write_all(fd, buf, SERVER_KEYFILE_LEN) != 0 ||
      fsync(fd) != 0) {
    fprintf(stderr, "cannot write key file %s: %s\n", tmp, strerror(errno));
    goto out;
  }
  if (close(fd) != 0) {
    fd = -1;
    fprintf(stderr, "cannot write key file %s: %s\n", tmp, strerror(errno));
    goto out;
  }
  fd = -1;
  /* link() fails with EEXIST instead of replacing keys that may be in use. */
  if (link(tmp, path) != 0) {
    int saved = errno;
    fprintf(stderr, "cannot create key file %s: %s\n", path, strerror(saved));
    errno = saved;
    goto out;
  }
  if (fsync_parent_dir(path) != 0) {
    fprintf(stderr, "cannot sync the directory of key file %s: %s\n", path, strerror(errno));
    goto out;
  }
  rc = 0;
out:
  if (fd >= 0) {
    close(fd);
  }
  if (tmp != NULL) {
    int saved = errno;
    unlink(tmp);
    errno = saved;
  }
  free(tmp);
  if (buf != NULL) {
    sodium_free(buf);
  }
  return rc;
}

int server_keyfile_load(const char *path, server_keys **keys) {
  *keys = NULL;
  int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ELOOP) {
      fprintf(stderr, "key file %s is a symbolic link; refusing it (name the file itself)\n", path);
    } else {
      fprintf(stderr, "cannot open key file %s: %s\n", path, strerror(errno));
    }
    return -1;
  }
  struct stat st;
  uint8_t *buf = NULL;
  server_keys *k = NULL;
  int rc = -1;
  if (fstat(fd, &st) != 0) {
    fprintf(stderr, "cannot stat key file %s: %s\n", path, strerror(errno));
    goto out;
  }
  if (!S_ISREG(st.st_mode)) {
    fprintf(stderr, "key file %s is not a regular file\n", path);
    goto out;
  }
  if ((st.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
    fprintf(stderr,
            "key file %s is accessible by group or others (mode %03o); "
            "run chmod 600 on it\n",
            path, (unsigned)(st.st_mode & 0777));
    goto out;
  }
  if (st.st_size != (off_t)SERVER_KEYFILE_LEN) {
    fprintf(stderr, "key file %s has the wrong size\n", path);
    goto out;
  }
  buf = sodium_malloc(SERVER_KEYFILE_LEN + 1);
  k = sodium_malloc(sizeof(*k));
  if (buf == NULL || k == NULL) {
    fprintf(stderr, "out of memory loading key file %s\n", path);
    goto out;
  }
  size_t n = 0;
  while (n < SERVER_KEYFILE_LEN + 1) {
    ssize_t r = read(fd, buf + n, SERVER_KEYFILE_LEN + 1 - n);
    if (r < 0 && errno == EINTR) {
      continue;
    }
    if (r < 0) {
      fprintf(stderr, "cannot read key file %s: %s\n", path, strerror(errno));
      goto out;
    }
    if (r == 0) {
      break;
    }
    n += (size_t)r;
  }
  if (n != SERVER_KEYFILE_LEN || memcmp(buf, SERVER_KEYFILE_MAGIC, SERVER_KEYFILE_MAGIC_LEN) != 0) {
    fprintf(stderr, "key file %s is not a cpns-server key file\n", path);
    goto out;
  }
  memcpy(k->server_secret, buf + SERVER_KEYFILE_MAGIC_LEN, CPNS_SERVER_SECRET_LEN);
  memcpy(k->master_key, buf + SERVER_KEYFILE_MAGIC_LEN + CPNS_SERVER_SECRET_LEN,
         CPNS_MASTER_KEY_LEN);
  (void)cpns_crypto_credential_seal_key(k->record_key, k->master_key);
  *keys = k;
  k = NULL;
  rc = 0;
out:
  close(fd);
  if (buf != NULL) {
    sodium_free(buf); /* sodium_free wipes before freeing */
  }
  server_keys_free(k);
  return rc;
}

void server_keys_free(server_keys *keys) {
  if (keys != NULL) {
    sodium_free(keys);
  }
}
