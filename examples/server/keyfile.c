/*
 * cpns-server key file (see keyfile.h). Format: the 8 octets "CPNSSK02",
 * the 32-octet server secret, the 32-octet master key, then the suite-2
 * keys: oprf_seed (64), AKE private key (32), public key (32), the fake
 * record's client_public_key (32) and masking_key (64). Version 1
 * ("CPNSSK01") ends after the master key and is upgraded when loaded.
 */
#define _POSIX_C_SOURCE 200809L

#include "examples/server/keyfile.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
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

/* The file's octets for keys (SERVER_KEYFILE_LEN, version 2). */
static void keys_serialize(uint8_t *buf, const server_keys *k) {
  uint8_t *p = buf;
#define PUT(field)                                                                                 \
  do {                                                                                             \
    memcpy(p, (field), sizeof(field));                                                             \
    p += sizeof(field);                                                                            \
  } while (0)
  memcpy(p, SERVER_KEYFILE_MAGIC, SERVER_KEYFILE_MAGIC_LEN);
  p += SERVER_KEYFILE_MAGIC_LEN;
  PUT(k->server_secret);
  PUT(k->master_key);
  PUT(k->s2.oprf_seed);
  PUT(k->s2.private_key);
  PUT(k->s2.public_key);
  PUT(k->s2.fake_client_public_key);
  PUT(k->s2.fake_masking_key);
#undef PUT
}

/* Fills k from n octets of a file: returns its version (1 or 2) or -1. A
 * version-1 file leaves k->s2 alone. */
static int keys_parse(server_keys *k, const uint8_t *buf, size_t n) {
  int version;
  if (n == SERVER_KEYFILE_LEN && memcmp(buf, SERVER_KEYFILE_MAGIC, SERVER_KEYFILE_MAGIC_LEN) == 0) {
    version = 2;
  } else if (n == SERVER_KEYFILE_V1_LEN &&
             memcmp(buf, SERVER_KEYFILE_MAGIC_V1, SERVER_KEYFILE_MAGIC_LEN) == 0) {
    version = 1;
  } else {
    return -1;
  }
  const uint8_t *p = buf + SERVER_KEYFILE_MAGIC_LEN;
#define GET(field)                                                                                 \
  do {                                                                                             \
    memcpy((field), p, sizeof(field));                                                             \
    p += sizeof(field);                                                                            \
  } while (0)
  GET(k->server_secret);
  GET(k->master_key);
  if (version == 2) {
    GET(k->s2.oprf_seed);
    GET(k->s2.private_key);
    GET(k->s2.public_key);
    GET(k->s2.fake_client_public_key);
    GET(k->s2.fake_masking_key);
  }
#undef GET
  return version;
}

/*
 * Writes buf to a new temporary file beside path (mode 0600, fsynced,
 * closed). Returns its name (malloc'd; the caller unlinks and frees it), or
 * NULL with a message on stderr.
 */
static char *write_temp(const char *path, const uint8_t *buf, size_t len) {
  size_t tmp_len = strlen(path) + sizeof(".tmp.XXXXXX");
  char *tmp = malloc(tmp_len);
  if (tmp == NULL) {
    fprintf(stderr, "out of memory writing key file %s\n", path);
    return NULL;
  }
  snprintf(tmp, tmp_len, "%s.tmp.XXXXXX", path);
  /* mkstemp creates the file with mode 0600 and O_EXCL. */
  int fd = mkstemp(tmp);
  if (fd < 0) {
    fprintf(stderr, "cannot create temporary key file %s: %s\n", tmp, strerror(errno));
    free(tmp);
    return NULL;
  }
  int ok = fchmod(fd, S_IRUSR | S_IWUSR) == 0 && write_all(fd, buf, len) == 0 && fsync(fd) == 0;
  int saved = errno;
  if (close(fd) != 0 && ok) {
    ok = 0;
    saved = errno;
  }
  if (!ok) {
    fprintf(stderr, "cannot write key file %s: %s\n", tmp, strerror(saved));
    unlink(tmp);
    free(tmp);
    return NULL;
  }
  return tmp;
}

