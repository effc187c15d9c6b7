/*
 * cpns-server: command-line front end (init, user add/del/passwd/list,
 * serve, assignments, assignment revoke, audit). Exit status: 0 success,
 * 1 failure, 2 usage error, 3 refused by the state of the database (an
 * Entity ID not bound, a user with assignments).
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <sodium.h>

#include <cpns/crypto.h>
#include <cpns/ident.h>

#include "examples/common/cli.h"
#include "examples/common/json.h"
#include "examples/server/store.h"
#include "examples/server/json_out.h"
#include "examples/server/keyfile.h"
#include "examples/server/log.h"
#include "examples/server/loop.h"
#include "examples/server/conffile.h"
#include "examples/server/timearg.h"

#define EXIT_USAGE 2
#define EXIT_REFUSED 3

/* The source address of the audit rows the commands write. */
#define COMMAND_SOURCE "local"

static const char USAGE[] =
    "Usage: cpns-server COMMAND [OPTIONS]\n"
    "\n"
    "CPNS server: assigns EUKeys to PN gateways (OMA CPNS).\n"
    "\n"
    "Commands:\n"
    "  init --db PATH --key-file PATH [--ops N] [--mem-kib N] [--suites LIST]\n"
    "                                     create the database and the key file\n"
    "  suites --db PATH [--set LIST]      show or change the enabled cipher suites\n"
    "  user add --db PATH --key-file PATH --user ID [--password-file F]\n"
    "           [--ops N] [--mem-kib N]\n"
    "  user del --db PATH --user ID [--revoke-assignments]\n"
    "  user passwd --db PATH --key-file PATH --user ID [--password-file F]\n"
    "  user list --db PATH [--json]\n"
    "  serve --db PATH --key-file PATH --listen HOST:PORT --realm REALM [limits]\n"
    "  assignments --db PATH [--history] [--entity-id URN] [--json]\n"
    "                                     list stored assignments (and their history)\n"
    "  assignment revoke --db PATH --entity-id URN [--reason TEXT]\n"
    "                                     end a binding\n"
    "  audit --db PATH [--since TIME] [--entity-id URN] [--user ID] [--json]\n"
    "                                     show the audit trail\n"
    "\n"
    "Run `cpns-server COMMAND --help` for a command's options.\n"
    "Exit status: 0 success, 1 failure, 2 usage error, 3 refused (an Entity ID\n"
    "not bound, a user with assignments).\n";

static const char USAGE_INIT[] =
    "Usage: cpns-server init --db PATH --key-file PATH [--ops N] [--mem-kib N]\n"
    "                        [--suites LIST]\n"
    "\n"
    "Creates the SQLite database and a new key file holding the server secret\n"
    "and the master key that seals EUKeys and credential records (mode 0600,\n"
    "created atomically; an existing key file is never replaced). Keep the key\n"
    "file apart from the database.\n"
    "The database stores the enrollment defaults: the Argon2id parameters\n"
    "`user add` uses and `serve` shows unknown User IDs, so that those cannot\n"
    "be told apart from enrolled users.\n"
    "The key file also holds the suite-2 server keys (OPRF seed, AKE key pair).\n"
    "  --ops N       default opsLimit (default 3)\n"
    "  --mem-kib N   default memLimitKiB (default 65536)\n"
    "  --suites LIST enabled cipher suites in preference order (default 2,1):\n"
    "                2 = OPAQUE-3DH (protocol v2), 1 = Argon2id challenge-response\n"
    "                (v1 and v2 gateways); `user add` makes a record for each\n";

static const char USAGE_SUITES[] =
    "Usage: cpns-server suites --db PATH [--set LIST]\n"
    "\n"
    "Prints the enabled cipher suites in preference order (\"suites: 2,1\"), or\n"
    "with --set changes them (LIST: 2,1, 1,2, 2 or 1). serve reads them when it\n"
    "starts. Users enrolled while a suite was disabled have no record for it:\n"
    "`user list` names them and how to enroll them again.\n";

static const char USAGE_USER_ADD[] =
    "Usage: cpns-server user add --db PATH --key-file PATH --user ID\n"
    "                            [--password-file F] [--ops N] [--mem-kib N]\n"
    "\n"
    "Enrolls a user: stores a credential record derived from the password\n"
    "(Argon2id; never the password) for every enabled suite (see suites),\n"
    "sealed under the key file. Without\n"
    "--password-file the password is asked twice on the terminal without echo.\n"
    "A password file holds the password octets; one trailing newline is stripped.\n"
    "It must be mode 0600 and not a symbolic link; - reads standard input.\n"
    "  --ops N       Argon2id opsLimit (default: the database's, see init)\n"
    "  --mem-kib N   Argon2id memLimitKiB (default: the database's)\n"
    "Other parameters than the database's defaults make the user\n"
    "distinguishable from unknown User IDs (a warning says so).\n"
    "Prints \"user: ID\" (the normalized User ID).\n";

static const char USAGE_USER_DEL[] =
    "Usage: cpns-server user del --db PATH --user ID [--revoke-assignments]\n"
    "\n"
    "Deletes a user (credential records, lockout row). Refused (exit status 3)\n"
    "while the user has assignments, unless --revoke-assignments revokes them\n"
    "in the same transaction (see assignment revoke): a User ID enrolled again\n"
    "later inherits no binding.\n";

static const char USAGE_USER_PASSWD[] =
    "Usage: cpns-server user passwd --db PATH --key-file PATH --user ID\n"
    "                               [--password-file F] [--ops N] [--mem-kib N]\n"
    "\n"
    "Changes a user's password: enrolls the user again in place, with a record\n"
    "for every enabled suite, as user add does (same options, same password\n"
    "input). Assignments stay; the user's lockout row is cleared (a running\n"
    "serve on SQLite keeps its own count until it expires). The old password\n"
    "stops working at once. Prints \"user: ID\" and \"suites: LIST\".\n";

static const char USAGE_REVOKE[] =
    "Usage: cpns-server assignment revoke --db PATH --entity-id URN [--reason TEXT]\n"
    "\n"
    "Ends the binding of an Entity ID: any enrolled user may then be assigned a\n"
    "key for it. The revoked key stays in the history (its EUKey sealed), with\n"
    "the reason; an audit row records it. Prints \"revoked: URN\" (normalized).\n"
    "An Entity ID that is not bound: exit status 3.\n";

static const char USAGE_AUDIT[] =
    "Usage: cpns-server audit --db PATH [--since TIME] [--entity-id URN] [--user ID]\n"
    "\n"
    "Prints the audit trail, oldest first, one line per event:\n"
    "  TIME EVENT entity=URN user=ID keyId=HEX source=ADDR result=TEXT\n"
    "(fields absent from an event are left out; TIME in UTC with ms). Events:\n"
    "assigned, replaced, conflict (refused: bound to another user), revoked,\n"
    "user-added, user-removed, user-passwd, lockout (a failure that started a\n"
    "block). Each is written in the transaction of the change it records.\n"
    "  --since TIME      events at or after TIME: 2026-11-30T01:00:00Z (UTC) or\n"
    "                    seconds since the epoch\n"
    "  --entity-id URN   events of this Entity ID\n"
    "  --user ID         events of this User ID\n"
    "  --json            one JSON document instead (doc/json.md)\n";

static const char USAGE_USER_LIST[] =
    "Usage: cpns-server user list --db PATH [--json]\n"
    "\n"
    "Lists the enrollment defaults (\"default-ops: N\", \"default-mem-kib: N\"),\n"
    "the enabled suites (\"enabled-suites: 2,1\"), an empty line, then one block\n"
    "per user: \"user: ID\", \"suites: LIST\" (the suites it has a record for),\n"
    "\"ops: N\", \"mem-kib: N\", \"defaults: yes\" or \"defaults: no (...)\" for\n"
    "a user that can be told apart from unknown User IDs; for a user lacking a\n"
    "record of an enabled suite (enrolled before it was enabled) \"missing: ...\"\n"
    "and \"re-enroll: COMMAND\"; then an empty line.\n"
    "  --json   one JSON document instead (doc/json.md)\n";

