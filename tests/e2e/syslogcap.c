/*
 * syslogcap: a syslog socket for the end-to-end tests.
 *
 *   syslogcap PATH COUNT
 *
 * Binds a Unix datagram socket at PATH (what /dev/log is), prints "ready" on
 * stdout, then prints each datagram received as one line (a line feed in one
 * as "\n") until COUNT were received: exit 0; after 30 s without one, exit 1.
 */
#define _POSIX_C_SOURCE 200809L

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define IDLE_TIMEOUT_MS 30000

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: syslogcap PATH COUNT\n");
    return 2;
  }
  struct sockaddr_un sun;
  memset(&sun, 0, sizeof(sun));
  sun.sun_family = AF_UNIX;
  if (strlen(argv[1]) >= sizeof(sun.sun_path)) {
    fprintf(stderr, "syslogcap: path too long\n");
    return 2;
  }
  strcpy(sun.sun_path, argv[1]);
  long count = strtol(argv[2], NULL, 10);
  int fd = socket(AF_UNIX, SOCK_DGRAM, 0);
  if (fd < 0 || bind(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0) {
    perror("syslogcap");
    return 1;
  }
  printf("ready\n");
  fflush(stdout);
  char buf[8192];
  for (long got = 0; got < count; got++) {
    struct pollfd p = {.fd = fd, .events = POLLIN};
    if (poll(&p, 1, IDLE_TIMEOUT_MS) != 1) {
      fprintf(stderr, "syslogcap: nothing for %d ms after %ld datagram(s)\n", IDLE_TIMEOUT_MS, got);
      return 1;
    }
    ssize_t n = recv(fd, buf, sizeof(buf), 0);
    if (n < 0) {
      perror("syslogcap: recv");
      return 1;
    }
    for (ssize_t i = 0; i < n; i++) {
      if (buf[i] == '\n') {
        fputs("\\n", stdout);
      } else {
        putchar(buf[i]);
      }
    }
    putchar('\n');
    fflush(stdout);
  }
  return 0;
}
