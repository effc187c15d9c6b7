/*
 * cpns-server: command-line front end (init, user add/del/list, serve,
 * assignments). Exit status: 0 success, 1 failure, 2 usage error.
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

#include "examples/cli_util.h"
#include "examples/server_db.h"
#include "examples/server_keyfile.h"
#include "examples/server_net.h"

#define EXIT_USAGE 2

static const char USAGE[] =
    "Usage: cpns-server COMMAND [OPTIONS]\n"
    "\n"
    "CPNS server: assigns EUKeys to PN gateways (OMA CPNS).\n"
    "\n"
    "Commands:\n"
    "  init --db PATH --key-file PATH     create the database and the key file\n"
    "  user add --db PATH --user ID [--password-file F] [--ops N] [--mem-kib N]\n"
    "  user del --db PATH --user ID\n"
    "  user list --db PATH\n"
    "  serve --db PATH --key-file PATH --listen HOST:PORT --realm REALM [limits]\n"
    "  assignments --db PATH              list stored assignments\n"
    "\n"
    "Run `cpns-server COMMAND --help` for a command's options.\n"
    "Exit status: 0 success, 1 failure, 2 usage error.\n";

static const char USAGE_INIT[] =
    "Usage: cpns-server init --db PATH --key-file PATH\n"
    "\n"
    "Creates the SQLite database (or brings an existing one to the current\n"
    "schema) and a new key file holding the server secret and the EUKey\n"
    "master key (mode 0600, created atomically; an existing key file is\n"
    "never replaced). Keep the key file apart from the database.\n";

static const char USAGE_USER_ADD[] =
    "Usage: cpns-server user add --db PATH --user ID [--password-file F]\n"
    "                            [--ops N] [--mem-kib N]\n"
    "\n"
    "Enrolls a user: stores a credential record derived from the password\n"
    "(Argon2id; never the password). Without --password-file the password is\n"
    "asked twice on the terminal without echo. A password file holds the\n"
    "password octets; one trailing newline is stripped. It must be mode 0600\n"
    "and not a symbolic link; - reads standard input.\n"
    "  --ops N       Argon2id opsLimit (default 3)\n"
    "  --mem-kib N   Argon2id memLimitKiB (default 65536)\n"
    "Prints \"user: ID\" (the normalized User ID).\n";

static const char USAGE_USER_DEL[] =
    "Usage: cpns-server user del --db PATH --user ID\n"
    "\n"
    "Deletes a user's credential record (assignments stay).\n";

static const char USAGE_USER_LIST[] =
    "Usage: cpns-server user list --db PATH\n"
    "\n"
    "Lists users, one block per user: \"user: ID\", \"ops: N\", \"mem-kib: N\",\n"
    "then an empty line.\n";

static const char USAGE_ASSIGNMENTS[] =
    "Usage: cpns-server assignments --db PATH\n"
    "\n"
    "Lists assignments, one block per Entity ID: \"entity: ...\", \"user: ...\",\n"
    "\"mode: pn-gw|pne-pn-gw\", \"keyId: HEX\", \"time: YYYY-MM-DDTHH:MM:SSZ\",\n"
    "then an empty line. EUKeys stay sealed.\n";

static const char USAGE_SERVE[] =
    "Usage: cpns-server serve --db PATH --key-file PATH --listen HOST:PORT\n"
    "                         --realm REALM [OPTIONS]\n"
    "\n"
    "Serves EUKey assignments until SIGINT or SIGTERM. Prints\n"
    "\"listening on HOST:PORT\" on stderr once bound (port 0 picks a free port)\n"
    "and one line per exchange.\n"
    "  --max-pdu N              longest PDU accepted, octets (default 4096)\n"
    "  --pdu-timeout-ms N       time for the peer to send one PDU (default 10000)\n"
    "  --exchange-timeout-ms N  time for a whole exchange (default 120000)\n"
    "  --max-conns N            open connections in total (default 1024)\n"
    "  --max-conns-per-addr N   open connections per peer address (default 16)\n"
    "  --lockout-threshold N    failed attempts before tryLater (default 5)\n"
    "  --lockout-base-ms N      first back-off, doubled per further attempt (default 1000)\n"
    "  --lockout-max-ms N       longest back-off (default 900000)\n"
    "  --lockout-table N        User IDs tracked for lockout (default 65536)\n"
    "  --fake-ops N             KDF opsLimit shown for unknown users (default 3)\n"
    "  --fake-mem-kib N         KDF memLimitKiB shown for unknown users (default 65536)\n"
    "                           (set both to the values users are enrolled with)\n"
    "  --store-batch N          assignments per store transaction at most (default 256)\n";

/* Strict decimal parse into [min, max]. */
static int parse_u64(const char *opt, const char *arg, uint64_t min, uint64_t max, uint64_t *out) {
  char *end = NULL;
  errno = 0;
  if (arg[0] < '0' || arg[0] > '9') {
    goto bad;
  }
  unsigned long long v = strtoull(arg, &end, 10);
  if (errno != 0 || end == arg || *end != '\0' || v < min || v > max) {
    goto bad;
  }
  *out = v;
  return 0;
bad:
  fprintf(stderr, "%s: expected a number from %" PRIu64 " to %" PRIu64 ", got \"%s\"\n", opt,
          min, max, arg);
  return -1;
}