static const char USAGE_ASSIGNMENTS[] =
    "Usage: cpns-server assignments --db PATH [--history] [--entity-id URN] [--json]\n"
    "\n"
    "Lists assignments, one block per Entity ID: \"entity: ...\", \"user: ...\",\n"
    "\"mode: pn-gw|pne-pn-gw\", \"keyId: HEX\", \"time: YYYY-MM-DDTHH:MM:SSZ\",\n"
    "\"source: HOST:PORT\" (when known), then an empty line. EUKeys stay sealed.\n"
    "  --history         every key each Entity ID had, oldest first, with\n"
    "                    \"state: current|replaced|revoked\", \"ended: TIME\" and\n"
    "                    \"reason: TEXT\" (revoked)\n"
    "  --entity-id URN   this Entity ID only\n"
    "  --json            one JSON document instead (doc/json.md)\n";

static const char USAGE_SERVE[] =
    "Usage: cpns-server serve --db PATH --key-file PATH --listen HOST:PORT\n"
    "                         --realm REALM [OPTIONS]\n"
    "       cpns-server serve --config FILE [OPTIONS]\n"
    "\n"
    "Serves EUKey assignments until SIGINT or SIGTERM. Unknown User IDs get\n"
    "the enrollment defaults stored by init. A schema-1 database is upgraded\n"
    "first (its credential records sealed), and a version-1 key file gains the\n"
    "suite-2 server keys. Serves the suites the database enables. Prints\n"
    "\"listening on HOST:PORT\" on stderr once bound (port 0 picks a free port)\n"
    "and one line per exchange.\n"
    "  --max-pdu N              longest PDU accepted, octets (default 4096)\n"
    "  --pdu-timeout-ms N       time for the peer to send one PDU (default 10000)\n"
    "  --exchange-timeout-ms N  time for a whole exchange (default 120000)\n"
    "  --max-conns N            open connections in total (default 1024)\n"
    "  --max-conns-per-addr N   open connections per IPv4 address or IPv6 /64 (default 16)\n"
    "  --source-rate N          first KeyRequests per second per IPv4 address or IPv6 /64\n"
    "                           (default 20); beyond the burst they get tryLater\n"
    "  --source-burst N         ... and at once (default 100)\n"
    "  --lockout-threshold N    failed attempts before tryLater (default 5)\n"
    "  --lockout-base-ms N      first back-off, doubled per further attempt (default 1000)\n"
    "  --lockout-max-ms N       longest back-off (default 900000)\n"
    "  --lockout-window-ms N    failures forgotten this long after the last one\n"
    "                           (default 3600000; at least --lockout-max-ms)\n"
    "  --lockout-table N        User IDs of the lockout table held in memory (default 65536)\n"
    "  --store-batch N          assignments per store transaction at most (default 256)\n"
    "  --metrics-listen HOST:PORT  serve Prometheus metrics on GET /metrics there;\n"
    "                           prints \"metrics on HOST:PORT\" once bound\n"
    "  --log stderr|syslog      where the exchange lines go (default stderr)\n"
    "  --log-facility NAME      syslog facility: daemon (default), user, auth,\n"
    "                           authpriv, local0..local7\n"
    "  --config FILE            an INI file whose [serve] section holds these options\n"
    "                           as `name = value` (the command line wins); SIGHUP\n"
    "                           rereads it: --max-conns-per-addr, --source-rate,\n"
    "                           --source-burst, --lockout-* but --lockout-table,\n"
    "                           --log and --log-facility change live, the\n"
    "                           others wait for a restart\n"
    "Under a service manager (NOTIFY_SOCKET) it sends READY=1 once it serves,\n"
    "RELOADING=1 and READY=1 around a reload, STOPPING=1 when it stops.\n";

/* One kind of identifier an option takes, and how it is normalized. */
typedef struct ident_option {
  const char *option;   /**< "--user" */
  const char *what;     /**< "User ID", in messages */
  const char *too_long; /**< what is expected when the argument is too long */
  size_t max;           /**< CPNS_USER_ID_MAX or CPNS_ENTITY_ID_MAX */
  int (*normalize)(const uint8_t *in, size_t inlen, uint8_t *out, size_t outlen,
                   size_t *outlen_written, cpns_ident_error *err);
} ident_option;

static const ident_option USER_ID_OPTION = {"--user", "User ID", "at most 253 octets",
                                            CPNS_USER_ID_MAX, cpns_user_id_normalize};
static const ident_option ENTITY_ID_OPTION = {"--entity-id", "Entity ID", "a shorter Entity ID",
                                              CPNS_ENTITY_ID_MAX, cpns_entity_id_normalize};

/* Parses an identifier option into its normal form (out holds k->max
 * octets). Returns 0, or -1 after a message on stderr. */
static int normalize_ident(const ident_option *k, const char *arg, uint8_t *out, size_t *out_len) {
  size_t len = strlen(arg);
  cpns_ident_error err;
  uint8_t buf[CPNS_ENTITY_ID_MAX > CPNS_USER_ID_MAX ? CPNS_ENTITY_ID_MAX : CPNS_USER_ID_MAX];
  int rc;
  if (len > k->max) {
    rc = CPNS_ERR_ID_TOO_LONG;
    err.offset = k->max;
    err.expected = k->too_long;
  } else {
    rc = k->normalize((const uint8_t *)arg, len, buf, k->max, out_len, &err);
  }
  if (rc != 0) {
    cli_print_ident_error(k->option, k->what, (const uint8_t *)arg, len, rc, &err);
    return -1;
  }
  memcpy(out, buf, *out_len);
  return 0;
}

/* Parses a User ID option into its normal form. Returns 0 or -1. */
static int normalize_user(const char *arg, uint8_t *out, size_t *out_len) {
  return normalize_ident(&USER_ID_OPTION, arg, out, out_len);
}

/* Parses an Entity ID option into its normal form. Returns 0 or -1. */
static int normalize_entity(const char *arg, uint8_t *out, size_t *out_len) {
  return normalize_ident(&ENTITY_ID_OPTION, arg, out, out_len);
}

/*
 * "2,1" -> 21 (the digits are the suites in preference order, as the
 * database keeps them). Returns 0, or -1 with a message naming opt.
 */
static int suites_parse(const char *opt, const char *arg, uint32_t *out) {
  uint32_t v = 0;
  const char *p = arg;
  for (int n = 0; n < 3; n++) {
    if ((*p != '1' && *p != '2') || (p[1] != ',' && p[1] != '\0')) {
      break;
    }
    v = v * 10 + (uint32_t)(*p - '0');
    if (p[1] == '\0') {
      if (server_db_suites_valid(v)) {
        *out = v;
        return 0;
      }
      break;
    }
    p += 2;
  }
  fprintf(stderr, "%s: expected the suites in preference order, each once: 2,1, 1,2, 2 or 1\n",
          opt);
  return -1;
}

/* 21 -> "2,1" (buf of 8). */
static const char *suites_format(char *buf, size_t len, uint32_t suites) {
  char digits[12];
  size_t o = 0;
  snprintf(digits, sizeof(digits), "%u", (unsigned)suites);
  for (const char *d = digits; *d != '\0' && o + 2 < len; d++) {
    if (o > 0) {
      buf[o++] = ',';
    }
    buf[o++] = *d;
  }
  buf[o] = '\0';
  return buf;
}

/* 1 if suite (1 or 2) is among suites (as the database keeps them). */
static int suites_has(uint32_t suites, int suite) {
  for (; suites != 0; suites /= 10) {
    if ((int)(suites % 10) == suite) {
      return 1;
    }
  }
  return 0;
}

/* Options common to every command. */
enum {
  OPT_DB = 1000,
  OPT_KEY_FILE,
  OPT_USER,
  OPT_PASSWORD_FILE,
  OPT_OPS,
  OPT_MEM_KIB,
  OPT_LISTEN,
  OPT_REALM,
  OPT_MAX_PDU,
  OPT_PDU_TIMEOUT,
  OPT_EXCHANGE_TIMEOUT,
  OPT_MAX_CONNS,
  OPT_MAX_CONNS_PER_ADDR,
  OPT_LOCKOUT_THRESHOLD,
  OPT_LOCKOUT_BASE,
  OPT_LOCKOUT_MAX,
  OPT_LOCKOUT_TABLE,
  OPT_FAKE_OPS,
  OPT_FAKE_MEM,
  OPT_STORE_BATCH,
  OPT_LOCKOUT_WINDOW,
  OPT_SOURCE_RATE,
  OPT_SOURCE_BURST,
  OPT_SUITES,
  OPT_SET,
  OPT_CONFIG,
  OPT_METRICS_LISTEN,
  OPT_LOG,
  OPT_LOG_FACILITY,
  OPT_ENTITY_ID,
  OPT_REASON,
  OPT_REVOKE_ASSIGNMENTS,
  OPT_HISTORY,
  OPT_SINCE,
  OPT_JSON,
  OPT_HELP
};

