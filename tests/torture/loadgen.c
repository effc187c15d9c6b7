/*
 * loadgen: concurrent gateways against a cpns-server on loopback, for the
 * kill -9 test (tests/torture/kill9.sh).
 *
 *   loadgen --port P --users N --password-file F --clients C --round R
 *           --acks FILE --seconds S [--kill-pid PID --kill-after K]
 *
 * C threads each run real exchanges with the gateway engine (Argon2id as
 * the server's challenge says), one new Entity ID per exchange
 * (urn:dev:mac:, round R in its first hex digit, so rounds never collide),
 * users load0@example.com .. load<N-1>@example.com, thread t connecting from
 * 127.0.3.<t+1> (own per-address budget). Every ACKNOWLEDGED assignment
 * (KeyDelivery success, serverSignature and AEAD verified, EUKey taken out)
 * is appended to FILE as "ENTITY KEYID-HEX" before the next exchange starts.
 * With --kill-pid, the K-th acknowledgement sends SIGKILL to PID. A thread
 * stops when the server refuses its connection (it is gone) or after S
 * seconds (the safety bound). Prints "acknowledged A failed F", then for
 * each KeyDelivery result other than success its name and count (of the
 * failed ones), and exits 0, or 1 on a setup error.
 */
#define _POSIX_C_SOURCE 200809L

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <unistd.h>

#include <sodium.h>

#include <cpns/cpns.h>

#include "examples/common/cli.h"

#define CLIENTS_MAX 250
#define EXCHANGE_DEADLINE_MS 30000

typedef struct shared {
  uint16_t port;
  unsigned users, round;
  const uint8_t *password;
  size_t password_len;
  _Atomic uint64_t deadline_ms; /* main sets it to 0 to stop the clients */
  pid_t kill_pid;
  unsigned long kill_after;
  FILE *acks;
  pthread_mutex_t acks_lock;
  atomic_ulong acknowledged, failed;
  atomic_ulong refused_by_result[CPNS_RESULT_SERVER_ERROR + 1]; /* KeyDelivery results */
} shared;

typedef struct client {
  shared *sh;
  unsigned index;
  uint8_t *eukey; /* sodium_malloc'd */
} client;

typedef enum { EXCHANGE_ACK, EXCHANGE_FAILED, EXCHANGE_REFUSED } exchange_outcome;

/*
 * The gateway settings of every exchange, in one place. The test users are
 * enrolled with t=1 / 8 KiB, below the gateway's default minimums.
 */
static void gateway_settings(cpns_gateway_settings *gs, const shared *sh, const char *entity,
                             const char *user) {
  cpns_gateway_settings_default(gs);
  gs->entity_id = (const uint8_t *)entity;
  gs->entity_id_len = strlen(entity);
  gs->user_id = (const uint8_t *)user;
  gs->user_id_len = strlen(user);
  gs->mode = CPNS_MODE_PN_GW;
  gs->password = sh->password;
  gs->password_len = sh->password_len;
  gs->min_ops_limit = 1;
  gs->min_mem_limit_kib = 8;
}

/* Connects from 127.0.3.<index+1>; -1 with errno set on failure. */
static int connect_from(const shared *sh, unsigned index) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    return -1;
  }
  struct sockaddr_in src, dst;
  memset(&src, 0, sizeof(src));
  src.sin_family = AF_INET;
  src.sin_addr.s_addr = htonl(0x7f000300u | (index + 1));
  dst = src;
  dst.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  dst.sin_port = htons(sh->port);
  if (bind(fd, (struct sockaddr *)&src, sizeof(src)) != 0 ||
      connect(fd, (struct sockaddr *)&dst, sizeof(dst)) != 0) {
    int saved = errno;
    close(fd);
    errno = saved;
    return -1;
  }
  return fd;
}

static int send_all(int fd, const uint8_t *p, size_t n) {
  while (n > 0) {
    ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
    if (w < 0 && errno == EINTR) {
      continue;
    }
    if (w <= 0) {
      return -1;
    }
    p += w;
    n -= (size_t)w;
  }
  return 0;
}

/* Waits for input until the engine's expiry; 0 readable, 1 expired. */
static int wait_readable(int fd, cpns_gateway *gw) {
  for (;;) {
    uint64_t now = cli_now_ms(), expiry = cpns_gateway_get_expiry(gw);
    if (expiry <= now) {
      return 1;
    }
    uint64_t wait = expiry - now;
    struct pollfd p = {.fd = fd, .events = POLLIN, .revents = 0};
    int rc = poll(&p, 1, wait > 60000 ? 60000 : (int)wait);
    if (rc > 0) {
      return 0;
    }
    if (rc < 0 && errno != EINTR) {
      return 1;
    }
  }
}