/* Parses a User ID option into its normal form. Returns 0 or -1. */
static int normalize_user(const char *arg, uint8_t *out, size_t *out_len) {
  size_t len = strlen(arg);
  size_t err_off = 0;
  uint8_t buf[CPNS_USER_ID_MAX];
  if (len > CPNS_USER_ID_MAX) {
    fprintf(stderr, "--user: User ID longer than %d octets\n", CPNS_USER_ID_MAX);
    return -1;
  }
  int rc = cpns_user_id_normalize((const uint8_t *)arg, len, buf, sizeof(buf), out_len, &err_off);
  if (rc != 0) {
    fprintf(stderr, "--user: invalid User ID \"%s\" at octet %zu: %s (%s)\n", arg, err_off,
            cpns_strerror(rc), cpns_ident_expected(rc));
    return -1;
  }
  memcpy(out, buf, *out_len);
  return 0;
}

/* Options common to every command. */
enum {
  OPT_DB = 1000, OPT_KEY_FILE, OPT_USER, OPT_PASSWORD_FILE, OPT_OPS, OPT_MEM_KIB, OPT_LISTEN,
  OPT_REALM, OPT_MAX_PDU, OPT_PDU_TIMEOUT, OPT_EXCHANGE_TIMEOUT, OPT_MAX_CONNS,
  OPT_MAX_CONNS_PER_ADDR, OPT_LOCKOUT_THRESHOLD, OPT_LOCKOUT_BASE, OPT_LOCKOUT_MAX,
  OPT_LOCKOUT_TABLE, OPT_FAKE_OPS, OPT_FAKE_MEM, OPT_STORE_BATCH, OPT_HELP
};

typedef struct options {
  const char *db, *key_file, *user, *password_file, *listen, *realm;
  uint64_t ops, mem_kib;
  server_config serve;
} options;

static const char *required_value(const options *o, int code);

/*
 * Parses argv for one command into a zeroed *o: allowed lists the option
 * codes it takes, required (a subset of the string options) those it must
 * have; both end in 0. Returns -1 to go on, or the exit code to return now:
 * 0 when --help was printed, EXIT_USAGE on a usage error.
 */