/* The long options of every command; a configuration file's keys too. */
static const struct option LONGOPTS[] = {
    {"db", required_argument, NULL, OPT_DB},
    {"key-file", required_argument, NULL, OPT_KEY_FILE},
    {"user", required_argument, NULL, OPT_USER},
    {"password-file", required_argument, NULL, OPT_PASSWORD_FILE},
    {"ops", required_argument, NULL, OPT_OPS},
    {"mem-kib", required_argument, NULL, OPT_MEM_KIB},
    {"listen", required_argument, NULL, OPT_LISTEN},
    {"realm", required_argument, NULL, OPT_REALM},
    {"max-pdu", required_argument, NULL, OPT_MAX_PDU},
    {"pdu-timeout-ms", required_argument, NULL, OPT_PDU_TIMEOUT},
    {"exchange-timeout-ms", required_argument, NULL, OPT_EXCHANGE_TIMEOUT},
    {"max-conns", required_argument, NULL, OPT_MAX_CONNS},
    {"max-conns-per-addr", required_argument, NULL, OPT_MAX_CONNS_PER_ADDR},
    {"lockout-threshold", required_argument, NULL, OPT_LOCKOUT_THRESHOLD},
    {"lockout-base-ms", required_argument, NULL, OPT_LOCKOUT_BASE},
    {"lockout-max-ms", required_argument, NULL, OPT_LOCKOUT_MAX},
    {"lockout-table", required_argument, NULL, OPT_LOCKOUT_TABLE},
    {"fake-ops", required_argument, NULL, OPT_FAKE_OPS},
    {"fake-mem-kib", required_argument, NULL, OPT_FAKE_MEM},
    {"store-batch", required_argument, NULL, OPT_STORE_BATCH},
    {"lockout-window-ms", required_argument, NULL, OPT_LOCKOUT_WINDOW},
    {"source-rate", required_argument, NULL, OPT_SOURCE_RATE},
    {"source-burst", required_argument, NULL, OPT_SOURCE_BURST},
    {"suites", required_argument, NULL, OPT_SUITES},
    {"set", required_argument, NULL, OPT_SET},
    {"metrics-listen", required_argument, NULL, OPT_METRICS_LISTEN},
    {"log", required_argument, NULL, OPT_LOG},
    {"log-facility", required_argument, NULL, OPT_LOG_FACILITY},
    {"entity-id", required_argument, NULL, OPT_ENTITY_ID},
    {"reason", required_argument, NULL, OPT_REASON},
    {"revoke-assignments", no_argument, NULL, OPT_REVOKE_ASSIGNMENTS},
    {"history", no_argument, NULL, OPT_HISTORY},
    {"since", required_argument, NULL, OPT_SINCE},
    {"json", no_argument, NULL, OPT_JSON},
    {"config", required_argument, NULL, OPT_CONFIG},
    {"help", no_argument, NULL, OPT_HELP},
    {NULL, 0, NULL, 0}};

/* String values read from a configuration file (db, key-file, listen, realm). */
#define FILE_STRINGS_MAX 8

typedef struct options {
  const char *db, *key_file, *user, *password_file, *listen, *realm, *config;
  const char *entity_id, *reason, *since;
  int revoke_assignments, history;
  uint32_t suites; /**< --suites / --set: as server_db_set_suites() takes them; 0 = not given */
  uint64_t ops, mem_kib;
  int json; /**< --json */
  server_log_target log_target;
  int log_facility; /**< 0 = LOG_DAEMON */
  server_config serve;
  uint64_t file_keys;                   /**< bit (code - OPT_DB): key seen in the file */
  char *file_strings[FILE_STRINGS_MAX]; /**< owned copies of the file's values */
  size_t n_file_strings;
} options;

static const char *required_value(const options *o, int code);

static void options_free(options *o) {
  for (size_t i = 0; i < o->n_file_strings; i++) {
    free(o->file_strings[i]);
  }
  o->n_file_strings = 0;
}

static int allowed_has(const int *allowed, int code) {
  for (const int *a = allowed; *a != 0; a++) {
    if (*a == code) {
      return 1;
    }
  }
  return 0;
}

/*
 * Sets option code to arg in *o: the one definition of what each option
 * takes, for the command line and the configuration file. label names the
 * option in messages ("--max-pdu", or "FILE:LINE: max-pdu"). Returns 0, or
 * -1 with a message on stderr.
 */
static int apply_option(options *o, int code, const char *label, const char *arg) {
  const uint64_t day_ms = 24ull * 3600 * 1000;
  uint64_t v = 0;
  int rc = 0;
  switch (code) {
  case OPT_DB: o->db = arg; break;
  case OPT_KEY_FILE: o->key_file = arg; break;
  case OPT_USER: o->user = arg; break;
  case OPT_PASSWORD_FILE: o->password_file = arg; break;
  case OPT_LISTEN: o->listen = arg; break;
  case OPT_REALM: o->realm = arg; break;
  case OPT_CONFIG: o->config = arg; break;
  case OPT_ENTITY_ID: o->entity_id = arg; break;
  case OPT_REASON: o->reason = arg; break;
  case OPT_REVOKE_ASSIGNMENTS: o->revoke_assignments = 1; break;
  case OPT_HISTORY: o->history = 1; break;
  case OPT_SINCE: o->since = arg; break;
  case OPT_JSON: o->json = 1; break;
  case OPT_METRICS_LISTEN: o->serve.metrics_listen = arg; break;
  case OPT_LOG:
    if (server_log_target_parse(arg, &o->log_target) != 0) {
      fprintf(stderr, "%s: expected stderr or syslog, got \"%s\"\n", label, arg);
      rc = -1;
    }
    break;
  case OPT_LOG_FACILITY:
    if (server_log_facility_parse(arg, &o->log_facility) != 0) {
      fprintf(stderr, "%s: expected daemon, user, auth, authpriv or local0..local7, got \"%s\"\n",
              label, arg);
      rc = -1;
    }
    break;
  case OPT_OPS:
    rc = cli_parse_u64(label, arg, CPNS_OPS_LIMIT_MIN, CPNS_OPS_LIMIT_MAX, &o->ops);
    break;
  case OPT_MEM_KIB:
    rc = cli_parse_u64(label, arg, CPNS_MEM_LIMIT_KIB_MIN, CPNS_MEM_LIMIT_KIB_MAX, &o->mem_kib);
    break;
  case OPT_MAX_PDU:
    rc = cli_parse_u64(label, arg, 16, 1 << 20, &v);
    o->serve.max_pdu_len = (size_t)v;
    break;
  case OPT_PDU_TIMEOUT: rc = cli_parse_u64(label, arg, 1, day_ms, &o->serve.pdu_timeout_ms); break;
  case OPT_EXCHANGE_TIMEOUT:
    rc = cli_parse_u64(label, arg, 1, day_ms, &o->serve.exchange_timeout_ms);
    break;
  case OPT_MAX_CONNS:
    rc = cli_parse_u64(label, arg, 1, 1000000, &v);
    o->serve.max_conns = (size_t)v;
    break;
  case OPT_MAX_CONNS_PER_ADDR:
    rc = cli_parse_u64(label, arg, 1, 1000000, &v);
    o->serve.max_conns_per_addr = (size_t)v;
    break;
  case OPT_LOCKOUT_THRESHOLD:
    rc = cli_parse_u64(label, arg, 1, 1000000, &v);
    o->serve.lockout.threshold = (uint32_t)v;
    break;
  case OPT_LOCKOUT_BASE:
    rc = cli_parse_u64(label, arg, 1, day_ms, &o->serve.lockout.base_ms);
    break;
  case OPT_LOCKOUT_MAX: rc = cli_parse_u64(label, arg, 1, day_ms, &o->serve.lockout.max_ms); break;
  case OPT_LOCKOUT_TABLE:
    rc = cli_parse_u64(label, arg, 1, 16000000, &v);
    o->serve.lockout.capacity = (size_t)v;
    break;
  case OPT_LOCKOUT_WINDOW:
    rc = cli_parse_u64(label, arg, 1, 30 * day_ms, &o->serve.lockout.window_ms);
    break;
  case OPT_SOURCE_RATE:
    rc = cli_parse_u64(label, arg, 1, 1000000, &v);
    o->serve.source_rate = (uint32_t)v;
    break;
  case OPT_SOURCE_BURST:
    rc = cli_parse_u64(label, arg, 1, 1000000, &v);
    o->serve.source_burst = (uint32_t)v;
    break;
  case OPT_FAKE_OPS:
  case OPT_FAKE_MEM:
    /* Removed: parameters apart from enrollment's revealed who exists. */
    fprintf(stderr,
            "%s was removed: unknown User IDs get the enrollment defaults stored "
            "in the database (cpns-server init --ops N --mem-kib N)\n",
            label);
    rc = -1;
    break;
  case OPT_STORE_BATCH:
    rc = cli_parse_u64(label, arg, 1, 100000, &v);
    o->serve.store_batch_max = (size_t)v;
    break;
  case OPT_SUITES:
  case OPT_SET: rc = suites_parse(label, arg, &o->suites); break;
  default: break;
  }
  return rc;
}