/* One exchange; on EXCHANGE_ACK key_id is set. */
static exchange_outcome run_exchange(client *cl, const char *entity, const char *user,
                                     uint8_t key_id[CPNS_KEY_ID_LEN]) {
  const shared *sh = cl->sh;
  cpns_gateway_settings gs;
  gateway_settings(&gs, sh, entity, user);
  cpns_gateway *gw = NULL;
  if (cpns_gateway_new(&gw, &gs, NULL, cli_now_ms()) != 0) {
    return EXCHANGE_FAILED;
  }
  int fd = connect_from(sh, cl->index);
  if (fd < 0) {
    int refused = errno == ECONNREFUSED;
    cpns_gateway_del(gw);
    return refused ? EXCHANGE_REFUSED : EXCHANGE_FAILED;
  }
  uint8_t buf[CPNS_PDU_MAX_ENCODED], pdu_out[CPNS_PDU_MAX_ENCODED];
  exchange_outcome out = EXCHANGE_FAILED;
  for (;;) {
    cpns_gateway_state st = cpns_gateway_get_state(gw);
    if (st == CPNS_GATEWAY_SEND) {
      size_t n = 0;
      if (cpns_gateway_write(gw, pdu_out, sizeof(pdu_out), &n, cli_now_ms()) != 0 ||
          send_all(fd, pdu_out, n) != 0) {
        break;
      }
    } else if (st == CPNS_GATEWAY_RECEIVE) {
      if (wait_readable(fd, gw) != 0) {
        cpns_gateway_handle_expiry(gw, cli_now_ms());
        continue;
      }
      ssize_t r = recv(fd, buf, sizeof(buf), 0);
      if (r < 0 && errno == EINTR) {
        continue;
      }
      /* The engine takes every byte; 0: the peer closed. */
      cpns_gateway_read(gw, buf, r > 0 ? (size_t)r : 0, cli_now_ms());
    } else if (st == CPNS_GATEWAY_DERIVE) {
      cpns_gateway_derive(gw, cli_now_ms());
    } else {
      cpns_result received;
      int result = cpns_gateway_get_result(gw, &received) == 0 ? (int)received : -1;
      if (st == CPNS_GATEWAY_DONE && cpns_gateway_get_eukey(gw, cl->eukey, key_id) == 0) {
        out = EXCHANGE_ACK;
      } else if (result > 0 && result <= CPNS_RESULT_SERVER_ERROR) {
        atomic_fetch_add(&cl->sh->refused_by_result[result], 1);
      }
      break;
    }
  }
  close(fd);
  cpns_gateway_del(gw);
  return out;
}

static void record_ack(client *cl, const char *entity, const uint8_t key_id[CPNS_KEY_ID_LEN]) {
  shared *sh = cl->sh;
  char hex[2 * CPNS_KEY_ID_LEN + 1];
  cli_hex(hex, key_id, CPNS_KEY_ID_LEN);
  pthread_mutex_lock(&sh->acks_lock);
  fprintf(sh->acks, "%s %s\n", entity, hex);
  fflush(sh->acks);
  unsigned long n = atomic_fetch_add(&sh->acknowledged, 1) + 1;
  if (sh->kill_pid > 0 && n == sh->kill_after) {
    kill(sh->kill_pid, SIGKILL);
  }
  pthread_mutex_unlock(&sh->acks_lock);
}

static void *client_main(void *arg) {
  client *cl = arg;
  shared *sh = cl->sh;
  for (uint64_t seq = 0; cli_now_ms() < atomic_load(&sh->deadline_ms); seq++) {
    char entity[32], user[32];
    uint64_t mac =
        (uint64_t)(sh->round & 0xf) << 44 | (uint64_t)cl->index << 36 | (seq & 0xfffffffffull);
    snprintf(entity, sizeof(entity), "urn:dev:mac:%012llx", (unsigned long long)mac);
    snprintf(user, sizeof(user), "load%u@example.com",
             (unsigned)((cl->index + seq * 7) % sh->users));
    uint8_t key_id[CPNS_KEY_ID_LEN];
    exchange_outcome out = run_exchange(cl, entity, user, key_id);
    if (out == EXCHANGE_ACK) {
      record_ack(cl, entity, key_id);
    } else if (out == EXCHANGE_REFUSED) {
      break; /* the server is gone */
    } else {
      atomic_fetch_add(&sh->failed, 1);
    }
  }
  return NULL;
}

static int parse_num(const char *opt, const char *arg, unsigned long max, unsigned long *out) {
  char *end = NULL;
  errno = 0;
  unsigned long v = strtoul(arg, &end, 10);
  if (errno != 0 || end == arg || *end != '\0' || arg[0] == '-' || v > max) {
    fprintf(stderr, "loadgen: %s: expected a number up to %lu, got \"%s\"\n", opt, max, arg);
    return -1;
  }
  *out = v;
  return 0;
}