static int parse_options(int argc, char **argv, const int *allowed, const int *required,
                         const char *usage, options *o) {
  static const struct option longopts[] = {
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
      {"help", no_argument, NULL, OPT_HELP},
      {NULL, 0, NULL, 0}};
  const uint64_t day_ms = 24ull * 3600 * 1000;
  memset(o, 0, sizeof(*o));
  optind = 1;
  opterr = 1;
  int c;
  while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
    if (c == OPT_HELP) {
      fputs(usage, stdout);
      return 0;
    }
    int ok = 0;
    for (const int *a = allowed; *a != 0; a++) {
      ok |= *a == c;
    }
    if (!ok) {
      if (c != '?') {
        fprintf(stderr, "option not valid for this command: %s\n", argv[optind - 1]);
      }
      fputs(usage, stderr);
      return EXIT_USAGE;
    }
    uint64_t v = 0;
    int rc = 0;
    switch (c) {
      case OPT_DB: o->db = optarg; break;
      case OPT_KEY_FILE: o->key_file = optarg; break;
      case OPT_USER: o->user = optarg; break;
      case OPT_PASSWORD_FILE: o->password_file = optarg; break;
      case OPT_LISTEN: o->listen = optarg; break;
      case OPT_REALM: o->realm = optarg; break;
      case OPT_OPS:
        rc = parse_u64("--ops", optarg, CPNS_OPS_LIMIT_MIN, CPNS_OPS_LIMIT_MAX, &o->ops);
        break;
      case OPT_MEM_KIB:
        rc = parse_u64("--mem-kib", optarg, CPNS_MEM_LIMIT_KIB_MIN, CPNS_MEM_LIMIT_KIB_MAX,
                       &o->mem_kib);
        break;
      case OPT_MAX_PDU:
        rc = parse_u64("--max-pdu", optarg, 16, 1 << 20, &v);
        o->serve.max_pdu_len = (size_t)v;
        break;
      case OPT_PDU_TIMEOUT:
        rc = parse_u64("--pdu-timeout-ms", optarg, 1, day_ms, &o->serve.pdu_timeout_ms);
        break;
      case OPT_EXCHANGE_TIMEOUT:
        rc = parse_u64("--exchange-timeout-ms", optarg, 1, day_ms,
                       &o->serve.exchange_timeout_ms);
        break;
      case OPT_MAX_CONNS:
        rc = parse_u64("--max-conns", optarg, 1, 1000000, &v);
        o->serve.max_conns = (size_t)v;
        break;
      case OPT_MAX_CONNS_PER_ADDR:
        rc = parse_u64("--max-conns-per-addr", optarg, 1, 1000000, &v);
        o->serve.max_conns_per_addr = (size_t)v;
        break;
      case OPT_LOCKOUT_THRESHOLD:
        rc = parse_u64("--lockout-threshold", optarg, 1, 1000000, &v);
        o->serve.lockout.threshold = (uint32_t)v;
        break;
      case OPT_LOCKOUT_BASE:
        rc = parse_u64("--lockout-base-ms", optarg, 1, day_ms, &o->serve.lockout.base_ms);
        break;
      case OPT_LOCKOUT_MAX:
        rc = parse_u64("--lockout-max-ms", optarg, 1, day_ms, &o->serve.lockout.max_ms);
        break;
      case OPT_LOCKOUT_TABLE:
        rc = parse_u64("--lockout-table", optarg, 1, 16000000, &v);
        o->serve.lockout.capacity = (size_t)v;
        break;
      case OPT_FAKE_OPS:
        rc = parse_u64("--fake-ops", optarg, CPNS_OPS_LIMIT_MIN, CPNS_OPS_LIMIT_MAX, &v);
        o->serve.fake_ops_limit = (uint32_t)v;
        break;
      case OPT_FAKE_MEM:
        rc = parse_u64("--fake-mem-kib", optarg, CPNS_MEM_LIMIT_KIB_MIN, CPNS_MEM_LIMIT_KIB_MAX,
                       &v);
        o->serve.fake_mem_limit_kib = (uint32_t)v;
        break;
      case OPT_STORE_BATCH:
        rc = parse_u64("--store-batch", optarg, 1, 100000, &v);
        o->serve.store_batch_max = (size_t)v;
        break;
      default: break;
    }
    if (rc != 0) {
      return EXIT_USAGE;
    }
  }
  if (optind < argc) {
    fprintf(stderr, "unexpected argument: %s\n", argv[optind]);
    fputs(usage, stderr);
    return EXIT_USAGE;
  }
  for (const int *r = required; *r != 0; r++) {
    if (required_value(o, *r) == NULL) {
      for (const struct option *l = longopts; l->name != NULL; l++) {
        if (l->val == *r) {
          fprintf(stderr, "missing --%s\n", l->name);
        }
      }
      fputs(usage, stderr);
      return EXIT_USAGE;
    }
  }
  return -1;
}

/* The value of a string option, for the required check. */
static const char *required_value(const options *o, int code) {
  switch (code) {
    case OPT_DB: return o->db;
    case OPT_KEY_FILE: return o->key_file;
    case OPT_USER: return o->user;
    case OPT_LISTEN: return o->listen;
    case OPT_REALM: return o->realm;
    default: return NULL;
  }
}

static int cmd_init(int argc, char **argv) {
  static const int allowed[] = {OPT_DB, OPT_KEY_FILE, 0};
  options o;
  int early = parse_options(argc, argv, allowed, allowed, USAGE_INIT, &o);
  if (early >= 0) {
    return early;
  }
  server_db *db = NULL;
  if (server_db_open(&db, o.db, SERVER_DB_CREATE) != 0) {
    return 1;
  }
  server_db_close(db);
  if (server_keyfile_create(o.key_file) != 0) {
    return 1;
  }
  fprintf(stderr, "created database %s and key file %s\n", o.db, o.key_file);
  return 0;
}

