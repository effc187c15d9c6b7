/*
 * slowconn: slow and garbage connections against a cpns-server on loopback,
 * for tests/torture/slow_conns.sh.
 *
 *   slowconn PORT SLOW PER_ADDR GARBAGE_CLIENTS MAX_SECONDS
 *
 * 1. Opens SLOW connections to 127.0.0.1:PORT, PER_ADDR from each source
 *    address 127.0.10.1, 127.0.10.2, ... (bind() before connect()), and
 *    sends one octet on each (0xa0, the first octet of a CpnsPdu), then
 *    nothing more. Prints "slow N open" on stdout.
 * 2. On the line "garbage" on stdin: GARBAGE_CLIENTS threads connect again
 *    and again from 127.0.200.1, 127.0.201.1, ... (the last octet turning),
 *    send 1 to 200 random octets, end their stream and wait for the server
 *    to close; every fourth connection is reset right after its octets.
 *    Prints "garbage started".
 * 3. On "stop" or end of stdin: stops the garbage, counts the slow
 *    connections the server still holds open, prints
 *    "slow still open X/N garbage connections G" and exits 0.
 * Exits 1 on a setup failure, or when MAX_SECONDS (the safety bound) pass
 * before "stop".
 */
#define _POSIX_C_SOURCE 200809L

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define SLOW_MAX 60000
#define GARBAGE_CLIENTS_MAX 64
#define GARBAGE_LEN_MAX 200
#define GARBAGE_WAIT_MS 5000

static uint16_t server_port;
static atomic_int garbage_stop;
static atomic_ulong garbage_done;

