/*
 * Helpers shared by the example programs: passwords from a file or a
 * no-echo prompt, hex, HOST:PORT splitting, option numbers, identifier
 * errors, the monotonic clock.
 */
#define _POSIX_C_SOURCE 200809L

#include "examples/common/cli.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include <cpns/common.h>

/* Room for the longest password plus "\r\n" and one octet to detect overflow. */
#define PW_BUF_LEN (CLI_PASSWORD_MAX + 3)

/* Reads until EOF or the buffer is full; returns octets read or -1. */
static ssize_t read_all(int fd, uint8_t *buf, size_t cap) {
  size_t n = 0;
  while (n < cap) {
    ssize_t r = read(fd, buf + n, cap - n);
    if (r < 0) {
      if (errno == EINTR) {
        continue;
      }
      return -1;
    }
    if (r == 0) {
      break;
    }
    n += (size_t)r;
  }
  return (ssize_t)n;
}

/* Strips one trailing "\n" or "\r\n". */
static size_t strip_newline(const uint8_t *buf, size_t len) {
  if (len > 0 && buf[len - 1] == '\n') {
    len--;
    if (len > 0 && buf[len - 1] == '\r') {
      len--;
    }
  }
  return len;
}

/*
 * Opens a secret file for reading, or says why not: a symbolic link could
 * point anywhere an attacker chose, and a file others can read is no secret.
 */
static int open_private_file(const char *path) {
  struct stat st;
  int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ELOOP) {
      fprintf(stderr,
              "password file %s is a symbolic link; refusing it (name the file "
              "itself)\n",
              path);
    } else {
      fprintf(stderr, "cannot open password file %s: %s\n", path, strerror(errno));
    }
    return -1;
  }
  if (fstat(fd, &st) != 0) {
    fprintf(stderr, "cannot stat password file %s: %s\n", path, strerror(errno));
    close(fd);
    return -1;
  }
  if ((st.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
    fprintf(stderr,
            "password file %s is accessible by group or others (mode %03o); "
            "run chmod 600 on it\n",
            path, (unsigned)(st.st_mode & 0777));
    close(fd);
    return -1;
  }
  return fd;
}

int cli_password_from_file(const char *path, uint8_t **pw, size_t *pw_len) {
  if (path == NULL || pw == NULL || pw_len == NULL) {
    return -1;
  }
  *pw = NULL;
  *pw_len = 0;
  int from_stdin = strcmp(path, "-") == 0;
  int fd = from_stdin ? STDIN_FILENO : open_private_file(path);
  if (fd < 0) {
    return -1;
  }
  uint8_t *buf = sodium_malloc(PW_BUF_LEN);
  if (buf == NULL) {
    fprintf(stderr, "out of memory reading password file %s\n", path);
    if (!from_stdin) {
      close(fd);
    }
    return -1;
  }
  ssize_t n = read_all(fd, buf, PW_BUF_LEN);
  int saved = errno;
  if (!from_stdin) {
    close(fd);
  }
  if (n < 0) {
    fprintf(stderr, "cannot read password file %s: %s\n", path, strerror(saved));
    sodium_free(buf);
    return -1;
  }
  size_t len = strip_newline(buf, (size_t)n);
  if ((size_t)n == PW_BUF_LEN || len > CLI_PASSWORD_MAX) {
    fprintf(stderr, "password file %s: password longer than %d octets\n", path, CLI_PASSWORD_MAX);
    sodium_free(buf);
    return -1;
  }
  if (len == 0) {
    fprintf(stderr, "password file %s: password is empty\n", path);
    sodium_free(buf);
    return -1;
  }
  *pw = buf;
  *pw_len = len;
  return 0;
}

/*
 * The terminal settings to put back if a signal ends the program while echo
 * is off (^C at the prompt): otherwise the user's shell is left without echo.
 */
static const int echo_signals[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};
static struct termios echo_saved;
static volatile sig_atomic_t echo_fd = -1;

static void restore_echo_and_reraise(int sig) {
  int saved_errno = errno;
  if (echo_fd >= 0) {
    tcsetattr(echo_fd, TCSANOW, &echo_saved); /* async-signal-safe */
  }
  signal(sig, SIG_DFL);
  raise(sig); /* delivered with its default action once this handler returns */
  errno = saved_errno;
}

/* Between these two calls a terminating signal restores the terminal first. */
static void echo_guard_begin(int fd, const struct termios *old, struct sigaction *prev) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = restore_echo_and_reraise;
  sigfillset(&sa.sa_mask); /* one handler at a time: the first signal wins */
  echo_saved = *old;
  echo_fd = fd;
  for (size_t i = 0; i < sizeof echo_signals / sizeof echo_signals[0]; i++) {
    /* A signal the caller ignores (nohup: SIGHUP) stays ignored. */
    if (sigaction(echo_signals[i], NULL, &prev[i]) == 0 && prev[i].sa_handler != SIG_IGN) {
      sigaction(echo_signals[i], &sa, NULL);
    }
  }
}