int main(int argc, char **argv) {
  static const struct option longopts[] = {
      {"port", required_argument, NULL, 'p'},          {"users", required_argument, NULL, 'u'},
      {"password-file", required_argument, NULL, 'w'}, {"clients", required_argument, NULL, 'c'},
      {"round", required_argument, NULL, 'r'},         {"acks", required_argument, NULL, 'a'},
      {"seconds", required_argument, NULL, 's'},       {"kill-pid", required_argument, NULL, 'k'},
      {"kill-after", required_argument, NULL, 'K'},    {NULL, 0, NULL, 0}};
  unsigned long port = 0, users = 0, clients = 0, round = 0, seconds = 0, kill_pid = 0,
                kill_after = 0;
  const char *pw_path = NULL, *acks_path = NULL;
  int c, bad = 0;
  while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
    switch (c) {
    case 'p': bad |= parse_num("--port", optarg, 65535, &port); break;
    case 'u': bad |= parse_num("--users", optarg, 100000, &users); break;
    case 'w': pw_path = optarg; break;
    case 'c': bad |= parse_num("--clients", optarg, CLIENTS_MAX, &clients); break;
    case 'r': bad |= parse_num("--round", optarg, 15, &round); break;
    case 'a': acks_path = optarg; break;
    case 's': bad |= parse_num("--seconds", optarg, 3600, &seconds); break;
    case 'k': bad |= parse_num("--kill-pid", optarg, 1ul << 30, &kill_pid); break;
    case 'K': bad |= parse_num("--kill-after", optarg, 1ul << 30, &kill_after); break;
    default: bad = 1; break;
    }
  }
  if (bad || optind != argc || port == 0 || users == 0 || clients == 0 || seconds == 0 ||
      pw_path == NULL || acks_path == NULL || (kill_pid != 0) != (kill_after != 0)) {
    fprintf(stderr, "usage: loadgen --port P --users N --password-file F --clients C "
                    "--round R --acks FILE --seconds S [--kill-pid PID --kill-after K]\n");
    return 2;
  }
  if (cpns_init() != 0) {
    fprintf(stderr, "loadgen: cannot initialise libcpns\n");
    return 1;
  }
  shared sh;
  memset(&sh, 0, sizeof(sh));
  uint8_t *pw = NULL;
  if (cli_password_from_file(pw_path, &pw, &sh.password_len) != 0) {
    return 1;
  }
  sh.password = pw;
  sh.port = (uint16_t)port;
  sh.users = (unsigned)users;
  sh.round = (unsigned)round;
  sh.kill_pid = (pid_t)kill_pid;
  sh.kill_after = kill_after;
  atomic_init(&sh.deadline_ms, cli_now_ms() + seconds * 1000u);
  atomic_init(&sh.acknowledged, 0);
  atomic_init(&sh.failed, 0);
  for (int r = 0; r <= CPNS_RESULT_SERVER_ERROR; r++) {
    atomic_init(&sh.refused_by_result[r], 0);
  }
  pthread_mutex_init(&sh.acks_lock, NULL);
  sh.acks = fopen(acks_path, "a");
  if (sh.acks == NULL) {
    fprintf(stderr, "loadgen: %s: %s\n", acks_path, strerror(errno));
    sodium_free(pw);
    return 1;
  }
  client cl[CLIENTS_MAX];
  pthread_t th[CLIENTS_MAX];
  unsigned started = 0;
  int status = 0;
  for (; started < clients; started++) {
    cl[started].sh = &sh;
    cl[started].index = started;
    cl[started].eukey = sodium_malloc(CPNS_EUKEY_LEN);
    if (cl[started].eukey == NULL ||
        pthread_create(&th[started], NULL, client_main, &cl[started]) != 0) {
      if (cl[started].eukey != NULL) {
        sodium_free(cl[started].eukey);
      }
      fprintf(stderr, "loadgen: cannot start client %u\n", started);
      status = 1;
      atomic_store(&sh.deadline_ms, 0); /* the others stop */
      break;
    }
  }
  for (unsigned i = 0; i < started; i++) {
    pthread_join(th[i], NULL);
    sodium_free(cl[i].eukey);
  }
  fclose(sh.acks);
  pthread_mutex_destroy(&sh.acks_lock);
  sodium_free(pw);
  printf("acknowledged %lu failed %lu", atomic_load(&sh.acknowledged), atomic_load(&sh.failed));
  for (int r = 1; r <= CPNS_RESULT_SERVER_ERROR; r++) {
    unsigned long n = atomic_load(&sh.refused_by_result[r]);
    if (n > 0) {
      printf(" %s %lu", cpns_result_name(r), n);
    }
  }
  printf("\n");
  return status;
}
