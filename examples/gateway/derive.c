/*
 * cpns-gateway: Argon2id on a worker thread so that a person sees progress
 * (a spinner with elapsed time on a terminal, one plain line otherwise)
 * instead of a silent pause of seconds.
 */
#define _POSIX_C_SOURCE 200809L

#include "examples/gateway/gateway.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <unistd.h>

#include "examples/common/cli.h"

/* Spinner redraw period on a terminal. */
#define SPIN_PERIOD_MS 100

typedef struct derive_job {
  cpns_gateway *gw;
  int rv;
  int wake_fd; /* written once when the derive step has finished */
} derive_job;

static void *derive_worker(void *arg) {
  derive_job *job = arg;
  job->rv = cpns_gateway_derive(job->gw, cli_now_ms());
  ssize_t n;
  do {
    n = write(job->wake_fd, "x", 1);
  } while (n < 0 && errno == EINTR);
  return NULL;
}

/* "64 MiB" when whole mebibytes, else "8 KiB". */
static void format_mem(char *out, size_t outlen, uint32_t kib) {
  if (kib % 1024 == 0) {
    snprintf(out, outlen, "%u MiB", (unsigned)(kib / 1024));
  } else {
    snprintf(out, outlen, "%u KiB", (unsigned)kib);
  }
}

/* Blocks until the worker writes to fd, redrawing the spinner if asked. */
static void wait_for_worker(int fd, int spinner, const char *what, uint64_t start) {
  static const char frames[] = "|/-\\";
  unsigned frame = 0;
  for (;;) {
    struct pollfd p = {.fd = fd, .events = POLLIN, .revents = 0};
    int rc = poll(&p, 1, spinner ? SPIN_PERIOD_MS : -1);
    if (rc > 0) {
      return;
    }
    if (rc < 0 && errno != EINTR) {
      return; /* cannot wait politely; pthread_join() still waits */
    }
    if (spinner) {
      double secs = (double)(cli_now_ms() - start) / 1000.0;
      fprintf(stderr, "\r%c %s %.1f s", frames[frame++ % 4], what, secs);
      fflush(stderr);
    }
  }
}

int gateway_derive(cpns_gateway *gw) {
  cpns_kdf_params kdf;
  uint8_t realm[CPNS_REALM_MAX];
  size_t realm_len = 0;
  char what[96] = "deriving key (Argon2id)...";
  if (cpns_gateway_get_challenge(gw, &kdf, realm, &realm_len) == 0) {
    char mem[32];
    format_mem(mem, sizeof mem, kdf.mem_limit_kib);
    snprintf(what, sizeof what, "deriving key (Argon2id, %s, t=%u)...", mem,
             (unsigned)kdf.ops_limit);
  }
  int spinner = isatty(STDERR_FILENO);
  uint64_t start = cli_now_ms();
  if (!spinner) {
    fprintf(stderr, "%s", what);
    fflush(stderr);
  }

  int rv;
  int pipefd[2];
  pthread_t thread;
  derive_job job = {.gw = gw, .rv = 0, .wake_fd = -1};
  if (pipe(pipefd) != 0) {
    rv = cpns_gateway_derive(gw, cli_now_ms()); /* no progress, same result */
  } else {
    job.wake_fd = pipefd[1];
    if (pthread_create(&thread, NULL, derive_worker, &job) != 0) {
      rv = cpns_gateway_derive(gw, cli_now_ms());
    } else {
      wait_for_worker(pipefd[0], spinner, what, start);
      pthread_join(thread, NULL);
      rv = job.rv;
    }
    close(pipefd[0]);
    close(pipefd[1]);
  }

  double secs = (double)(cli_now_ms() - start) / 1000.0;
  if (spinner) {
    fprintf(stderr, "\r%s %s in %.2f s\n", what, rv == 0 ? "done" : "failed", secs);
  } else {
    fprintf(stderr, " %s in %.2f s\n", rv == 0 ? "done" : "failed", secs);
  }
  return rv;
}
