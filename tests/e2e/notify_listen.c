/*
 * notify_listen SOCKET TIMEOUT_MS: a service manager's end of sd_notify()
 * for the tests. Binds a Unix datagram socket at SOCKET, prints "bound",
 * then prints each message received with its newlines as spaces, one line
 * each (stdout flushed per line), until TIMEOUT_MS pass without one or its
 * standard input closes. Exit status 0, or 1 on a setup error.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: notify_listen SOCKET TIMEOUT_MS\n");
    return 1;
  }
  struct sockaddr_un sun;
  memset(&sun, 0, sizeof(sun));
  sun.sun_family = AF_UNIX;
  if (strlen(argv[1]) >= sizeof(sun.sun_path)) {
    fprintf(stderr, "notify_listen: socket path too long\n");
    return 1;
  }
  strcpy(sun.sun_path, argv[1]);
  int timeout = atoi(argv[2]);
  int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0 || bind(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0) {
    fprintf(stderr, "notify_listen: %s: %s\n", argv[1], strerror(errno));
    return 1;
  }
  printf("bound\n");
  fflush(stdout);
  for (;;) {
    struct pollfd p[2] = {{.fd = fd, .events = POLLIN}, {.fd = 0, .events = POLLIN}};
    int n = poll(p, 2, timeout);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0 || (p[1].revents & (POLLIN | POLLHUP)) != 0) {
      break; /* quiet for too long, or the test is done */
    }
    char msg[4096];
    ssize_t len = recv(fd, msg, sizeof(msg) - 1, 0);
    if (len < 0) {
      continue;
    }
    for (ssize_t i = 0; i < len; i++) {
      if (msg[i] == '\n' || msg[i] == '\0') {
        msg[i] = ' ';
      }
    }
    msg[len] = '\0';
    printf("%s\n", msg);
    fflush(stdout);
  }
  close(fd);
  unlink(argv[1]);
  return 0;
}
