/*
 * rawpeer: a misbehaving peer for the end-to-end tests.
 *
 *   rawpeer send PORT HEX MAX_WAIT_MS
 *     connects to 127.0.0.1:PORT, sends the octets HEX, prints "sent" on
 *     stdout, then waits for the server to close the connection. Prints
 *     "closed after N bytes" (N = octets the server sent) and exits 0 when it
 *     closed, exits 1 if it is still open after MAX_WAIT_MS (a safety bound
 *     so a broken server cannot hang the test suite, not a timing check).
 *   rawpeer ask PORT HEX MAX_WAIT_MS
 *     as send, then reads the server's first answer, one DER PDU, prints
 *     "received HEX" and closes; exits 1 if the server closed first or
 *     nothing complete came within MAX_WAIT_MS (a safety bound).
 *   rawpeer listen MAX_WAIT_MS
 *     listens on 127.0.0.1:0, prints "listening on 127.0.0.1:PORT" on
 *     stdout, accepts one connection and reads from it without ever
 *     answering until the peer closes or MAX_WAIT_MS passes (a stalled server).
 *   rawpeer hangup N MAX_WAIT_MS
 *     listens as listen does, then N times: accepts a connection, reads one
 *     DER PDU, prints "request HEX" and closes without answering (a server
 *     that does not speak the request's version, e.g. of an earlier
 *     release); exits 1 if fewer than N came within MAX_WAIT_MS.
 */
#define _POSIX_C_SOURCE 200809L

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_HEX_OCTETS 8192

static uint64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static int hex_value(char c) {
  if (c >= '0' && c <= '9') {
    return c - '0';
  }
  if (c >= 'a' && c <= 'f') {
    return c - 'a' + 10;
  }
  if (c >= 'A' && c <= 'F') {
    return c - 'A' + 10;
  }
  return -1;
}

/* Decodes hex (spaces allowed) into out; returns octets or -1. */
static long decode_hex(const char *hex, uint8_t *out, size_t cap) {
  size_t n = 0;
  int hi = -1;
  for (const char *p = hex; *p != '\0'; p++) {
    if (*p == ' ') {
      continue;
    }
    int v = hex_value(*p);
    if (v < 0) {
      return -1;
    }
    if (hi < 0) {
      hi = v;
    } else {
      if (n == cap) {
        return -1;
      }
      out[n++] = (uint8_t)(hi << 4 | v);
      hi = -1;
    }
  }
  return hi < 0 ? (long)n : -1;
}

static int parse_ms(const char *s, uint64_t *out) {
  char *end = NULL;
  errno = 0;
  unsigned long long v = strtoull(s, &end, 10);
  if (errno != 0 || end == s || *end != '\0') {
    return -1;
  }
  *out = v;
  return 0;
}

/* Reads and discards until EOF/reset (returns 0) or the deadline (returns 1). */
static int drain_until_closed(int fd, uint64_t deadline, size_t *received) {
  uint8_t buf[4096];
  for (;;) {
    uint64_t now = now_ms();
    if (now >= deadline) {
      return 1;
    }
    struct pollfd p = {.fd = fd, .events = POLLIN, .revents = 0};
    int rc = poll(&p, 1, (int)(deadline - now));
    if (rc < 0 && errno == EINTR) {
      continue;
    }
    if (rc <= 0) {
      continue; /* re-checks the deadline */
    }
    ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n == 0 || (n < 0 && errno == ECONNRESET)) {
      return 0;
    }
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN) {
        continue;
      }
      return 0;
    }
    *received += (size_t)n;
  }
}

static struct sockaddr_in loopback(uint16_t port) {
  struct sockaddr_in sa;
  memset(&sa, 0, sizeof sa);
  sa.sin_family = AF_INET;
  sa.sin_port = htons(port);
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return sa;
}

