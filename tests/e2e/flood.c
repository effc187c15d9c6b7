/*
 * flood: first KeyRequests for random User IDs, as fast as a server
 * answers them, for the lockout and per-source budget tests.
 *
 *   flood PORT COUNT CONCURRENCY SOURCES [MAX_SECONDS]
 *
 * Sends COUNT KeyRequests to 127.0.0.1:PORT, each on its own connection,
 * CONCURRENCY at a time, from SOURCES loopback addresses 127.1.0.0 onwards
 * (one after the other); reads the answer (a KeyChallenge, or a
 * KeyDelivery: tryLater and others) and closes without answering the
 * challenge, which the server counts as a failed attempt of that User ID.
 * Prints one line:
 *   sent N challenge N tryLater N other N unanswered N seconds S
 * and exits 0, or 1 if it could not run or MAX_SECONDS (default 300; a
 * safety bound so that a broken server cannot hang the tests) passed.
 * The gateway's defaults (version 2, suite 2 only), or suites 2 and 1 with
 * CPNS_FLOOD_ALLOW_SUITE1=1 in the environment.
 */
#define _GNU_SOURCE

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cpns/cpns.h>

#define CONCURRENCY_MAX 1024
#define SOURCES_MAX 65536
/* A KeyChallenge or KeyDelivery is far shorter. */
#define ANSWER_MAX 4096
/* Per connection: a server that neither answers nor closes in this time. */
#define ANSWER_TIMEOUT_MS 30000

typedef struct slot {
  int fd; /* -1: free */
  int sent;
  uint64_t deadline_ms;
  size_t req_len, req_off, got;
  uint8_t req[CPNS_PDU_MAX_ENCODED];
  uint8_t ans[ANSWER_MAX];
} slot;

typedef struct tally {
  unsigned long sent, challenge, try_later, other, unanswered;
} tally;

static uint64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static int parse_ulong(const char *s, unsigned long min, unsigned long max, unsigned long *out) {
  char *end = NULL;
  errno = 0;
  unsigned long v = strtoul(s, &end, 10);
  if (errno != 0 || end == s || *end != '\0' || v < min || v > max) {
    return -1;
  }
  *out = v;
  return 0;
}

/* A first KeyRequest of a random User ID, made by the gateway engine. */
static int make_request(slot *s) {
  char user[64];
  uint8_t r[8];
  cpns_crypto_random(r, sizeof(r));
  snprintf(user, sizeof(user), "flood-%02x%02x%02x%02x%02x%02x%02x%02x@example.com", r[0], r[1],
           r[2], r[3], r[4], r[5], r[6], r[7]);
  static const char entity[] = "urn:dev:mac:0011223344ee";
  static const uint8_t password[] = "not the password";
  cpns_gateway_settings gs;
  cpns_gateway_settings_default(&gs);
  gs.entity_id = (const uint8_t *)entity;
  gs.entity_id_len = sizeof(entity) - 1;
  gs.user_id = (const uint8_t *)user;
  gs.user_id_len = strlen(user);
  gs.mode = CPNS_MODE_PN_GW;
  gs.password = password;
  gs.password_len = sizeof(password) - 1;
  /* Offers suite 1 too (a server preferring it then runs suite 1). */
  const char *allow1 = getenv("CPNS_FLOOD_ALLOW_SUITE1");
  gs.allow_suite1 = allow1 != NULL && strcmp(allow1, "1") == 0;
  cpns_gateway *gw = NULL;
  uint64_t t = now_ms();
  int rc = cpns_gateway_new(&gw, &gs, NULL, t);
  if (rc == 0) {
    rc = cpns_gateway_write(gw, s->req, sizeof(s->req), &s->req_len, t);
  }
  cpns_gateway_del(gw);
  return rc;
}

/* Octets of the DER element at the start of buf, 0 while its header is incomplete. */
static size_t der_total(const uint8_t *buf, size_t n) {
  if (n < 2) {
    return 0;
  }
  if (buf[1] < 0x80) {
    return 2 + (size_t)buf[1];
  }
  size_t k = buf[1] & 0x7f;
  if (k == 0 || k > 2) {
    return SIZE_MAX; /* not a PDU we expect: classified as other */
  }
  if (n < 2 + k) {
    return 0;
  }
  size_t len = 0;
  for (size_t i = 0; i < k; i++) {
    len = len << 8 | buf[2 + i];
  }
  return 2 + k + len;
}

static void classify(tally *t, const slot *s) {
  cpns_pdu pdu;
  size_t total = der_total(s->ans, s->got);
  if (total == 0 || total > s->got) {
    t->unanswered++;
    return;
  }
  if (cpns_pdu_decode(&pdu, s->ans, total, NULL) != 0) {
    t->other++;
  } else if (pdu.type == CPNS_PDU_KEY_CHALLENGE) {
    t->challenge++;
  } else if (pdu.type == CPNS_PDU_KEY_DELIVERY &&
             pdu.u.key_delivery.result == CPNS_RESULT_TRY_LATER) {
    t->try_later++;
  } else {
    t->other++;
  }
}