/* What a configuration file is read with: the command's options. */
typedef struct file_ctx {
  options *o;
  const int *allowed;
} file_ctx;

/* server_config_key_fn: one key of [serve], an option of the command. */
static int file_key(void *arg, const char *where, const char *key, const char *value) {
  file_ctx *f = arg;
  const struct option *l = LONGOPTS;
  while (l->name != NULL && strcmp(l->name, key) != 0) {
    l = l + 1;
  }
  if (l->name == NULL || l->val == OPT_HELP || l->val == OPT_CONFIG ||
      !allowed_has(f->allowed, l->val)) {
    fprintf(stderr, "%s: unknown key \"%s\"%s\n", where, key,
            l->name != NULL && l->val == OPT_CONFIG ? " (a file names no other file)"
            : l->name != NULL && l->val != OPT_HELP ? " (not an option of serve)"
                                                    : "");
    return -1;
  }
  uint64_t bit = (uint64_t)1 << (l->val - OPT_DB);
  if ((f->o->file_keys & bit) != 0) {
    fprintf(stderr, "%s: duplicate key \"%s\"\n", where, key);
    return -1;
  }
  f->o->file_keys |= bit;
  char label[4300];
  snprintf(label, sizeof(label), "%s: %s", where, key);
  const char *v = value;
  if (l->val == OPT_DB || l->val == OPT_KEY_FILE || l->val == OPT_LISTEN || l->val == OPT_REALM ||
      l->val == OPT_METRICS_LISTEN) {
    /* A string option keeps its value: inih's buffer is reused. */
    char *copy = f->o->n_file_strings < FILE_STRINGS_MAX ? strdup(value) : NULL;
    if (copy == NULL) {
      fprintf(stderr, "%s: out of memory\n", where);
      return -1;
    }
    f->o->file_strings[f->o->n_file_strings++] = copy;
    v = copy;
  }
  if (*v == '\0') {
    fprintf(stderr, "%s: empty value\n", label);
    return -1;
  }
  return apply_option(f->o, l->val, label, v) == 0 ? 0 : -1;
}

/*
 * Parses argv for one command into *o, over what it holds: allowed lists
 * the option codes it takes (ends in 0). Returns -1 to go on, or the exit
 * code to return now: 0 when --help was printed, EXIT_USAGE on a usage error.
 */
static int parse_argv(int argc, char **argv, const int *allowed, const char *usage, options *o) {
  optind = 1;
  opterr = 1;
  int c;
  while ((c = getopt_long(argc, argv, "", LONGOPTS, NULL)) != -1) {
    if (c == OPT_HELP) {
      fputs(usage, stdout);
      return 0;
    }
    if (!allowed_has(allowed, c)) {
      if (c != '?') {
        fprintf(stderr, "option not valid for this command: %s\n", argv[optind - 1]);
      }
      fputs(usage, stderr);
      return EXIT_USAGE;
    }
    const char *name = "?";
    for (const struct option *l = LONGOPTS; l->name != NULL; l++) {
      if (l->val == c) {
        name = l->name;
      }
    }
    char label[64];
    snprintf(label, sizeof(label), "--%s", name);
    if (apply_option(o, c, label, optarg) != 0) {
      return EXIT_USAGE;
    }
  }
  if (optind < argc) {
    fprintf(stderr, "unexpected argument: %s\n", argv[optind]);
    fputs(usage, stderr);
    return EXIT_USAGE;
  }
  return -1;
}

/* The required options (ends in 0) are there. Returns -1, or EXIT_USAGE. */
static int check_required(const options *o, const int *required, const char *usage) {
  for (const int *r = required; *r != 0; r++) {
    if (required_value(o, *r) == NULL) {
      for (const struct option *l = LONGOPTS; l->name != NULL; l++) {
        if (l->val == *r) {
          fprintf(stderr, "missing --%s%s\n", l->name,
                  o->config != NULL ? " (on the command line or in the configuration file)" : "");
        }
      }
      fputs(usage, stderr);
      return EXIT_USAGE;
    }
  }
  return -1;
}

/*
 * Parses argv for one command into a zeroed *o (see parse_argv); required
 * (a subset of the string options, ends in 0) lists those it must have.
 */
static int parse_options(int argc, char **argv, const int *allowed, const int *required,
                         const char *usage, options *o) {
  memset(o, 0, sizeof(*o));
  int early = parse_argv(argc, argv, allowed, usage, o);
  return early >= 0 ? early : check_required(o, required, usage);
}

/*
 * serve's options: the configuration file of --config (if given), then the
 * command line over it. Returns as parse_argv(); *o is options_free()d by
 * the caller in any case.
 */
static int parse_serve_options(int argc, char **argv, const int *allowed, const int *required,
                               const char *usage, options *o) {
  memset(o, 0, sizeof(*o));
  int early = parse_argv(argc, argv, allowed, usage, o);
  if (early >= 0 || o->config == NULL) {
    return early >= 0 ? early : check_required(o, required, usage);
  }
  const char *config = o->config;
  memset(o, 0, sizeof(*o));
  file_ctx f = {.o = o, .allowed = allowed};
  if (server_config_read(config, file_key, &f) != 0) {
    return 1;
  }
  early = parse_argv(argc, argv, allowed, usage, o);
  return early >= 0 ? early : check_required(o, required, usage);
}

/* The value of a string option, for the required check. */
static const char *required_value(const options *o, int code) {
  switch (code) {
  case OPT_DB: return o->db;
  case OPT_KEY_FILE: return o->key_file;
  case OPT_USER: return o->user;
  case OPT_LISTEN: return o->listen;
  case OPT_REALM: return o->realm;
  case OPT_ENTITY_ID: return o->entity_id;
  default: return NULL;
  }
}

static int cmd_init(int argc, char **argv) {
  static const int allowed[] = {OPT_DB, OPT_KEY_FILE, OPT_OPS, OPT_MEM_KIB, OPT_SUITES, 0};
  static const int required[] = {OPT_DB, OPT_KEY_FILE, 0};
  options o;
  int early = parse_options(argc, argv, allowed, required, USAGE_INIT, &o);
  if (early >= 0) {
    return early;
  }
  server_db_defaults want = {.ops_limit = o.ops != 0 ? (uint32_t)o.ops : CPNS_KDF_OPS_DEFAULT,
                             .mem_limit_kib =
                                 o.mem_kib != 0 ? (uint32_t)o.mem_kib : CPNS_KDF_MEM_KIB_DEFAULT};
  cpns_kdf_params check = {.ops_limit = want.ops_limit, .mem_limit_kib = want.mem_limit_kib};
  if (cpns_crypto_kdf_check_enrollment(&check) != 0) {
    fprintf(stderr, "--ops %" PRIu32 " --mem-kib %" PRIu32 ": below Argon2id's minimums\n",
            want.ops_limit, want.mem_limit_kib);
    return EXIT_USAGE;
  }
  char shown[512]; /* o.db without a password */
  server_db_display_name(shown, sizeof(shown), o.db);
  server_db *db = NULL;
  if (server_db_open(&db, o.db, SERVER_DB_CREATE) != 0) {
    return 1;
  }
  server_db_defaults have;
  uint32_t have_suites = 0;
  int rc = 0;
  if (server_db_created(db)) {
    rc = server_db_set_defaults(db, &want);
    if (rc == 0) {
      rc = server_db_set_suites(db, o.suites != 0 ? o.suites : SERVER_DB_SUITES_DEFAULT);
    }
  } else if (o.suites != 0 && (rc = server_db_get_suites(db, &have_suites)) == 0 &&
             have_suites != o.suites) {
    char buf[8];
    fprintf(stderr, "database %s already exists with suites %s; not changed (cpns-server suites)\n",
            o.db, suites_format(buf, sizeof(buf), have_suites));
    rc = -1;
  } else if ((rc = server_db_get_defaults(db, &have)) == 0 && (o.ops != 0 || o.mem_kib != 0) &&
             (have.ops_limit != want.ops_limit || have.mem_limit_kib != want.mem_limit_kib)) {
    /* Enrolled users keep theirs: changing the defaults would single them out. */
    fprintf(stderr,
            "database %s already exists with enrollment defaults ops %" PRIu32 ", mem-kib %" PRIu32
            "; not changed\n",
            shown, have.ops_limit, have.mem_limit_kib);
    rc = -1;
  }
  server_db_close(db);
  if (rc != 0 || server_keyfile_create(o.key_file) != 0) {
    return 1;
  }
  fprintf(stderr, "created database %s and key file %s\n", shown, o.key_file);
  return 0;
}

