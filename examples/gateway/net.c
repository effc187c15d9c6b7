/*
 * cpns-gateway transport: a TCP client that moves bytes between a socket
 * and the sans-I/O gateway engine, honouring the engine's deadline.
 */
#define _POSIX_C_SOURCE 200809L

#include "examples/gateway/gateway.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "examples/common/cli.h"

/* Milliseconds from now until deadline, as a poll() timeout (-1 = none). */
static int poll_timeout(uint64_t deadline, uint64_t now) {
  if (deadline == UINT64_MAX) {
    return -1;
  }
  if (deadline <= now) {
    return 0;
  }
  uint64_t left = deadline - now;
  return left > INT_MAX ? INT_MAX : (int)left;
}

/* Waits for events on fd until deadline; returns poll()'s result. */
static int wait_fd(int fd, short events, uint64_t deadline) {
  for (;;) {
    struct pollfd p = {.fd = fd, .events = events, .revents = 0};
    int rc = poll(&p, 1, poll_timeout(deadline, cli_now_ms()));
    if (rc < 0 && errno == EINTR) {
      continue;
    }
    return rc;
  }
}

/* Finishes a non-blocking connect; returns 0, -1 (errno set) or -2 on timeout. */
static int connect_wait(int fd, const struct addrinfo *ai, uint64_t deadline) {
  if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) {
    return 0;
  }
  if (errno != EINPROGRESS) {
    return -1;
  }
  int rc = wait_fd(fd, POLLOUT, deadline);
  if (rc <= 0) {
    return rc == 0 ? -2 : -1;
  }
  int soerr = 0;
  socklen_t len = sizeof soerr;
  if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) != 0) {
    return -1;
  }
  if (soerr != 0) {
    errno = soerr;
    return -1;
  }
  return 0;
}

/* Connects to one address; returns a non-blocking socket, -1 (errno set) or -2 on timeout. */
static int connect_one(const struct addrinfo *ai, uint64_t deadline) {
  int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
  if (fd < 0) {
    return -1;
  }
  int flags = fcntl(fd, F_GETFL);
  int rc =
      flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0 ? -1 : connect_wait(fd, ai, deadline);
  if (rc != 0) {
    int saved = errno;
    close(fd);
    errno = saved;
    return rc;
  }
  return fd;
}

int gateway_connect(const char *host, const char *port, uint64_t timeout_ms) {
  struct addrinfo hints;
  memset(&hints, 0, sizeof hints);
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_ADDRCONFIG;
  struct addrinfo *res = NULL;
  int gai = getaddrinfo(host, port, &hints, &res);
  if (gai != 0) {
    fprintf(stderr, "cpns-gateway: cannot resolve %s: %s\n", host, gai_strerror(gai));
    return -1;
  }
  uint64_t deadline = cli_now_ms() + timeout_ms;
  int fd = -1;
  int last_errno = 0;
  int timed_out = 0;
  for (const struct addrinfo *ai = res; ai != NULL && fd < 0; ai = ai->ai_next) {
    fd = connect_one(ai, deadline);
    if (fd == -2) {
      timed_out = 1;
      fd = -1;
      break;
    }
    if (fd < 0) {
      last_errno = errno;
    }
  }
  freeaddrinfo(res);
  if (fd < 0) {
    if (timed_out) {
      fprintf(stderr, "cpns-gateway: cannot connect to %s port %s: no answer within %llu ms\n",
              host, port, (unsigned long long)timeout_ms);
    } else {
      fprintf(stderr, "cpns-gateway: cannot connect to %s port %s: %s\n", host, port,
              strerror(last_errno));
    }
  }
  return fd;
}

/* Sends all of buf within io_timeout_ms; returns 0 or -1 with a message. */
static int send_all(int fd, const uint8_t *buf, size_t len, uint64_t io_timeout_ms) {
  uint64_t deadline = cli_now_ms() + io_timeout_ms;
  size_t off = 0;
  while (off < len) {
    ssize_t n = send(fd, buf + off, len - off, MSG_NOSIGNAL);
    if (n > 0) {
      off += (size_t)n;
      continue;
    }
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      int rc = wait_fd(fd, POLLOUT, deadline);
      if (rc > 0) {
        continue;
      }
      if (rc == 0) {
        fprintf(stderr, "cpns-gateway: the server does not take our data (%llu ms)\n",
                (unsigned long long)io_timeout_ms);
        return -1;
      }
    }
    fprintf(stderr, "cpns-gateway: connection to the server lost while sending: %s\n",
            strerror(errno));
    return -1;
  }
  return 0;
}

/* Hands the engine its next PDU and sends it. */
static int do_send(cpns_gateway *gw, int fd, uint64_t io_timeout_ms) {
  uint8_t out[CPNS_PDU_MAX_ENCODED];
  size_t written = 0;
  int rv = cpns_gateway_write(gw, out, sizeof out, &written, cli_now_ms());
  if (rv != 0) {
    /* Cannot happen with a CPNS_PDU_MAX_ENCODED buffer; the engine says why. */
    fprintf(stderr, "cpns-gateway: internal error: %s\n", cpns_strerror(rv));
    return GW_EXIT_LOCAL;
  }
  return send_all(fd, out, written, io_timeout_ms) == 0 ? 0 : GW_EXIT_NETWORK;
}

/* One step of RECEIVE: wait for bytes or the deadline; the engine takes all it is given. */
static int do_receive(cpns_gateway *gw, int fd) {
  int rc = wait_fd(fd, POLLIN, cpns_gateway_get_expiry(gw));
  if (rc < 0) {
    fprintf(stderr, "cpns-gateway: poll: %s\n", strerror(errno));
    return GW_EXIT_NETWORK;
  }
  if (rc == 0) {
    uint64_t now = cli_now_ms();
    if (now >= cpns_gateway_get_expiry(gw)) {
      (void)cpns_gateway_handle_expiry(gw, now);
    }
    return 0;
  }
  uint8_t buf[CPNS_PDU_MAX_ENCODED];
  ssize_t n = recv(fd, buf, sizeof buf, 0);
  if (n < 0) {
    if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK) {
      return 0;
    }
    fprintf(stderr, "cpns-gateway: connection to the server lost: %s\n", strerror(errno));
    return GW_EXIT_NETWORK;
  }
  /* n == 0 tells the engine the stream ended: it fails with
   * CPNS_ERR_PEER_CLOSED. Any failure moves it to FAILED; the caller reads
   * why from it. */
  (void)cpns_gateway_read(gw, buf, (size_t)n, cli_now_ms());
  return 0;
}

int gateway_exchange(cpns_gateway *gw, int fd, uint64_t io_timeout_ms) {
  for (;;) {
    int rc = 0;
    switch (cpns_gateway_get_state(gw)) {
    case CPNS_GATEWAY_SEND: rc = do_send(gw, fd, io_timeout_ms); break;
    case CPNS_GATEWAY_RECEIVE: rc = do_receive(gw, fd); break;
    case CPNS_GATEWAY_DERIVE:
      /* A failure moves the engine to FAILED; the caller reports it. */
      (void)gateway_derive(gw);
      break;
    case CPNS_GATEWAY_DONE:
    case CPNS_GATEWAY_FAILED:
    default: return 0;
    }
    if (rc != 0) {
      return rc;
    }
  }
}