int server_keyfile_create(const char *path) {
  uint8_t *buf = sodium_malloc(SERVER_KEYFILE_LEN);
  server_keys *k = sodium_malloc(sizeof(*k));
  char *tmp = NULL;
  int rc = -1;
  if (buf == NULL || k == NULL) {
    fprintf(stderr, "out of memory creating key file %s\n", path);
    goto out;
  }
  cpns_crypto_random(k->server_secret, sizeof(k->server_secret));
  cpns_crypto_random(k->master_key, sizeof(k->master_key));
  if (cpns_crypto_s2_server_keys_generate(&k->s2) != 0) {
    fprintf(stderr, "cannot generate the suite-2 server keys\n");
    goto out;
  }
  keys_serialize(buf, k);
  if ((tmp = write_temp(path, buf, SERVER_KEYFILE_LEN)) == NULL) {
    goto out;
  }
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
  if (tmp != NULL) {
    int saved = errno;
    unlink(tmp);
    errno = saved;
  }
  free(tmp);
  server_keys_free(k);
  if (buf != NULL) {
    sodium_free(buf);
  }
  return rc;
}

/*
 * Upgrades the version-1 file open as fd (whose keys are in k) to version 2
 * with fresh suite-2 keys in k. Returns 0 when done, 1 when path no longer
 * names fd's file (another process upgraded it first: load it again), -1
 * with a message.
 */
static int upgrade_v1(const char *path, int fd, server_keys *k) {
  /* The lock serializes upgraders; the inode check tells a later one that
   * the file it opened has been replaced meanwhile. */
  struct stat opened, named;
  if (flock(fd, LOCK_EX) != 0 || fstat(fd, &opened) != 0) {
    fprintf(stderr, "cannot lock key file %s for its upgrade: %s\n", path, strerror(errno));
    return -1;
  }
  if (lstat(path, &named) != 0 || named.st_ino != opened.st_ino || named.st_dev != opened.st_dev) {
    return 1;
  }
  uint8_t *buf = sodium_malloc(SERVER_KEYFILE_LEN);
  char *tmp = NULL;
  int rc = -1;
  if (buf == NULL) {
    fprintf(stderr, "out of memory upgrading key file %s\n", path);
    goto out;
  }
  if (cpns_crypto_s2_server_keys_generate(&k->s2) != 0) {
    fprintf(stderr, "cannot generate the suite-2 server keys\n");
    goto out;
  }
  keys_serialize(buf, k);
  if ((tmp = write_temp(path, buf, SERVER_KEYFILE_LEN)) == NULL) {
    goto out;
  }
  if (rename(tmp, path) != 0) {
    fprintf(stderr, "cannot replace key file %s for its upgrade: %s\n", path, strerror(errno));
    unlink(tmp);
    goto out;
  }
  if (fsync_parent_dir(path) != 0) {
    fprintf(stderr, "cannot sync the directory of key file %s: %s\n", path, strerror(errno));
    goto out;
  }
  fprintf(stderr, "upgraded key file %s to version 2 (suite-2 server keys added)\n", path);
  rc = 0;
out:
  free(tmp);
  if (buf != NULL) {
    sodium_free(buf);
  }
  return rc;
}

/* Opens and checks path, reads it into k. Returns 0, 1 if it was replaced
 * during an upgrade (try again), -1 with a message. */
static int load_once(const char *path, server_keys *k) {
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
  if (st.st_size != (off_t)SERVER_KEYFILE_LEN && st.st_size != (off_t)SERVER_KEYFILE_V1_LEN) {
    fprintf(stderr, "key file %s has the wrong size\n", path);
    goto out;
  }
  buf = sodium_malloc(SERVER_KEYFILE_LEN + 1);
  if (buf == NULL) {
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
  int version = keys_parse(k, buf, n);
  if (version < 0) {
    fprintf(stderr, "key file %s is not a cpns-server key file\n", path);
    goto out;
  }
  rc = version == 1 ? upgrade_v1(path, fd, k) : 0;
out:
  close(fd); /* releases the upgrade's lock */
  if (buf != NULL) {
    sodium_free(buf); /* sodium_free wipes before freeing */
  }
  return rc;
}

int server_keyfile_load(const char *path, server_keys **keys) {
  *keys = NULL;
  server_keys *k = sodium_malloc(sizeof(*k));
  if (k == NULL) {
    fprintf(stderr, "out of memory loading key file %s\n", path);
    return -1;
  }
  int rc = 1;
  /* Replaced under us at most once per concurrent upgrader; a few tries suffice. */
  for (int tries = 0; rc == 1 && tries < 8; tries++) {
    rc = load_once(path, k);
  }
  if (rc != 0) {
    if (rc == 1) {
      fprintf(stderr, "key file %s keeps changing; not loaded\n", path);
    }
    server_keys_free(k);
    return -1;
  }
  (void)cpns_crypto_credential_seal_key(k->record_key, k->master_key);
  *keys = k;
  return 0;
}

void server_keys_free(server_keys *keys) {
  if (keys != NULL) {
    sodium_free(keys);
  }
}