static uint64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* A connected socket from source address 127.0.0.0 + src (host order), or -1. */
static int connect_from(uint32_t src) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    return -1;
  }
  struct sockaddr_in from, to;
  memset(&from, 0, sizeof(from));
  from.sin_family = AF_INET;
  from.sin_addr.s_addr = htonl(0x7f000000u | (src & 0xffffffu));
  to = from;
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  to.sin_port = htons(server_port);
  if (bind(fd, (struct sockaddr *)&from, sizeof(from)) != 0 ||
      connect(fd, (struct sockaddr *)&to, sizeof(to)) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

/* xorshift64*: random enough octets for garbage, no locks between threads. */
static uint64_t next_random(uint64_t *s) {
  *s ^= *s >> 12;
  *s ^= *s << 25;
  *s ^= *s >> 27;
  return *s * 2685821657736338717ull;
}

/*
 * Waits (at most GARBAGE_WAIT_MS) until the server closes: each garbage
 * client has one connection at a time in the server. Closing at once would
 * let the kernel's accept backlog pile up connections faster than the
 * server reads their end, and fill its connection table: a flood, not what
 * this tool measures.
 */
static void wait_closed(int fd) {
  uint64_t deadline = now_ms() + GARBAGE_WAIT_MS;
  uint8_t buf[256];
  for (uint64_t now = now_ms(); now < deadline; now = now_ms()) {
    struct pollfd p = {.fd = fd, .events = POLLIN, .revents = 0};
    if (poll(&p, 1, (int)(deadline - now)) > 0) {
      ssize_t r = recv(fd, buf, sizeof(buf), 0);
      if (r == 0 || (r < 0 && errno != EINTR && errno != EAGAIN)) {
        return;
      }
    }
  }
}

static void *garbage_main(void *arg) {
  unsigned index = (unsigned)(uintptr_t)arg;
  uint64_t rnd = 0x9e3779b97f4a7c15ull ^ ((uint64_t)index << 32) ^ now_ms();
  for (unsigned turn = 0; !atomic_load(&garbage_stop); turn++) {
    /* 127.0.(200 + index).(1 .. 250): a few connections per address. */
    int fd = connect_from((200u + index) << 8 | (turn % 250u + 1u));
    if (fd < 0) {
      continue; /* refused (limits) or out of ports for a moment: try again */
    }
    uint8_t junk[GARBAGE_LEN_MAX];
    size_t len = (size_t)(next_random(&rnd) % GARBAGE_LEN_MAX) + 1;
    for (size_t i = 0; i < len; i++) {
      junk[i] = (uint8_t)next_random(&rnd);
    }
    if (turn % 2 == 0) {
      junk[0] = 0xa0; /* looks like a CpnsPdu: gets past the first check */
    }
    (void)send(fd, junk, len, MSG_NOSIGNAL);
    if (turn % 4 == 3) {
      struct linger lg = {.l_onoff = 1, .l_linger = 0};
      setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
    } else {
      shutdown(fd, SHUT_WR);
      wait_closed(fd);
    }
    close(fd);
    atomic_fetch_add(&garbage_done, 1);
  }
  return NULL;
}

/* Reads one command line from stdin before the deadline: 1 "garbage",
 * 0 "stop" or EOF, -1 deadline passed. */
static int read_command(uint64_t deadline) {
  char line[64];
  size_t n = 0;
  for (;;) {
    uint64_t now = now_ms();
    if (now >= deadline) {
      return -1;
    }
    struct pollfd p = {.fd = 0, .events = POLLIN, .revents = 0};
    int rc = poll(&p, 1, (int)(deadline - now));
    if (rc <= 0) {
      continue;
    }
    char ch;
    ssize_t r = read(0, &ch, 1);
    if (r < 0 && errno == EINTR) {
      continue;
    }
    if (r <= 0) {
      return 0;
    }
    if (ch != '\n') {
      if (n < sizeof(line) - 1) {
        line[n++] = ch;
      }
      continue;
    }
    line[n] = '\0';
    return strcmp(line, "garbage") == 0 ? 1 : 0;
  }
}

static int parse_arg(const char *s, unsigned long min, unsigned long max, unsigned long *out) {
  char *end = NULL;
  errno = 0;
  unsigned long v = strtoul(s, &end, 10);
  if (errno != 0 || end == s || *end != '\0' || s[0] == '-' || v < min || v > max) {
    return -1;
  }
  *out = v;
  return 0;
}

int main(int argc, char **argv) {
  unsigned long port, slow, per_addr, garbage, seconds;
  if (argc != 6 || parse_arg(argv[1], 1, 65535, &port) != 0 ||
      parse_arg(argv[2], 1, SLOW_MAX, &slow) != 0 || parse_arg(argv[3], 1, 1000, &per_addr) != 0 ||
      parse_arg(argv[4], 0, GARBAGE_CLIENTS_MAX, &garbage) != 0 ||
      parse_arg(argv[5], 1, 3600, &seconds) != 0) {
    fprintf(stderr, "usage: slowconn PORT SLOW PER_ADDR GARBAGE_CLIENTS MAX_SECONDS\n");
    return 2;
  }
  uint64_t deadline = now_ms() + seconds * 1000u;
  server_port = (uint16_t)port;
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
  int *fds = calloc(slow, sizeof(*fds));
  if (fds == NULL) {
    fprintf(stderr, "slowconn: out of memory\n");
    return 1;
  }
  const uint8_t first_octet = 0xa0;
  for (unsigned long i = 0; i < slow; i++) {
    /* Source addresses 127.0.10.1 .. 127.0.10.250, 127.0.11.1, ... */
    unsigned long a = i / per_addr;
    fds[i] = connect_from((uint32_t)((10u + a / 250u) << 8 | (a % 250u + 1u)));
    if (fds[i] < 0 || send(fds[i], &first_octet, 1, MSG_NOSIGNAL) != 1) {
      fprintf(stderr, "slowconn: slow connection %lu: %s\n", i, strerror(errno));
      return 1;
    }
  }
  printf("slow %lu open\n", slow);
  fflush(stdout);

  pthread_t th[GARBAGE_CLIENTS_MAX];
  unsigned long started = 0;
  int cmd = read_command(deadline);
  if (cmd == 1) {
    for (; started < garbage; started++) {
      if (pthread_create(&th[started], NULL, garbage_main, (void *)(uintptr_t)started) != 0) {
        fprintf(stderr, "slowconn: cannot start a garbage thread\n");
        break;
      }
    }
    printf("garbage started\n");
    fflush(stdout);
    cmd = read_command(deadline);
  }
  atomic_store(&garbage_stop, 1);
  for (unsigned long i = 0; i < started; i++) {
    pthread_join(th[i], NULL);
  }
  if (cmd < 0) {
    fprintf(stderr, "slowconn: no \"stop\" within %lu s\n", seconds);
    return 1;
  }
  /* Open means: nothing to read and no end of stream. */
  unsigned long open = 0;
  for (unsigned long i = 0; i < slow; i++) {
    uint8_t b;
    ssize_t r = recv(fds[i], &b, 1, MSG_DONTWAIT);
    if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      open++;
    }
    close(fds[i]);
  }
  free(fds);
  printf("slow still open %lu/%lu garbage connections %lu\n", open, slow,
         atomic_load(&garbage_done));
  return 0;
}