static int cmd_suites(int argc, char **argv) {
  static const int allowed[] = {OPT_DB, OPT_SET, 0};
  static const int required[] = {OPT_DB, 0};
  options o;
  int early = parse_options(argc, argv, allowed, required, USAGE_SUITES, &o);
  if (early >= 0) {
    return early;
  }
  server_db *db = NULL;
  if (server_db_open(&db, o.db, o.suites != 0 ? SERVER_DB_EXISTING : SERVER_DB_READER) != 0) {
    return 1;
  }
  uint32_t suites = 0;
  int rc = o.suites != 0 ? server_db_set_suites(db, o.suites) : 0;
  if (rc == 0) {
    rc = server_db_get_suites(db, &suites);
  }
  server_db_close(db);
  if (rc != 0) {
    return 1;
  }
  char buf[8];
  printf("suites: %s\n", suites_format(buf, sizeof(buf), suites));
  if (o.suites != 0) {
    fprintf(stderr, "a running serve keeps its suites until it is restarted\n");
  }
  return 0;
}

/*
 * Makes and seals the records of every suite in suites for this password
 * and normalized User ID (§6: one record per enabled suite). Returns 0, or
 * -1 with a message; the sealed records are not secret.
 */
static int make_records(const server_keys *keys, uint32_t suites, const uint8_t *pw, size_t pw_len,
                        const uint8_t *uid, size_t uid_len, const cpns_kdf_params *params,
                        uint8_t record1[CPNS_SEALED_CREDENTIAL_LEN], size_t *record1_len,
                        uint8_t record2[CPNS_S2_SEALED_RECORD_LEN], size_t *record2_len) {
  cpns_credential *cred = sodium_malloc(sizeof(*cred));
  cpns_s2_record *rec2 = sodium_malloc(sizeof(*rec2));
  int rc = cred == NULL || rec2 == NULL ? CPNS_ERR_NOMEM : 0;
  *record1_len = *record2_len = 0;
  if (rc == 0 && suites_has(suites, CPNS_SUITE_ARGON2ID_HMACSHA256_XCHACHA20POLY1305)) {
    cpns_kdf_params kdf = *params;
    cpns_crypto_random(kdf.salt, sizeof(kdf.salt));
    rc = cpns_crypto_credential_create(cred, pw, pw_len, &kdf);
    if (rc == 0) {
      rc = cpns_crypto_credential_seal(record1, cred, keys->record_key, uid, uid_len);
    }
    *record1_len = rc == 0 ? CPNS_SEALED_CREDENTIAL_LEN : 0;
  }
  if (rc == 0 && suites_has(suites, CPNS_SUITE_OPAQUE3DH_RISTRETTO255_SHA512_ARGON2ID)) {
    /* Its own random salt (cpns_crypto_s2_register), the same costs. */
    rc = cpns_crypto_s2_register(rec2, pw, pw_len, uid, uid_len, params->ops_limit,
                                 params->mem_limit_kib, &keys->s2);
    if (rc == 0) {
      rc = cpns_crypto_s2_record_seal(record2, rec2, uid, uid_len, keys->record_key);
    }
    *record2_len = rc == 0 ? CPNS_S2_SEALED_RECORD_LEN : 0;
  }
  if (rc != 0) {
    fprintf(stderr, "cannot create the credential records: %s\n", cpns_strerror(rc));
  }
  if (cred != NULL)
    sodium_free(cred);
  if (rec2 != NULL)
    sodium_free(rec2);
  return rc == 0 ? 0 : -1;
}

/*
 * user add (passwd = 0) and user passwd (passwd = 1): one path, so that a
 * changed password gets a record for every enabled suite, as enrollment.
 */
static int user_enroll(int argc, char **argv, int passwd) {
  static const int allowed[] = {OPT_DB,  OPT_KEY_FILE, OPT_USER, OPT_PASSWORD_FILE,
                                OPT_OPS, OPT_MEM_KIB,  0};
  static const int required[] = {OPT_DB, OPT_KEY_FILE, OPT_USER, 0};
  options o;
  int early =
      parse_options(argc, argv, allowed, required, passwd ? USAGE_USER_PASSWD : USAGE_USER_ADD, &o);
  if (early >= 0) {
    return early;
  }
  uint8_t uid[CPNS_USER_ID_MAX];
  size_t uid_len = 0;
  if (normalize_user(o.user, uid, &uid_len) != 0) {
    return EXIT_USAGE;
  }
  server_keys *keys = NULL;
  server_db *db = NULL;
  server_db_defaults defaults;
  uint32_t suites = 0;
  /* Open first: a wrong --db or --key-file fails before the password is asked. */
  if (server_keyfile_load(o.key_file, &keys) != 0) {
    return 1;
  }
  if (server_db_open_with_key(&db, o.db, SERVER_DB_EXISTING, keys->record_key) != 0 ||
      server_db_get_defaults(db, &defaults) != 0 || server_db_get_suites(db, &suites) != 0) {
    server_db_close(db);
    server_keys_free(keys);
    return 1;
  }
  int status = 1;
  uint8_t *pw = NULL;
  size_t pw_len = 0;
  uint8_t record1[CPNS_SEALED_CREDENTIAL_LEN], record2[CPNS_S2_SEALED_RECORD_LEN];
  size_t record1_len = 0, record2_len = 0;
  int rc = o.password_file != NULL ? cli_password_from_file(o.password_file, &pw, &pw_len)
                                   : cli_password_prompt("Password: ", 1, &pw, &pw_len);
  if (rc != 0) {
    goto out;
  }
  cpns_kdf_params kdf;
  memset(&kdf, 0, sizeof(kdf));
  kdf.ops_limit = o.ops != 0 ? (uint32_t)o.ops : defaults.ops_limit;
  kdf.mem_limit_kib = o.mem_kib != 0 ? (uint32_t)o.mem_kib : defaults.mem_limit_kib;
  if (make_records(keys, suites, pw, pw_len, uid, uid_len, &kdf, record1, &record1_len, record2,
                   &record2_len) != 0) {
    goto out;
  }
  rc = passwd
           ? server_db_user_replace_records(db, uid, uid_len, record1_len > 0 ? record1 : NULL,
                                            record1_len, record2_len > 0 ? record2 : NULL,
                                            record2_len, COMMAND_SOURCE)
           : server_db_user_put_records(db, uid, uid_len, record1_len > 0 ? record1 : NULL,
                                        record1_len, record2_len > 0 ? record2 : NULL, record2_len);
  if (rc == 1) {
    fprintf(stderr,
            passwd ? "no such user: %.*s (user add enrolls a new one)\n"
                   : "user %.*s already exists (user passwd changes its password)\n",
            (int)uid_len, (const char *)uid);
    goto out;
  }
  if (rc != 0) {
    goto out;
  }
  if (kdf.ops_limit != defaults.ops_limit || kdf.mem_limit_kib != defaults.mem_limit_kib) {
    fprintf(stderr,
            "warning: user %.*s enrolled with ops %" PRIu32 ", mem-kib %" PRIu32
            ", not the database's defaults (ops %" PRIu32 ", mem-kib %" PRIu32 "): "
            "unknown User IDs are answered with the defaults, so this user is "
            "distinguishable from them\n",
            (int)uid_len, (const char *)uid, kdf.ops_limit, kdf.mem_limit_kib, defaults.ops_limit,
            defaults.mem_limit_kib);
  }
  char buf[8];
  printf("user: %.*s\nsuites: %s\n", (int)uid_len, (const char *)uid,
         suites_format(buf, sizeof(buf), suites));
  status = 0;
out:
  if (pw != NULL)
    sodium_free(pw);
  server_db_close(db);
  server_keys_free(keys);
  return status;
}

