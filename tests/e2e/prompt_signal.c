/*
 * prompt_signal: cpns-gateway's password prompt turns terminal echo off; a
 * SIGINT (^C), SIGQUIT (^\), SIGTERM or SIGHUP arriving at the prompt must
 * give the terminal its echo back before the program dies of that signal.
 *
 * The gateway ($CPNS_GATEWAY, default examples/cpns-gateway) runs on a new
 * pseudo-terminal as its controlling terminal. Once its prompt is read from
 * the terminal (so echo is off), the signal is sent: ^C and ^\ as typed
 * characters, the others with kill(). The test then reads the terminal's
 * settings. Exit 0 pass, 1 fail, 77 when no pseudo-terminal can be had.
 */
#define _XOPEN_SOURCE 700

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

/* Safety bounds so that a broken program cannot hang the test suite. */
#define PROMPT_WAIT_MS 20000
#define CASE_ALARM_S 60

static const char *gateway;
static char dir[256];

static int fail(const char *what, int sig) {
  fprintf(stderr, "FAIL: %s (signal %d)\n", what, sig);
  return 1;
}

/* Runs the gateway on the terminal slave_name; never returns. */
static void child(const char *slave_name) {
  char ks[300], dk[300];
  struct rlimit no_core = {0, 0};
  static const int sigs[] = {SIGINT, SIGQUIT, SIGTERM, SIGHUP};
  sigset_t none;
  setrlimit(RLIMIT_CORE, &no_core); /* SIGQUIT would dump core */
  /* Whatever ran this test (nohup, a CI runner) must not decide the outcome. */
  for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) {
    signal(sigs[i], SIG_DFL);
  }
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
  if (setsid() < 0) {
    _exit(126);
  }
  int tty = open(slave_name, O_RDWR); /* the first terminal opened: controlling */
  if (tty < 0) {
    _exit(126);
  }
  dup2(tty, 0);
  dup2(tty, 1);
  dup2(tty, 2);
  if (tty > 2) {
    close(tty);
  }
  snprintf(ks, sizeof ks, "%s/gw.ks", dir);
  snprintf(dk, sizeof dk, "%s/gw.dk", dir);
  /* The prompt comes before any connection: the port needs no server. */
  execl(gateway, "cpns-gateway", "assign", "--server", "127.0.0.1:9", "--entity-id",
        "urn:dev:mac:0011223344ff", "--user", "alice@example.com", "--keystore", ks, "--device-key",
        dk, (char *)NULL);
  _exit(127);
}

/* Reads the master side until the prompt has been written; 0 or -1. */
static int wait_for_prompt(int master) {
  char seen[4096];
  size_t len = 0;
  for (;;) {
    struct pollfd p = {master, POLLIN, 0};
    int n = poll(&p, 1, PROMPT_WAIT_MS);
    if (n <= 0) {
      return -1;
    }
    ssize_t r = read(master, seen + len, sizeof seen - 1 - len);
    if (r <= 0) {
      return -1;
    }
    len += (size_t)r;
    seen[len] = '\0';
    if (strstr(seen, "Password for alice@example.com: ") != NULL) {
      return 0;
    }
    if (len == sizeof seen - 1) {
      return -1;
    }
  }
}

static int echo_on(int fd) {
  struct termios t;
  return tcgetattr(fd, &t) == 0 && (t.c_lflag & ECHO) != 0;
}

static int run_case(int sig) {
  int master = posix_openpt(O_RDWR | O_NOCTTY);
  if (master < 0 || grantpt(master) != 0 || unlockpt(master) != 0) {
    printf("SKIP: no pseudo-terminal: %s\n", strerror(errno));
    return 77;
  }
  const char *name = ptsname(master);
  /* Our own handle on the terminal, to read its settings after the child is gone. */
  int slave = name != NULL ? open(name, O_RDWR | O_NOCTTY) : -1;
  if (slave < 0) {
    printf("SKIP: cannot open the pseudo-terminal: %s\n", strerror(errno));
    return 77;
  }
  if (!echo_on(slave)) {
    return fail("a new terminal without echo", sig);
  }
  pid_t pid = fork();
  if (pid < 0) {
    return fail("fork", sig);
  }
  if (pid == 0) {
    child(name);
  }
  int rc = 0, status = 0;
  alarm(CASE_ALARM_S);
  if (wait_for_prompt(master) != 0) {
    rc = fail("no password prompt on the terminal", sig);
    kill(pid, SIGKILL);
  } else if (echo_on(slave)) {
    rc = fail("echo is still on at the prompt", sig);
    kill(pid, SIGKILL);
  } else if (sig == SIGINT) {
    rc = write(master, "\x03", 1) == 1 ? 0 : fail("typing ^C", sig);
  } else if (sig == SIGQUIT) {
    rc = write(master, "\x1c", 1) == 1 ? 0 : fail("typing ^\\", sig);
  } else {
    rc = kill(pid, sig) == 0 ? 0 : fail("kill", sig);
  }
  if (waitpid(pid, &status, 0) != pid) {
    rc = fail("waitpid", sig);
  }
  alarm(0);
  if (rc == 0 && !(WIFSIGNALED(status) && WTERMSIG(status) == sig)) {
    fprintf(stderr, "status %#x\n", (unsigned)status);
    rc = fail("the gateway did not die of the signal", sig);
  }
  if (rc == 0 && !echo_on(slave)) {
    rc = fail("terminal echo left off", sig);
  }
  if (rc == 0) {
    printf("ok: signal %d at the prompt: the gateway died of it and echo is back on\n", sig);
  }
  close(slave);
  close(master);
  return rc;
}

int main(void) {
  static const int sigs[] = {SIGINT, SIGQUIT, SIGTERM, SIGHUP};
  char path[300];
  int rc = 0;
  gateway = getenv("CPNS_GATEWAY");
  if (gateway == NULL) {
    gateway = "examples/cpns-gateway";
  }
  if (access(gateway, X_OK) != 0) {
    fprintf(stderr, "missing program %s (build first, or set CPNS_GATEWAY)\n", gateway);
    return 99;
  }
  const char *tmp = getenv("TMPDIR");
  snprintf(dir, sizeof dir, "%s/cpns-prompt.XXXXXX", tmp != NULL ? tmp : "/tmp");
  if (mkdtemp(dir) == NULL) {
    return 99;
  }
  for (size_t i = 0; i < sizeof sigs / sizeof sigs[0] && rc == 0; i++) {
    rc = run_case(sigs[i]);
  }
  snprintf(path, sizeof path, "%s/gw.dk", dir);
  unlink(path);
  rmdir(dir);
  return rc;
}
