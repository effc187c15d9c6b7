/*
 * cpns-server configuration file (see config.h): bounded read, permission
 * check, then libinih over the buffer, one line at a time so that each
 * message names its line.
 */
#define _POSIX_C_SOURCE 200809L

#include "examples/server/conffile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ini.h>

/* "FILE:LINE" (a longer path is cut). */
#define WHERE_MAX 4200

typedef struct reader {
  const char *path;
  const char *data, *end;  /* the file; data advances line by line */
  unsigned line;           /* of the line last handed to inih */
  unsigned first_reported; /* first line whose key fn (or on_key) refused */
  int failed;
  server_config_key_fn fn;
  void *arg;
} reader;

/* ini_reader: the next line (with its newline), as fgets() would. Lines
 * were checked to fit in num before. */
static char *next_line(char *str, int num, void *stream) {
  reader *r = stream;
  if (r->data >= r->end || num < 2) {
    return NULL;
  }
  const char *nl = memchr(r->data, '\n', (size_t)(r->end - r->data));
  size_t len = nl != NULL ? (size_t)(nl - r->data) + 1 : (size_t)(r->end - r->data);
  if (len > (size_t)num - 1) {
    len = (size_t)num - 1;
  }
  memcpy(str, r->data, len);
  str[len] = '\0';
  r->data += len;
  r->line++;
  return str;
}

static int on_key(void *user, const char *section, const char *name, const char *value) {
  reader *r = user;
  char where[WHERE_MAX];
  snprintf(where, sizeof(where), "%s:%u", r->path, r->line);
  int rc = 0;
  if (section[0] == '\0') {
    fprintf(stderr, "%s: %s outside a section (put it under [serve])\n", where, name);
    rc = -1;
  } else if (strcmp(section, "serve") != 0) {
    fprintf(stderr, "%s: unknown section [%s] (only [serve])\n", where, section);
    rc = -1;
  } else {
    rc = r->fn(r->arg, where, name, value);
  }
  if (rc != 0) {
    if (!r->failed) {
      r->first_reported = r->line;
    }
    r->failed = 1;
    return 0;
  }
  return 1;
}

/* Reads the whole file into a NUL-terminated buffer (checked). */
static char *read_file(const char *path, size_t *len) {
  int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) {
    fprintf(stderr, "%s: cannot open: %s\n", path, strerror(errno));
    return NULL;
  }
  struct stat st;
  char *buf = NULL;
  if (fstat(fd, &st) != 0) {
    fprintf(stderr, "%s: cannot stat: %s\n", path, strerror(errno));
  } else if (!S_ISREG(st.st_mode)) {
    fprintf(stderr, "%s: not a regular file\n", path);
  } else if ((st.st_mode & S_IWOTH) != 0) {
    /* Anyone could point the server at another database or key file. */
    fprintf(stderr, "%s: refused: others may write it (chmod o-w %s)\n", path, path);
  } else if (st.st_size > SERVER_CONFIG_FILE_MAX) {
    fprintf(stderr, "%s: larger than %d octets\n", path, SERVER_CONFIG_FILE_MAX);
  } else if ((buf = malloc(SERVER_CONFIG_FILE_MAX + 1)) == NULL) {
    fprintf(stderr, "%s: out of memory\n", path);
  } else {
    size_t n = 0;
    ssize_t got;
    /* Read one octet past the limit: the file may have grown since fstat. */
    while (n <= SERVER_CONFIG_FILE_MAX &&
           ((got = read(fd, buf + n, SERVER_CONFIG_FILE_MAX + 1 - n)) > 0 ||
            (got < 0 && errno == EINTR))) {
      n += got > 0 ? (size_t)got : 0;
    }
    if (got < 0) {
      fprintf(stderr, "%s: cannot read: %s\n", path, strerror(errno));
    } else if (n > SERVER_CONFIG_FILE_MAX) {
      fprintf(stderr, "%s: larger than %d octets\n", path, SERVER_CONFIG_FILE_MAX);
    } else {
      buf[n] = '\0';
      *len = n;
      close(fd);
      return buf;
    }
    free(buf);
    buf = NULL;
  }
  close(fd);
  return NULL;
}

/* 1 if the line at p (starting with white space) holds more than that or
 * a comment. */
static int indented_text(const char *p, const char *end) {
  for (; p < end && *p != '\n'; p++) {
    if (*p != ' ' && *p != '\t' && *p != '\r') {
      return *p != '#' && *p != ';'; /* a comment may be indented */
    }
  }
  return 0;
}

/* Lines inih cannot take whole or would misread, and NUL octets. Returns 0
 * or -1. */
static int check_lines(const char *path, const char *buf, size_t len) {
  unsigned line = 1;
  size_t col = 0;
  int rc = 0;
  for (size_t i = 0; i < len; i++) {
    if (buf[i] == '\0') {
      fprintf(stderr, "%s:%u: NUL octet\n", path, line);
      return -1;
    }
    if (buf[i] == '\n') {
      line++;
      col = 0;
    } else if (col == 0 && (buf[i] == ' ' || buf[i] == '\t') && indented_text(buf + i, buf + len)) {
      /* inih would take it for the continuation of the previous value. */
      fprintf(stderr, "%s:%u: line starts with white space (a value does not go on)\n", path, line);
      rc = -1;
      col++;
    } else if (++col == SERVER_CONFIG_LINE_MAX + 1 &&
               !(buf[i] == '\r' && i + 1 < len && buf[i + 1] == '\n')) {
      fprintf(stderr, "%s:%u: line longer than %d characters\n", path, line,
              SERVER_CONFIG_LINE_MAX);
      rc = -1;
    }
  }
  return rc;
}

int server_config_read(const char *path, server_config_key_fn fn, void *arg) {
  size_t len = 0;
  char *buf = read_file(path, &len);
  if (buf == NULL) {
    return -1;
  }
  int rc = server_config_parse(path, buf, len, fn, arg);
  free(buf);
  return rc;
}

int server_config_parse(const char *path, const char *buf, size_t len, server_config_key_fn fn,
                        void *arg) {
  if (len > SERVER_CONFIG_FILE_MAX) {
    fprintf(stderr, "%s: larger than %d octets\n", path, SERVER_CONFIG_FILE_MAX);
    return -1;
  }
  if (check_lines(path, buf, len) != 0) {
    return -1;
  }
  reader r = {.path = path, .data = buf, .end = buf + len, .fn = fn, .arg = arg};
  int first = ini_parse_stream(next_line, &r, on_key, &r);
  if (first < 0) {
    fprintf(stderr, "%s: out of memory\n", path);
  } else if (first > 0 && (!r.failed || (unsigned)first != r.first_reported)) {
    /* inih's first error is not a key refused (printed already): syntax. */
    fprintf(stderr, "%s:%d: syntax error: expected [serve], key = value, or a comment (#, ;)\n",
            path, first);
  }
  return first != 0 || r.failed ? -1 : 0;
}