static int cmd_user_add(int argc, char **argv) { return user_enroll(argc, argv, 0); }

static int cmd_user_passwd(int argc, char **argv) { return user_enroll(argc, argv, 1); }

static int cmd_user_del(int argc, char **argv) {
  static const int allowed[] = {OPT_DB, OPT_USER, OPT_REVOKE_ASSIGNMENTS, 0};
  static const int required[] = {OPT_DB, OPT_USER, 0};
  options o;
  int early = parse_options(argc, argv, allowed, required, USAGE_USER_DEL, &o);
  if (early >= 0) {
    return early;
  }
  uint8_t uid[CPNS_USER_ID_MAX];
  size_t uid_len = 0;
  if (normalize_user(o.user, uid, &uid_len) != 0) {
    return EXIT_USAGE;
  }
  server_db *db = NULL;
  if (server_db_open(&db, o.db, SERVER_DB_EXISTING) != 0) {
    return 1;
  }
  int rc = server_db_user_remove(db, uid, uid_len, o.revoke_assignments, COMMAND_SOURCE);
  server_db_close(db);
  if (rc == 1) {
    fprintf(stderr, "no such user: %.*s\n", (int)uid_len, (const char *)uid);
  } else if (rc == 2) {
    fprintf(stderr,
            "user %.*s has assignments; not deleted (`cpns-server assignments --db ...` lists "
            "them; --revoke-assignments revokes them with the user)\n",
            (int)uid_len, (const char *)uid);
    return EXIT_REFUSED;
  }
  return rc == 0 ? 0 : 1;
}

/* What user list prints each user against. */
typedef struct user_list_ctx {
  server_db_defaults defaults;
  uint32_t suites; /* enabled */
  const char *db;
  json_stream json; /* --json */
} user_list_ctx;

/* 21 -> {2, 1}: the suites of a stored value in order. Returns how many (at most 2). */
static size_t suites_list(uint32_t suites, int out[2]) {
  char digits[12];
  size_t n = 0;
  snprintf(digits, sizeof(digits), "%u", (unsigned)suites);
  for (const char *p = digits; *p != '\0' && n < 2; p++) {
    out[n++] = *p - '0';
  }
  return n;
}

/* What user list says of one user. */
typedef struct user_summary {
  cpns_kdf_params kdf; /* zero for a malformed record */
  int have[2];         /* suites with a record: the server's order, then any it no longer enables */
  int missing[2];      /* enabled suites without a record */
  size_t n_have, n_missing;
  int defaults; /* 1: the database's enrollment defaults */
} user_summary;

static void summarize_user(const user_list_ctx *ctx, const uint8_t *record1, size_t record1_len,
                           const uint8_t *record2, size_t record2_len, user_summary *s) {
  const server_db_defaults *d = &ctx->defaults;
  memset(s, 0, sizeof(*s));
  /* Suite 1's clear header, else suite 2's: both are made with the same costs. */
  int has1 = record1_len > 0, has2 = record2_len > 0;
  if ((!has1 || cpns_crypto_credential_sealed_kdf(&s->kdf, record1, record1_len) != 0) &&
      (!has2 || cpns_crypto_s2_record_sealed_kdf(&s->kdf, record2, record2_len) != 0)) {
    memset(&s->kdf, 0, sizeof(s->kdf)); /* malformed: shown as 0 */
  }
  int order[3] = {0, 0, 0};
  size_t n = suites_list(ctx->suites, order);
  for (int i = 0; i < 2; i++) {
    int other = i == 0 ? 1 : 2;
    if (!suites_has(ctx->suites, other)) {
      order[n++] = other;
    }
  }
  for (size_t i = 0; i < n; i++) {
    int has = order[i] == 1 ? has1 : has2;
    if (has && s->n_have < 2) {
      s->have[s->n_have++] = order[i];
    } else if (!has && suites_has(ctx->suites, order[i]) && s->n_missing < 2) {
      s->missing[s->n_missing++] = order[i];
    }
  }
  s->defaults = s->kdf.ops_limit == d->ops_limit && s->kdf.mem_limit_kib == d->mem_limit_kib;
}

/* "2,1" from a list of suites (buf of 8). */
static const char *suites_join(char *buf, size_t len, const int *suites, size_t n) {
  size_t o = 0;
  buf[0] = '\0';
  for (size_t i = 0; i < n && o < len; i++) {
    o += (size_t)snprintf(buf + o, len - o, "%s%d", i > 0 ? "," : "", suites[i]);
  }
  return buf;
}

static int print_user(void *arg, const uint8_t *uid, size_t uid_len, const uint8_t *record1,
                      size_t record1_len, const uint8_t *record2, size_t record2_len) {
  const user_list_ctx *ctx = arg;
  user_summary s;
  summarize_user(ctx, record1, record1_len, record2, record2_len, &s);
  char have[8], missing[8];
  printf("user: %.*s\nsuites: %s\nops: %" PRIu32 "\nmem-kib: %" PRIu32 "\ndefaults: %s\n",
         (int)uid_len, (const char *)uid,
         s.n_have > 0 ? suites_join(have, sizeof(have), s.have, s.n_have) : "none", s.kdf.ops_limit,
         s.kdf.mem_limit_kib, s.defaults ? "yes" : "no (distinguishable from unknown User IDs)");
  if (s.n_missing > 0) {
    /* §9: the suite chosen for this user differs from an unknown User ID's. */
    printf("missing: suite %s (enrolled before it was enabled; distinguishable from unknown "
           "User IDs)\n"
           "re-enroll: cpns-server user passwd --db %s --key-file KEY-FILE --user %.*s\n",
           suites_join(missing, sizeof(missing), s.missing, s.n_missing), ctx->db, (int)uid_len,
           (const char *)uid);
  }
  printf("\n");
  return 0;
}

/* [2, 1] */
static json_t *json_suites(const int *suites, size_t n) {
  json_t *a = json_array();
  for (size_t i = 0; a != NULL && i < n; i++) {
    if (json_array_append_new(a, json_integer(suites[i])) != 0) {
      json_decref(a);
      a = NULL;
    }
  }
  return a;
}

/* user list --json: one element of "users" (doc/json.md). */
static int print_user_json(void *arg, const uint8_t *uid, size_t uid_len, const uint8_t *record1,
                           size_t record1_len, const uint8_t *record2, size_t record2_len) {
  user_list_ctx *ctx = arg;
  user_summary s;
  summarize_user(ctx, record1, record1_len, record2, record2_len, &s);
  json_t *u =
      json_pack("{s:o, s:o, s:I, s:I, s:b, s:o}", "userId", json_octets("a User ID", uid, uid_len),
                "suites", json_suites(s.have, s.n_have), "ops", (json_int_t)s.kdf.ops_limit,
                "memKib", (json_int_t)s.kdf.mem_limit_kib, "defaults", s.defaults, "missingSuites",
                json_suites(s.missing, s.n_missing));
  return json_stream_item(&ctx->json, u) == 0 ? 0 : -1;
}

/*
 * The listing commands take only --db and --json: parses them and opens the
 * database for reading. Returns -1 with *db, *where (the --db value) and
 * *json (1: --json) set, or the exit code to return now.
 */
static int open_db_for_listing(int argc, char **argv, const char *usage, server_db **db,
                               const char **where, int *json) {
  static const int allowed[] = {OPT_DB, OPT_JSON, 0};
  static const int required[] = {OPT_DB, 0};
  options o;
  int early = parse_options(argc, argv, allowed, required, usage, &o);
  if (early >= 0) {
    return early;
  }
  *db = NULL;
  *where = o.db;
  *json = o.json;
  if (server_db_open(db, o.db, SERVER_DB_READER) != 0) {
    return 1;
  }
  return -1;
}