static int open_conn(slot *s, uint16_t port, uint32_t source) {
  s->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (s->fd < 0) {
    return -1;
  }
  int one = 1;
  /* Ports are picked at connect() per source address: no bind-time shortage. */
  (void)setsockopt(s->fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one));
  struct sockaddr_in src, dst;
  memset(&src, 0, sizeof(src));
  src.sin_family = AF_INET;
  src.sin_addr.s_addr = htonl(0x7f010000u + source);
  memset(&dst, 0, sizeof(dst));
  dst.sin_family = AF_INET;
  dst.sin_port = htons(port);
  dst.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(s->fd, (struct sockaddr *)&src, sizeof(src)) != 0 ||
      (connect(s->fd, (struct sockaddr *)&dst, sizeof(dst)) != 0 && errno != EINPROGRESS)) {
    close(s->fd);
    s->fd = -1;
    return -1;
  }
  s->sent = 0;
  s->req_off = 0;
  s->got = 0;
  s->deadline_ms = now_ms() + ANSWER_TIMEOUT_MS;
  return 0;
}

static void close_conn(tally *t, slot *s) {
  classify(t, s);
  close(s->fd);
  s->fd = -1;
}

/* Moves one connection on; closes it once answered (or failed). */
static void step(tally *t, slot *s, short revents) {
  if (!s->sent && (revents & (POLLOUT | POLLERR | POLLHUP))) {
    ssize_t n = send(s->fd, s->req + s->req_off, s->req_len - s->req_off, MSG_NOSIGNAL);
    if (n < 0 && errno != EAGAIN && errno != EINTR) {
      close_conn(t, s); /* refused (server limits): unanswered */
      return;
    }
    if (n > 0) {
      s->req_off += (size_t)n;
      s->sent = s->req_off == s->req_len;
    }
    return;
  }
  if (s->sent && (revents & (POLLIN | POLLERR | POLLHUP))) {
    ssize_t n = recv(s->fd, s->ans + s->got, sizeof(s->ans) - s->got, 0);
    if (n > 0) {
      s->got += (size_t)n;
      size_t total = der_total(s->ans, s->got);
      if ((total == 0 || total > s->got) && s->got < sizeof(s->ans)) {
        return; /* more to come */
      }
    } else if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
      return;
    }
    close_conn(t, s);
  }
}

int main(int argc, char **argv) {
  unsigned long port, count, concurrency, sources, max_s = 300;
  if ((argc != 5 && argc != 6) || parse_ulong(argv[1], 1, 65535, &port) != 0 ||
      parse_ulong(argv[2], 1, 100000000, &count) != 0 ||
      parse_ulong(argv[3], 1, CONCURRENCY_MAX, &concurrency) != 0 ||
      parse_ulong(argv[4], 1, SOURCES_MAX, &sources) != 0 ||
      (argc == 6 && parse_ulong(argv[5], 1, 86400, &max_s) != 0)) {
    fprintf(stderr, "usage: flood PORT COUNT CONCURRENCY(<=%d) SOURCES(<=%d) [MAX_SECONDS]\n",
            CONCURRENCY_MAX, SOURCES_MAX);
    return 2;
  }
  if (cpns_init() != 0) {
    fprintf(stderr, "flood: cpns_init failed\n");
    return 1;
  }
  static slot slots[CONCURRENCY_MAX];
  static struct pollfd pfd[CONCURRENCY_MAX];
  tally t;
  memset(&t, 0, sizeof(t));
  for (size_t i = 0; i < concurrency; i++) {
    slots[i].fd = -1;
  }
  uint64_t start = now_ms(), give_up = start + max_s * 1000;
  unsigned long started = 0, open_now = 0;
  for (;;) {
    for (size_t i = 0; i < concurrency && started < count; i++) {
      if (slots[i].fd >= 0) {
        continue;
      }
      if (make_request(&slots[i]) != 0 ||
          open_conn(&slots[i], (uint16_t)port, (uint32_t)(started % sources)) != 0) {
        fprintf(stderr, "flood: cannot start request %lu: %s\n", started, strerror(errno));
        return 1;
      }
      started++;
      t.sent++;
    }
    open_now = 0;
    uint64_t now = now_ms();
    for (size_t i = 0; i < concurrency; i++) {
      pfd[i].fd = slots[i].fd;
      pfd[i].events = slots[i].sent ? POLLIN : POLLOUT;
      pfd[i].revents = 0;
      if (slots[i].fd >= 0) {
        open_now++;
        if (now >= slots[i].deadline_ms) {
          close_conn(&t, &slots[i]);
          pfd[i].fd = -1;
        }
      }
    }
    if (open_now == 0 && started == count) {
      break;
    }
    if (now >= give_up) {
      fprintf(stderr, "flood: gave up after %lu s\n", max_s);
      return 1;
    }
    int n = poll(pfd, concurrency, 1000);
    if (n < 0 && errno != EINTR) {
      fprintf(stderr, "flood: poll: %s\n", strerror(errno));
      return 1;
    }
    for (size_t i = 0; n > 0 && i < concurrency; i++) {
      if (pfd[i].fd >= 0 && pfd[i].revents != 0) {
        step(&t, &slots[i], pfd[i].revents);
      }
    }
  }
  printf("sent %lu challenge %lu tryLater %lu other %lu unanswered %lu seconds %.1f\n", t.sent,
         t.challenge, t.try_later, t.other, t.unanswered, (double)(now_ms() - start) / 1000.0);
  return 0;
}
