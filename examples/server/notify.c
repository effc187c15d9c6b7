/*
 * cpns-server readiness notification (see notify.h). A failure to notify
 * is not fatal: the service manager times the start out and says so.
 */
#define _POSIX_C_SOURCE 200809L

#include <config.h> /* HAVE_LIBSYSTEMD */

#include "examples/server/notify.h"

#include <stdio.h>
#include <time.h>

#ifdef HAVE_LIBSYSTEMD
#include <systemd/sd-daemon.h>

void server_notify_ready(const char *status) { sd_notifyf(0, "READY=1\nSTATUS=%s", status); }

void server_notify_reloading(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  sd_notifyf(0, "RELOADING=1\nMONOTONIC_USEC=%llu",
             (unsigned long long)ts.tv_sec * 1000000ull + (unsigned long long)ts.tv_nsec / 1000);
}

void server_notify_stopping(void) { sd_notify(0, "STOPPING=1"); }
#else
void server_notify_ready(const char *status) { (void)status; }
void server_notify_reloading(void) {}
void server_notify_stopping(void) {}
#endif