static int cmd_user_list(int argc, char **argv) {
  server_db *db;
  const char *where = NULL;
  int json = 0;
  int early = open_db_for_listing(argc, argv, USAGE_USER_LIST, &db, &where, &json);
  if (early >= 0) {
    return early;
  }
  user_list_ctx ctx = {.db = where};
  int rc = server_db_get_defaults(db, &ctx.defaults);
  if (rc == 0) {
    rc = server_db_get_suites(db, &ctx.suites);
  }
  if (rc == 0 && json) {
    int enabled[2];
    size_t n = suites_list(ctx.suites, enabled);
    json_t *head =
        json_pack("{s:i, s:{s:I, s:I}, s:o}", "version", SERVER_JSON_USER_LIST_VERSION, "defaults",
                  "ops", (json_int_t)ctx.defaults.ops_limit, "memKib",
                  (json_int_t)ctx.defaults.mem_limit_kib, "enabledSuites", json_suites(enabled, n));
    rc = json_stream_begin(&ctx.json, stdout, head, "users");
    if (rc == 0) {
      rc = server_db_user_foreach_records(db, print_user_json, &ctx);
    }
    if (rc == 0) {
      rc = json_stream_end(&ctx.json);
    }
  } else if (rc == 0) {
    char buf[8];
    printf("default-ops: %" PRIu32 "\ndefault-mem-kib: %" PRIu32 "\nenabled-suites: %s\n\n",
           ctx.defaults.ops_limit, ctx.defaults.mem_limit_kib,
           suites_format(buf, sizeof(buf), ctx.suites));
    rc = server_db_user_foreach_records(db, print_user, &ctx);
  }
  server_db_close(db);
  return rc == 0 ? 0 : 1;
}

/* seconds since the epoch -> "YYYY-MM-DDTHH:MM:SSZ" ("?" if out of range). */
static const char *format_time(char *buf, size_t len, int64_t seconds) {
  time_t t = (time_t)seconds;
  struct tm tm;
  snprintf(buf, len, "?");
  if (gmtime_r(&t, &tm) != NULL) {
    strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
  }
  return buf;
}

static const char *const KEY_STATES[] = {"current", "replaced", "revoked"};

/* One block of `assignments`; with_history adds the state lines. */
static int print_assignment(void *arg, const server_db_history_row *h) {
  const int *with_history = arg;
  const server_db_assignment *a = &h->a;
  char key_id[2 * CPNS_KEY_ID_LEN + 1];
  char when[32];
  cli_hex(key_id, a->key_id, CPNS_KEY_ID_LEN);
  printf("entity: %.*s\nuser: %.*s\nmode: %s\nkeyId: %s\ntime: %s\n", (int)a->entity_id_len,
         (const char *)a->entity_id, (int)a->user_id_len, (const char *)a->user_id,
         a->mode == CPNS_MODE_PNE_PLUS_PN_GW ? "pne-pn-gw" : "pn-gw", key_id,
         format_time(when, sizeof(when), a->assigned_at));
  if (a->source != NULL) {
    printf("source: %s\n", a->source);
  }
  if (*with_history) {
    printf("state: %s\n", KEY_STATES[h->state]);
    if (h->state != SERVER_DB_KEY_CURRENT) {
      printf("ended: %s\n", format_time(when, sizeof(when), h->ended_at));
    }
    if (h->reason != NULL) {
      printf("reason: %s\n", h->reason);
    }
  }
  printf("\n");
  return 0;
}

/* What assignments --json writes to. */
typedef struct assignments_json {
  json_stream js;
  int with_history; /* --history: the state fields too */
} assignments_json;

/* assignments --json: one element of "assignments" (doc/json.md). */
static int print_assignment_json(void *arg, const server_db_history_row *h) {
  assignments_json *ctx = arg;
  json_t *v = ctx->with_history ? server_json_history_row(h) : server_json_assignment(&h->a);
  return json_stream_item(&ctx->js, v) == 0 ? 0 : -1;
}

static int cmd_assignments(int argc, char **argv) {
  static const int allowed[] = {OPT_DB, OPT_HISTORY, OPT_ENTITY_ID, OPT_JSON, 0};
  static const int required[] = {OPT_DB, 0};
  options o;
  int early = parse_options(argc, argv, allowed, required, USAGE_ASSIGNMENTS, &o);
  if (early >= 0) {
    return early;
  }
  uint8_t eid[CPNS_ENTITY_ID_MAX];
  server_db_history_filter filter = {.ended = o.history};
  if (o.entity_id != NULL) {
    if (normalize_entity(o.entity_id, eid, &filter.entity_id_len) != 0) {
      return EXIT_USAGE;
    }
    filter.entity_id = eid;
  }
  server_db *db = NULL;
  if (server_db_open(&db, o.db, SERVER_DB_READER) != 0) {
    return 1;
  }
  int rc;
  if (o.json) {
    assignments_json ctx = {.with_history = o.history};
    rc = json_stream_begin(&ctx.js, stdout,
                           json_pack("{s:i}", "version", SERVER_JSON_ASSIGNMENTS_VERSION),
                           "assignments");
    if (rc == 0) {
      rc = server_db_history_foreach(db, &filter, print_assignment_json, &ctx);
    }
    if (rc == 0) {
      rc = json_stream_end(&ctx.js);
    }
  } else {
    rc = server_db_history_foreach(db, &filter, print_assignment, &o.history);
  }
  server_db_close(db);
  return rc == 0 ? 0 : 1;
}

static int cmd_assignment_revoke(int argc, char **argv) {
  static const int allowed[] = {OPT_DB, OPT_ENTITY_ID, OPT_REASON, 0};
  static const int required[] = {OPT_DB, OPT_ENTITY_ID, 0};
  options o;
  int early = parse_options(argc, argv, allowed, required, USAGE_REVOKE, &o);
  if (early >= 0) {
    return early;
  }
  uint8_t eid[CPNS_ENTITY_ID_MAX];
  size_t eid_len = 0;
  if (normalize_entity(o.entity_id, eid, &eid_len) != 0) {
    return EXIT_USAGE;
  }
  /* Shown by audit and assignments --history, as text and as JSON. */
  if (o.reason != NULL && cli_check_text("--reason", o.reason, 1024) != 0) {
    return EXIT_USAGE;
  }
  server_db *db = NULL;
  if (server_db_open(&db, o.db, SERVER_DB_EXISTING) != 0) {
    return 1;
  }
  int rc = server_db_assignment_revoke(db, eid, eid_len, o.reason, COMMAND_SOURCE);
  server_db_close(db);
  if (rc == 1) {
    fprintf(stderr, "Entity ID %.*s is not bound; nothing revoked\n", (int)eid_len,
            (const char *)eid);
    return EXIT_REFUSED;
  }
  if (rc != 0) {
    return 1;
  }
  printf("revoked: %.*s\n", (int)eid_len, (const char *)eid);
  return 0;
}

/* audit --json: one element of "events" (doc/json.md). */
static int print_audit_json(void *arg, const server_db_audit_row *r) {
  return json_stream_item(arg, server_json_audit_row(r)) == 0 ? 0 : -1;
}

/* One line of `audit`. */
static int print_audit(void *arg, const server_db_audit_row *r) {
  (void)arg;
  char when[40];
  char key_id[2 * CPNS_KEY_ID_LEN + 1];
  format_time(when, sizeof(when), r->time_ms / 1000);
  size_t n = strlen(when);
  if (n > 1 && when[n - 1] == 'Z') {
    snprintf(when + n - 1, sizeof(when) - (n - 1), ".%03dZ", (int)(r->time_ms % 1000));
  }
  printf("%s %s", when, r->event);
  if (r->entity_id != NULL) {
    printf(" entity=%.*s", (int)r->entity_id_len, (const char *)r->entity_id);
  }
  if (r->user_id != NULL) {
    printf(" user=%.*s", (int)r->user_id_len, (const char *)r->user_id);
  }
  if (r->key_id != NULL) {
    cli_hex(key_id, r->key_id, CPNS_KEY_ID_LEN);
    printf(" keyId=%s", key_id);
  }
  if (r->source != NULL) {
    printf(" source=%s", r->source);
  }
  if (r->result != NULL) {
    printf(" result=%s", r->result);
  }
  printf("\n");
  return 0;
}

/*
 * The filter of `audit` from its options (eid, uid: the caller's buffers
 * for the normalized IDs). Returns 0, or -1 after a message (usage error).
 */
static int audit_filter_from(const options *o, server_db_audit_filter *f,
                             uint8_t eid[CPNS_ENTITY_ID_MAX], uint8_t uid[CPNS_USER_ID_MAX]) {
  memset(f, 0, sizeof(*f));
  if (o->since != NULL && server_parse_time(o->since, &f->since_ms) != 0) {
    fprintf(stderr,
            "--since: expected a UTC time like 2026-11-30T01:00:00Z or seconds since the "
            "epoch, not \"%s\"\n",
            o->since);
    return -1;
  }
  if (o->entity_id != NULL) {
    if (normalize_entity(o->entity_id, eid, &f->entity_id_len) != 0) {
      return -1;
    }
    f->entity_id = eid;
  }
  if (o->user != NULL) {
    if (normalize_user(o->user, uid, &f->user_id_len) != 0) {
      return -1;
    }
    f->user_id = uid;
  }
  return 0;
}

