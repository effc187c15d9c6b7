/*
 * cpns-server and its service manager: sd_notify() readiness, reload and
 * stop messages (libsystemd, when configure found it; otherwise nothing is
 * sent). Without NOTIFY_SOCKET in the environment nothing is sent either.
 */
#ifndef CPNS_EXAMPLES_SERVER_NOTIFY_H
#define CPNS_EXAMPLES_SERVER_NOTIFY_H

/** "READY=1" with status text (the listener is bound, the store runs). */
void server_notify_ready(const char *status);

/** "RELOADING=1" (with MONOTONIC_USEC, as systemd 253 wants it). */
void server_notify_reloading(void);

/** "STOPPING=1". */
void server_notify_stopping(void);

#endif /* CPNS_EXAMPLES_SERVER_NOTIFY_H */