static int cmd_user_add(int argc, char **argv) {
  static const int allowed[] = {OPT_DB, OPT_USER, OPT_PASSWORD_FILE, OPT_OPS, OPT_MEM_KIB, 0};
  static const int required[] = {OPT_DB, OPT_USER, 0};
  options o;
  int early = parse_options(argc, argv, allowed, required, USAGE_USER_ADD, &o);
  if (early >= 0) {
    return early;
  }
  uint8_t uid[CPNS_USER_ID_MAX];
  size_t uid_len = 0;
  if (normalize_user(o.user, uid, &uid_len) != 0) {
    return EXIT_USAGE;
  }
  server_db *db = NULL;
  /* Open first: a wrong --db fails before the password is asked. */
  if (server_db_open(&db, o.db, SERVER_DB_EXISTING) != 0) {
    return 1;
  }
  int status = 1;
  uint8_t *pw = NULL;
  size_t pw_len = 0;
  cpns_credential *cred = sodium_malloc(sizeof(*cred));
  uint8_t *record = sodium_malloc(CPNS_CREDENTIAL_ENCODED_MAX);
  if (cred == NULL || record == NULL) {
    fprintf(stderr, "out of memory\n");
    goto out;
  }
  int rc = o.password_file != NULL ? cli_password_from_file(o.password_file, &pw, &pw_len)
                                   : cli_password_prompt("Password: ", 1, &pw, &pw_len);
  if (rc != 0) {
    goto out;
  }
  cpns_kdf_params kdf;
  const cpns_kdf_params *kdfp = NULL;
  if (o.ops != 0 || o.mem_kib != 0) {
    cpns_random(kdf.salt, sizeof(kdf.salt));
    kdf.ops_limit = o.ops != 0 ? (uint32_t)o.ops : CPNS_KDF_OPS_DEFAULT;
    kdf.mem_limit_kib = o.mem_kib != 0 ? (uint32_t)o.mem_kib : CPNS_KDF_MEM_KIB_DEFAULT;
    kdfp = &kdf;
  }
  rc = cpns_credential_create(cred, pw, pw_len, kdfp);
  if (rc != 0) {
    fprintf(stderr, "cannot create the credential record: %s\n", cpns_strerror(rc));
    goto out;
  }
  size_t record_len = 0;
  rc = cpns_credential_encode(cred, record, CPNS_CREDENTIAL_ENCODED_MAX, &record_len);
  if (rc != 0) {
    fprintf(stderr, "cannot encode the credential record: %s\n", cpns_strerror(rc));
    goto out;
  }
  rc = server_db_user_add(db, uid, uid_len, record, record_len);
  if (rc == 1) {
    fprintf(stderr, "user %.*s already exists (delete it first to change the password)\n",
            (int)uid_len, (const char *)uid);
    goto out;
  }
  if (rc != 0) {
    goto out;
  }
  printf("user: %.*s\n", (int)uid_len, (const char *)uid);
  status = 0;
out:
  if (pw != NULL) sodium_free(pw);
  if (cred != NULL) sodium_free(cred);
  if (record != NULL) sodium_free(record);
  server_db_close(db);
  return status;
}

static int cmd_user_del(int argc, char **argv) {
  static const int allowed[] = {OPT_DB, OPT_USER, 0};
  options o;
  int early = parse_options(argc, argv, allowed, allowed, USAGE_USER_DEL, &o);
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
  int rc = server_db_user_del(db, uid, uid_len);
  server_db_close(db);
  if (rc == 1) {
    fprintf(stderr, "no such user: %.*s\n", (int)uid_len, (const char *)uid);
  }
  return rc == 0 ? 0 : 1;
}

static int print_user(void *arg, const uint8_t *uid, size_t uid_len, const cpns_kdf_params *kdf) {
  (void)arg;
  printf("user: %.*s\nops: %" PRIu32 "\nmem-kib: %" PRIu32 "\n\n", (int)uid_len,
         (const char *)uid, kdf->ops_limit, kdf->mem_limit_kib);
  return 0;
}

/*
 * The listing commands take only --db: parses it and opens the database for
 * reading. Returns -1 with *db set, or the exit code to return now.
 */