static int cmd_send(const char *port_s, const char *hex, const char *wait_s) {
  static uint8_t data[MAX_HEX_OCTETS];
  uint64_t port, wait_ms;
  long len = decode_hex(hex, data, sizeof data);
  if (parse_ms(port_s, &port) != 0 || port == 0 || port > 65535 || len < 0 ||
      parse_ms(wait_s, &wait_ms) != 0) {
    fprintf(stderr, "rawpeer: bad arguments\n");
    return 2;
  }
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in sa = loopback((uint16_t)port);
  if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
    fprintf(stderr, "rawpeer: connect: %s\n", strerror(errno));
    return 2;
  }
  size_t off = 0;
  while (off < (size_t)len) {
    ssize_t n = send(fd, data + off, (size_t)len - off, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      break; /* the server may already have closed: that is what we test */
    }
    off += (size_t)n;
  }
  printf("sent\n");
  fflush(stdout);
  size_t received = 0;
  int still_open = drain_until_closed(fd, now_ms() + wait_ms, &received);
  close(fd);
  if (still_open) {
    printf("still open after %llu ms\n", (unsigned long long)wait_ms);
    return 1;
  }
  printf("closed after %zu bytes\n", received);
  return 0;
}

/* Octets of the DER TLV at the start of buf[0, len), 0 if not complete yet,
 * (size_t)-1 if its length cannot be one of a PDU. */
static size_t der_tlv_len(const uint8_t *buf, size_t len) {
  if (len < 2) {
    return 0;
  }
  size_t hdr = 2, body = buf[1];
  if (buf[1] & 0x80) {
    size_t n = buf[1] & 0x7f;
    if (n == 0 || n > 2) {
      return (size_t)-1; /* not a PDU of ours */
    }
    if (len < 2 + n) {
      return 0;
    }
    body = 0;
    for (size_t i = 0; i < n; i++) {
      body = body << 8 | buf[2 + i];
    }
    hdr += n;
  }
  return len >= hdr + body ? hdr + body : 0;
}

static int cmd_ask(const char *port_s, const char *hex, const char *wait_s) {
  static uint8_t data[MAX_HEX_OCTETS], answer[MAX_HEX_OCTETS];
  uint64_t port, wait_ms;
  long len = decode_hex(hex, data, sizeof data);
  if (parse_ms(port_s, &port) != 0 || port == 0 || port > 65535 || len < 0 ||
      parse_ms(wait_s, &wait_ms) != 0) {
    fprintf(stderr, "rawpeer: bad arguments\n");
    return 2;
  }
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in sa = loopback((uint16_t)port);
  if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0 ||
      send(fd, data, (size_t)len, MSG_NOSIGNAL) != (ssize_t)len) {
    fprintf(stderr, "rawpeer: connect or send: %s\n", strerror(errno));
    return 2;
  }
  uint64_t deadline = now_ms() + wait_ms;
  size_t got = 0, want = 0;
  while (want == 0 && got < sizeof answer) {
    uint64_t now = now_ms();
    struct pollfd p = {.fd = fd, .events = POLLIN, .revents = 0};
    if (now >= deadline || poll(&p, 1, (int)(deadline - now)) == 0) {
      break;
    }
    ssize_t n = recv(fd, answer + got, sizeof answer - got, 0);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) {
      continue;
    }
    if (n <= 0) {
      break;
    }
    got += (size_t)n;
    want = der_tlv_len(answer, got);
  }
  close(fd);
  if (want == 0 || want == (size_t)-1) {
    printf("no complete answer (%zu bytes)\n", got);
    return 1;
  }
  printf("received ");
  for (size_t i = 0; i < want; i++) {
    printf("%02x", answer[i]);
  }
  printf("\n");
  return 0;
}

