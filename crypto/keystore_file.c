/*
 * Key store and device key files, written only at the caller's request:
 * atomic replace (temp file, fsync, rename, fsync of the directory),
 * mode 0600, and a permission check on every load.
 */
#define _XOPEN_SOURCE 700

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include <cpns/keystore.h>

#include "crypto/internal.h"

#define TMP_SUFFIX ".tmp.XXXXXX"

static int write_all(int fd, const uint8_t *p, size_t len) {
  while (len > 0) {
    ssize_t n = write(fd, p, len);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      return -1;
    }
    p += n;
    len -= (size_t)n;
  }
  return 0;
}

/* Makes the rename itself durable. */
static int fsync_parent(const char *path) {
  char dir[PATH_MAX];
  const char *slash = strrchr(path, '/');
  int fd, rv;

  if (slash == NULL) {
    strcpy(dir, ".");
  } else if (slash == path) {
    strcpy(dir, "/");
  } else {
    memcpy(dir, path, (size_t)(slash - path));
    dir[slash - path] = '\0';
  }
  fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    return -1;
  }
  rv = fsync(fd);
  close(fd);
  return rv;
}

/*
 * Writes data to path through a 0600 temporary file in the same directory.
 * replace = 0 refuses an existing path (link() fails atomically on it).
 */
static int write_file_atomic(const char *path, const uint8_t *data, size_t len, int replace) {
  char tmp[PATH_MAX];
  int fd, ok;
  size_t plen = strlen(path);

  if (plen == 0 || plen + sizeof(TMP_SUFFIX) > sizeof(tmp)) {
    return CPNS_ERR_INVALID_ARGUMENT;
  }
  memcpy(tmp, path, plen);
  memcpy(tmp + plen, TMP_SUFFIX, sizeof(TMP_SUFFIX));
  fd = mkstemp(tmp);
  if (fd < 0) {
    return CPNS_ERR_IO;
  }
  ok = fchmod(fd, S_IRUSR | S_IWUSR) == 0 && write_all(fd, data, len) == 0 && fsync(fd) == 0;
  if (close(fd) != 0) {
    ok = 0;
  }
  if (ok) {
    if (replace) {
      ok = rename(tmp, path) == 0;
    } else {
      ok = link(tmp, path) == 0;
      unlink(tmp);
    }
  }
  if (!ok) {
    unlink(tmp);
    return CPNS_ERR_IO;
  }
  return fsync_parent(path) == 0 ? CPNS_OK : CPNS_ERR_IO;
}

/*
 * Reads at most cap octets of a regular file that only its owner may read
 * or write; *len = cap means the file may be longer.
 */
static int read_private_file(const char *path, uint8_t *buf, size_t cap, size_t *len) {
  struct stat st;
  size_t got = 0;
  int fd, rv = CPNS_OK;

  /* A symbolic link could point anywhere: the secret file itself or nothing. */
  fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) {
    return CPNS_ERR_IO;
  }
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    rv = CPNS_ERR_IO;
  } else if ((st.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
    rv = CPNS_ERR_STORE_PERMISSIONS;
  }
  while (rv == CPNS_OK && got < cap) {
    ssize_t n = read(fd, buf + got, cap - got);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0) {
      rv = CPNS_ERR_IO;
    } else if (n == 0) {
      break;
    } else {
      got += (size_t)n;
    }
  }
  close(fd);
  *len = got;
  return rv;
}

int cpns_keystore_save(const char *path, const cpns_keystore_entry *entry,
                       const uint8_t device_key[CPNS_DEVICE_KEY_LEN]) {
  uint8_t image[CPNS_KEYSTORE_MAX];
  size_t len;
  int rv;

  if (path == NULL) {
    return CPNS_ERR_INVALID_ARGUMENT;
  }
  rv = cpns_keystore_seal(image, sizeof(image), &len, entry, device_key);
  if (rv != 0) {
    return rv == CPNS_ERR_BUFFER_TOO_SMALL ? CPNS_ERR_INTERNAL : rv;
  }
  return write_file_atomic(path, image, len, 1);
}

int cpns_keystore_load(cpns_keystore_entry *entry, const char *path,
                       const uint8_t device_key[CPNS_DEVICE_KEY_LEN]) {
  /* One spare octet tells an oversized file from a full-sized one. */
  uint8_t image[CPNS_KEYSTORE_MAX + 1];
  size_t len;
  int rv;

  if (entry == NULL) {
    return CPNS_ERR_INVALID_ARGUMENT;
  }
  sodium_memzero(entry, sizeof(*entry));
  if (path == NULL || device_key == NULL) {
    return CPNS_ERR_INVALID_ARGUMENT;
  }
  rv = read_private_file(path, image, sizeof(image), &len);
  if (rv != 0) {
    return rv;
  }
  return cpns_keystore_open(entry, image, len, device_key);
}

int cpns_device_key_generate(const char *path) {
  uint8_t key[CPNS_DEVICE_KEY_LEN];
  int rv;

  if (path == NULL) {
    return CPNS_ERR_INVALID_ARGUMENT;
  }
  randombytes_buf(key, sizeof(key));
  rv = write_file_atomic(path, key, sizeof(key), 0);
  sodium_memzero(key, sizeof(key));
  return rv;
}

int cpns_device_key_load(uint8_t key[CPNS_DEVICE_KEY_LEN], const char *path) {
  uint8_t buf[CPNS_DEVICE_KEY_LEN + 1];
  size_t len;
  int rv;

  if (key == NULL || path == NULL) {
    return CPNS_ERR_INVALID_ARGUMENT;
  }
  rv = read_private_file(path, buf, sizeof(buf), &len);
  if (rv == 0 && len != CPNS_DEVICE_KEY_LEN) {
    rv = CPNS_ERR_DEVICE_KEY;
  }
  if (rv == 0) {
    memcpy(key, buf, CPNS_DEVICE_KEY_LEN);
  }
  sodium_memzero(buf, sizeof(buf));
  return rv;
}