static void echo_guard_end(const struct sigaction *prev) {
  for (size_t i = 0; i < sizeof echo_signals / sizeof echo_signals[0]; i++) {
    sigaction(echo_signals[i], &prev[i], NULL);
  }
  echo_fd = -1;
}

/* Reads one line from the tty with echo off; returns its length or -1. */
static int read_line_noecho(int fd, const char *prompt, uint8_t *buf, size_t cap, size_t *len) {
  struct termios old, quiet;
  struct sigaction prev[sizeof echo_signals / sizeof echo_signals[0]];
  int have_termios = tcgetattr(fd, &old) == 0;
  if (have_termios) {
    quiet = old;
    quiet.c_lflag &= (tcflag_t) ~(ECHO | ECHONL);
    quiet.c_lflag |= ICANON;
    /* Guard first: a signal between the two calls still finds old to restore. */
    echo_guard_begin(fd, &old, prev);
    if (tcsetattr(fd, TCSAFLUSH, &quiet) != 0) {
      echo_guard_end(prev);
      return -1;
    }
  }
  if (write(fd, prompt, strlen(prompt)) < 0) {
    /* The prompt is cosmetic; reading still works. */
  }
  size_t n = 0;
  int rc = 0;
  int overflow = 0;
  for (;;) {
    uint8_t c;
    ssize_t r = read(fd, &c, 1);
    if (r < 0 && errno == EINTR) {
      continue;
    }
    if (r <= 0 || c == '\n') {
      if (r < 0) {
        rc = -1;
      }
      break;
    }
    if (n < cap) {
      buf[n++] = c;
    } else {
      overflow = 1;
    }
  }
  if (have_termios) {
    tcsetattr(fd, TCSAFLUSH, &old);
    echo_guard_end(prev);
  }
  if (write(fd, "\n", 1) < 0) {
    /* Cosmetic only. */
  }
  if (n > 0 && buf[n - 1] == '\r') {
    n--;
  }
  if (overflow) {
    fprintf(stderr, "password longer than %d octets\n", CLI_PASSWORD_MAX);
    rc = -1;
  }
  *len = n;
  return rc;
}

int cli_password_prompt(const char *prompt, int confirm, uint8_t **pw, size_t *pw_len) {
  if (prompt == NULL || pw == NULL || pw_len == NULL) {
    return -1;
  }
  *pw = NULL;
  *pw_len = 0;
  int fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (fd < 0) {
    fprintf(stderr,
            "cannot open /dev/tty to prompt for a password: %s "
            "(use --password-file)\n",
            strerror(errno));
    return -1;
  }
  uint8_t *first = sodium_malloc(CLI_PASSWORD_MAX);
  uint8_t *second = confirm ? sodium_malloc(CLI_PASSWORD_MAX) : NULL;
  int rc = -1;
  size_t len1 = 0, len2 = 0;
  if (first == NULL || (confirm && second == NULL)) {
    fprintf(stderr, "out of memory reading a password\n");
    goto out;
  }
  if (read_line_noecho(fd, prompt, first, CLI_PASSWORD_MAX, &len1) != 0) {
    goto out;
  }
  if (len1 == 0) {
    fprintf(stderr, "password is empty\n");
    goto out;
  }
  if (confirm) {
    if (read_line_noecho(fd, "Retype password: ", second, CLI_PASSWORD_MAX, &len2) != 0) {
      goto out;
    }
    if (len1 != len2 || sodium_memcmp(first, second, len1) != 0) {
      fprintf(stderr, "passwords do not match\n");
      goto out;
    }
  }
  *pw = first;
  *pw_len = len1;
  first = NULL;
  rc = 0;
out:
  if (first != NULL) {
    sodium_free(first);
  }
  if (second != NULL) {
    sodium_free(second);
  }
  close(fd);
  return rc;
}

void cli_hex(char *out, const uint8_t *in, size_t len) {
  static const char digits[] = "0123456789abcdef";
  for (size_t i = 0; i < len; i++) {
    out[2 * i] = digits[in[i] >> 4];
    out[2 * i + 1] = digits[in[i] & 0x0f];
  }
  out[2 * len] = '\0';
}

/* Copies n octets plus NUL if it fits. */
static int copy_part(char *dst, size_t cap, const char *src, size_t n) {
  if (n + 1 > cap) {
    return -1;
  }
  memcpy(dst, src, n);
  dst[n] = '\0';
  return 0;
}