static int cmd_listen(const char *wait_s) {
  uint64_t wait_ms;
  if (parse_ms(wait_s, &wait_ms) != 0) {
    fprintf(stderr, "rawpeer: bad arguments\n");
    return 2;
  }
  int lfd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in sa = loopback(0);
  socklen_t salen = sizeof sa;
  if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(lfd, 4) != 0 ||
      getsockname(lfd, (struct sockaddr *)&sa, &salen) != 0) {
    fprintf(stderr, "rawpeer: listen: %s\n", strerror(errno));
    return 2;
  }
  printf("listening on 127.0.0.1:%u\n", (unsigned)ntohs(sa.sin_port));
  fflush(stdout);
  uint64_t deadline = now_ms() + wait_ms;
  struct pollfd p = {.fd = lfd, .events = POLLIN, .revents = 0};
  if (poll(&p, 1, (int)wait_ms) <= 0) {
    close(lfd);
    return 1;
  }
  int fd = accept(lfd, NULL, NULL);
  close(lfd);
  if (fd < 0) {
    return 2;
  }
  size_t received = 0;
  int still_open = drain_until_closed(fd, deadline, &received);
  close(fd);
  printf("%s after %zu bytes\n", still_open ? "gave up" : "peer closed", received);
  return 0;
}

static int cmd_hangup(const char *n_s, const char *wait_s) {
  static uint8_t request[MAX_HEX_OCTETS];
  uint64_t n, wait_ms;
  if (parse_ms(n_s, &n) != 0 || n == 0 || n > 16 || parse_ms(wait_s, &wait_ms) != 0) {
    fprintf(stderr, "rawpeer: bad arguments\n");
    return 2;
  }
  int lfd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in sa = loopback(0);
  socklen_t salen = sizeof sa;
  if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(lfd, 4) != 0 ||
      getsockname(lfd, (struct sockaddr *)&sa, &salen) != 0) {
    fprintf(stderr, "rawpeer: listen: %s\n", strerror(errno));
    return 2;
  }
  printf("listening on 127.0.0.1:%u\n", (unsigned)ntohs(sa.sin_port));
  fflush(stdout);
  uint64_t deadline = now_ms() + wait_ms;
  for (uint64_t i = 0; i < n; i++) {
    uint64_t now = now_ms();
    struct pollfd p = {.fd = lfd, .events = POLLIN, .revents = 0};
    if (now >= deadline || poll(&p, 1, (int)(deadline - now)) <= 0) {
      close(lfd);
      printf("gave up after %llu connections\n", (unsigned long long)i);
      return 1;
    }
    int fd = accept(lfd, NULL, NULL);
    if (fd < 0) {
      close(lfd);
      return 2;
    }
    size_t got = 0, want = 0;
    while (want == 0 && got < sizeof request) {
      now = now_ms();
      struct pollfd q = {.fd = fd, .events = POLLIN, .revents = 0};
      if (now >= deadline || poll(&q, 1, (int)(deadline - now)) <= 0) {
        break;
      }
      ssize_t r = recv(fd, request + got, sizeof request - got, 0);
      if (r < 0 && (errno == EINTR || errno == EAGAIN)) {
        continue;
      }
      if (r <= 0) {
        break;
      }
      got += (size_t)r;
      want = der_tlv_len(request, got);
    }
    close(fd);
    if (want == 0 || want == (size_t)-1) {
      printf("no complete request (%zu bytes)\n", got);
      close(lfd);
      return 1;
    }
    printf("request ");
    for (size_t k = 0; k < want; k++) {
      printf("%02x", request[k]);
    }
    printf("\n");
    fflush(stdout);
  }
  close(lfd);
  return 0;
}

int main(int argc, char **argv) {
  if (argc == 5 && strcmp(argv[1], "send") == 0) {
    return cmd_send(argv[2], argv[3], argv[4]);
  }
  if (argc == 5 && strcmp(argv[1], "ask") == 0) {
    return cmd_ask(argv[2], argv[3], argv[4]);
  }
  if (argc == 3 && strcmp(argv[1], "listen") == 0) {
    return cmd_listen(argv[2]);
  }
  if (argc == 4 && strcmp(argv[1], "hangup") == 0) {
    return cmd_hangup(argv[2], argv[3]);
  }
  fprintf(stderr, "usage: rawpeer send|ask PORT HEX MAX_WAIT_MS | rawpeer listen MAX_WAIT_MS | "
                  "rawpeer hangup N MAX_WAIT_MS\n");
  return 2;
}