static int open_db_for_listing(int argc, char **argv, const char *usage, server_db **db) {
  static const int allowed[] = {OPT_DB, 0};
  options o;
  int early = parse_options(argc, argv, allowed, allowed, usage, &o);
  if (early >= 0) {
    return early;
  }
  *db = NULL;
  if (server_db_open(db, o.db, SERVER_DB_READER) != 0) {
    return 1;
  }
  return -1;
}

static int cmd_user_list(int argc, char **argv) {
  server_db *db;
  int early = open_db_for_listing(argc, argv, USAGE_USER_LIST, &db);
  if (early >= 0) {
    return early;
  }
  int rc = server_db_user_foreach(db, print_user, NULL);
  server_db_close(db);
  return rc == 0 ? 0 : 1;
}

static int print_assignment(void *arg, const server_db_assignment *a) {
  (void)arg;
  char key_id[2 * CPNS_KEY_ID_LEN + 1];
  char when[32] = "?";
  cli_hex(key_id, a->key_id, CPNS_KEY_ID_LEN);
  time_t t = (time_t)a->assigned_at;
  struct tm tm;
  if (gmtime_r(&t, &tm) != NULL) {
    strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
  }
  printf("entity: %.*s\nuser: %.*s\nmode: %s\nkeyId: %s\ntime: %s\n\n", (int)a->entity_id_len,
         (const char *)a->entity_id, (int)a->user_id_len, (const char *)a->user_id,
         a->mode == CPNS_MODE_PNE_PLUS_PN_GW ? "pne-pn-gw" : "pn-gw", key_id, when);
  return 0;
}

static int cmd_assignments(int argc, char **argv) {
  server_db *db;
  int early = open_db_for_listing(argc, argv, USAGE_ASSIGNMENTS, &db);
  if (early >= 0) {
    return early;
  }
  int rc = server_db_assignment_foreach(db, print_assignment, NULL);
  server_db_close(db);
  return rc == 0 ? 0 : 1;
}

static int cmd_serve(int argc, char **argv) {
  static const int allowed[] = {OPT_DB, OPT_KEY_FILE, OPT_LISTEN, OPT_REALM, OPT_MAX_PDU,
                                OPT_PDU_TIMEOUT, OPT_EXCHANGE_TIMEOUT, OPT_MAX_CONNS,
                                OPT_MAX_CONNS_PER_ADDR, OPT_LOCKOUT_THRESHOLD, OPT_LOCKOUT_BASE,
                                OPT_LOCKOUT_MAX, OPT_LOCKOUT_TABLE, OPT_FAKE_OPS, OPT_FAKE_MEM,
                                OPT_STORE_BATCH, 0};
  static const int required[] = {OPT_DB, OPT_KEY_FILE, OPT_LISTEN, OPT_REALM, 0};
  options o;
  int early = parse_options(argc, argv, allowed, required, USAGE_SERVE, &o);
  if (early >= 0) {
    return early;
  }
  size_t realm_len = strlen(o.realm);
  if (realm_len == 0 || realm_len > CPNS_REALM_MAX) {
    fprintf(stderr, "--realm: expected 1 to %d octets\n", CPNS_REALM_MAX);
    return EXIT_USAGE;
  }
  server_keys *keys = NULL;
  if (server_keyfile_load(o.key_file, &keys) != 0) {
    return 1;
  }
  o.serve.db_path = o.db;
  o.serve.listen = o.listen;
  o.serve.realm = (const uint8_t *)o.realm;
  o.serve.realm_len = realm_len;
  o.serve.keys = keys;
  int rc = server_run(&o.serve);
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
  if (strcmp(cmd, "user") == 0) {
    const char *sub = argc > 2 ? argv[2] : "";
    if (strcmp(sub, "add") == 0) {
      return cmd_user_add(argc - 2, argv + 2);
    }
    if (strcmp(sub, "del") == 0) {
      return cmd_user_del(argc - 2, argv + 2);
    }
    if (strcmp(sub, "list") == 0) {
      return cmd_user_list(argc - 2, argv + 2);
    }
    if (strcmp(sub, "--help") == 0) {
      printf("%s\n%s\n%s", USAGE_USER_ADD, USAGE_USER_DEL, USAGE_USER_LIST);
      return 0;
    }
    fprintf(stderr, "unknown user command \"%s\" (add, del, list)\n", sub);
    return EXIT_USAGE;
  }
  fprintf(stderr, "unknown command \"%s\"\n", cmd);
  fputs(USAGE, stderr);
  return EXIT_USAGE;
}