int cli_split_host_port(const char *arg, char *host, size_t hostlen, char *port, size_t portlen) {
  if (arg == NULL || host == NULL || port == NULL) {
    return -1;
  }
  const char *host_start;
  size_t host_n;
  const char *rest;
  if (arg[0] == '[') {
    const char *close_br = strchr(arg, ']');
    if (close_br == NULL || close_br[1] != ':') {
      return -1;
    }
    host_start = arg + 1;
    host_n = (size_t)(close_br - host_start);
    rest = close_br + 2;
  } else {
    const char *colon = strchr(arg, ':');
    /* A bare IPv6 address is ambiguous: it must be bracketed. */
    if (colon == NULL || strchr(colon + 1, ':') != NULL) {
      return -1;
    }
    host_start = arg;
    host_n = (size_t)(colon - arg);
    rest = colon + 1;
  }
  size_t port_n = strlen(rest);
  if (host_n == 0 || port_n == 0 || port_n > 5) {
    return -1;
  }
  unsigned long value = 0;
  for (size_t i = 0; i < port_n; i++) {
    if (rest[i] < '0' || rest[i] > '9') {
      return -1;
    }
    value = value * 10 + (unsigned long)(rest[i] - '0');
  }
  if (value > 65535) {
    return -1;
  }
  if (copy_part(host, hostlen, host_start, host_n) != 0 ||
      copy_part(port, portlen, rest, port_n) != 0) {
    return -1;
  }
  return 0;
}

int cli_parse_u64(const char *opt, const char *arg, uint64_t min, uint64_t max, uint64_t *out) {
  char *end = NULL;
  errno = 0;
  if (arg[0] < '0' || arg[0] > '9') {
    goto bad;
  }
  unsigned long long v = strtoull(arg, &end, 10);
  if (errno != 0 || end == arg || *end != '\0' || v < min || v > max) {
    goto bad;
  }
  *out = v;
  return 0;
bad:
  fprintf(stderr, "%s: expected a number from %" PRIu64 " to %" PRIu64 ", got \"%s\"\n", opt, min,
          max, arg);
  return -1;
}

void cli_print_ident_error(const char *who, const char *what, const uint8_t *in, size_t inlen,
                           int rc, const cpns_ident_error *err) {
  char found[32];
  if (err->offset >= inlen) {
    snprintf(found, sizeof found, "end of input");
  } else if (in[err->offset] > 0x20 && in[err->offset] < 0x7f) {
    snprintf(found, sizeof found, "'%c'", in[err->offset]);
  } else {
    snprintf(found, sizeof found, "octet 0x%02x", in[err->offset]);
  }
  fprintf(stderr, "%s: invalid %s at byte offset %zu (%s): %s [%s]; expected %s\n", who, what,
          err->offset, found, cpns_strerror(rc), cpns_error_name(rc),
          err->expected != NULL ? err->expected : "?");
}

/* Length of the valid UTF-8 sequence at s[0..n) (n > 0) and its code point,
 * or 0 when it is not valid. */
static size_t utf8_sequence(const uint8_t *s, size_t n, uint32_t *cp) {
  uint8_t c = s[0];
  size_t len;
  uint32_t min;
  if (c < 0x80) {
    *cp = c;
    return 1;
  } else if (c >= 0xC2 && c <= 0xDF) {
    len = 2, min = 0x80, *cp = c & 0x1Fu;
  } else if (c >= 0xE0 && c <= 0xEF) {
    len = 3, min = 0x800, *cp = c & 0x0Fu;
  } else if (c >= 0xF0 && c <= 0xF4) {
    len = 4, min = 0x10000, *cp = c & 0x07u;
  } else {
    return 0;
  }
  if (n < len) {
    return 0;
  }
  for (size_t i = 1; i < len; i++) {
    if ((s[i] & 0xC0u) != 0x80u) {
      return 0;
    }
    *cp = (*cp << 6) | (s[i] & 0x3Fu);
  }
  if (*cp < min || *cp > 0x10FFFFu || (*cp >= 0xD800u && *cp <= 0xDFFFu)) {
    return 0;
  }
  return len;
}

int cli_check_text(const char *opt, const char *arg, size_t max) {
  const uint8_t *s = (const uint8_t *)arg;
  size_t n = strlen(arg);
  if (n > max) {
    fprintf(stderr, "%s: at most %zu octets\n", opt, max);
    return -1;
  }
  for (size_t i = 0; i < n;) {
    uint32_t cp = 0;
    size_t len = utf8_sequence(s + i, n - i, &cp);
    if (len == 0) {
      fprintf(stderr, "%s: not valid UTF-8 at byte offset %zu\n", opt, i);
      return -1;
    }
    if (cp < 0x20 || (cp >= 0x7F && cp <= 0x9F)) {
      fprintf(stderr, "%s: control character U+%04X at byte offset %zu\n", opt, (unsigned)cp, i);
      return -1;
    }
    i += len;
  }
  return 0;
}

uint64_t cli_now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}