static int cmd_audit(int argc, char **argv) {
  static const int allowed[] = {OPT_DB, OPT_SINCE, OPT_ENTITY_ID, OPT_USER, OPT_JSON, 0};
  static const int required[] = {OPT_DB, 0};
  options o;
  int early = parse_options(argc, argv, allowed, required, USAGE_AUDIT, &o);
  if (early >= 0) {
    return early;
  }
  uint8_t eid[CPNS_ENTITY_ID_MAX], uid[CPNS_USER_ID_MAX];
  server_db_audit_filter filter;
  if (audit_filter_from(&o, &filter, eid, uid) != 0) {
    return EXIT_USAGE;
  }
  server_db *db = NULL;
  if (server_db_open(&db, o.db, SERVER_DB_READER) != 0) {
    return 1;
  }
  int rc;
  if (o.json) {
    json_stream js;
    rc = json_stream_begin(&js, stdout, json_pack("{s:i}", "version", SERVER_JSON_AUDIT_VERSION),
                           "events");
    if (rc == 0) {
      rc = server_db_audit_foreach(db, &filter, print_audit_json, &js);
    }
    if (rc == 0) {
      rc = json_stream_end(&js);
    }
  } else {
    rc = server_db_audit_foreach(db, &filter, print_audit, NULL);
  }
  server_db_close(db);
  return rc == 0 ? 0 : 1;
}

static const int SERVE_ALLOWED[] = {OPT_DB,
                                    OPT_KEY_FILE,
                                    OPT_LISTEN,
                                    OPT_REALM,
                                    OPT_MAX_PDU,
                                    OPT_PDU_TIMEOUT,
                                    OPT_EXCHANGE_TIMEOUT,
                                    OPT_MAX_CONNS,
                                    OPT_MAX_CONNS_PER_ADDR,
                                    OPT_LOCKOUT_THRESHOLD,
                                    OPT_LOCKOUT_BASE,
                                    OPT_LOCKOUT_MAX,
                                    OPT_LOCKOUT_TABLE,
                                    OPT_FAKE_OPS,
                                    OPT_FAKE_MEM,
                                    OPT_STORE_BATCH,
                                    OPT_LOCKOUT_WINDOW,
                                    OPT_SOURCE_RATE,
                                    OPT_SOURCE_BURST,
                                    OPT_METRICS_LISTEN,
                                    OPT_LOG,
                                    OPT_LOG_FACILITY,
                                    OPT_CONFIG,
                                    0};
static const int SERVE_REQUIRED[] = {OPT_DB, OPT_KEY_FILE, OPT_LISTEN, OPT_REALM, 0};

/* o->serve completed from the string options. Returns 0, or -1 (message). */
static int serve_config_finish(options *o, const server_keys *keys) {
  size_t realm_len = strlen(o->realm);
  if (realm_len == 0 || realm_len > CPNS_REALM_MAX) {
    fprintf(stderr, "--realm: expected 1 to %d octets\n", CPNS_REALM_MAX);
    return -1;
  }
  o->serve.db_path = o->db;
  o->serve.listen = o->listen;
  o->serve.key_file = o->key_file;
  o->serve.config_path = o->config;
  o->serve.realm = (const uint8_t *)o->realm;
  o->serve.realm_len = realm_len;
  o->serve.keys = keys;
  o->serve.log_target = (int)o->log_target;
  o->serve.log_facility = o->log_facility;
  return 0;
}

/* What SIGHUP rereads: the same file and command line. */
typedef struct serve_reload {
  int argc;
  char **argv;
  const server_keys *keys;
  options current; /* the last reload's, owning its strings */
} serve_reload;

/* server_config.reload */
static int serve_reload_config(void *arg, server_config *out) {
  serve_reload *r = arg;
  options n;
  int early = parse_serve_options(r->argc, r->argv, SERVE_ALLOWED, SERVE_REQUIRED, USAGE_SERVE, &n);
  if (early >= 0 || serve_config_finish(&n, r->keys) != 0) {
    options_free(&n);
    return -1;
  }
  options_free(&r->current);
  r->current = n;
  *out = n.serve;
  return 0;
}

static int cmd_serve(int argc, char **argv) {
  options o;
  int early = parse_serve_options(argc, argv, SERVE_ALLOWED, SERVE_REQUIRED, USAGE_SERVE, &o);
  if (early >= 0) {
    options_free(&o);
    return early;
  }
  size_t realm_len = strlen(o.realm);
  if (realm_len == 0 || realm_len > CPNS_REALM_MAX) {
    fprintf(stderr, "--realm: expected 1 to %d octets\n", CPNS_REALM_MAX);
    options_free(&o);
    return EXIT_USAGE;
  }
  server_keys *keys = NULL;
  if (server_keyfile_load(o.key_file, &keys) != 0) {
    options_free(&o);
    return 1;
  }
  serve_config_finish(&o, keys);
  serve_reload reload = {.argc = argc, .argv = argv, .keys = keys};
  memset(&reload.current, 0, sizeof(reload.current));
  if (o.config != NULL) {
    o.serve.reload = serve_reload_config;
    o.serve.reload_arg = &reload;
  }
  server_log_open(o.log_target, o.log_facility);
  int rc = server_run(&o.serve);
  server_log_close();
  options_free(&reload.current);
  options_free(&o);
  server_keys_free(keys);
  return rc == 0 ? 0 : 1;
}

int main(int argc, char **argv) {
  if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
    fputs(USAGE, argc < 2 ? stderr : stdout);
    return argc < 2 ? EXIT_USAGE : 0;
  }
  /* The database holds credential records, its -wal/-shm files too: owner only. */
  umask(077);
  server_db_library_setup();
  if (cpns_init() != 0) {
    fprintf(stderr, "cannot initialise libcpns (libsodium)\n");
    return 1;
  }
  const char *cmd = argv[1];
  if (strcmp(cmd, "init") == 0) {
    return cmd_init(argc - 1, argv + 1);
  }
  if (strcmp(cmd, "serve") == 0) {
    return cmd_serve(argc - 1, argv + 1);
  }
  if (strcmp(cmd, "assignments") == 0) {
    return cmd_assignments(argc - 1, argv + 1);
  }
  if (strcmp(cmd, "assignment") == 0) {
    const char *sub = argc > 2 ? argv[2] : "";
    if (strcmp(sub, "revoke") == 0) {
      return cmd_assignment_revoke(argc - 2, argv + 2);
    }
    if (strcmp(sub, "--help") == 0) {
      fputs(USAGE_REVOKE, stdout);
      return 0;
    }
    fprintf(stderr, "unknown assignment command \"%s\" (revoke)\n", sub);
    return EXIT_USAGE;
  }
  if (strcmp(cmd, "audit") == 0) {
    return cmd_audit(argc - 1, argv + 1);
  }
  if (strcmp(cmd, "suites") == 0) {
    return cmd_suites(argc - 1, argv + 1);
  }
  if (strcmp(cmd, "user") == 0) {
    const char *sub = argc > 2 ? argv[2] : "";
    if (strcmp(sub, "add") == 0) {
      return cmd_user_add(argc - 2, argv + 2);
    }
    if (strcmp(sub, "del") == 0) {
      return cmd_user_del(argc - 2, argv + 2);
    }
    if (strcmp(sub, "passwd") == 0) {
      return cmd_user_passwd(argc - 2, argv + 2);
    }
    if (strcmp(sub, "list") == 0) {
      return cmd_user_list(argc - 2, argv + 2);
    }
    if (strcmp(sub, "--help") == 0) {
      printf("%s\n%s\n%s\n%s", USAGE_USER_ADD, USAGE_USER_DEL, USAGE_USER_PASSWD, USAGE_USER_LIST);
      return 0;
    }
    fprintf(stderr, "unknown user command \"%s\" (add, del, passwd, list)\n", sub);
    return EXIT_USAGE;
  }
  fprintf(stderr, "unknown command \"%s\"\n", cmd);
  fputs(USAGE, stderr);
  return EXIT_USAGE;
}
