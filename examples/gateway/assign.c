/*
 * `cpns-gateway assign`: asks a CPNS Server for an EUKey with the user's
 * User ID and password, then keeps it in the sealed key store.
 */
#define _POSIX_C_SOURCE 200809L

#include "examples/gateway/gateway.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "examples/common/cli.h"

typedef struct assign_opts {
  const char *server;
  const char *entity_id;
  const char *user_id;
  const char *password_file;
  const char *keystore;
  const char *device_key;
  /* Mode, KDF bounds and the reply timeout (which also bounds each send
   * and the connect): the library's defaults, changed by the options. */
  cpns_gateway_settings settings;
} assign_opts;

static int usage_error(const char *msg, const char *arg) {
  fprintf(stderr, "cpns-gateway assign: %s%s%s\n", msg, arg ? ": " : "", arg ? arg : "");
  fprintf(stderr, "Try 'cpns-gateway --help'.\n");
  return GW_EXIT_USAGE;
}

static int parse_assign_opts(int argc, char **argv, assign_opts *o) {
  memset(o, 0, sizeof *o);
  cpns_gateway_settings_default(&o->settings);
  cpns_gateway_settings *st = &o->settings;
  enum {
    OPT_SERVER = 1000,
    OPT_ENTITY_ID,
    OPT_USER,
    OPT_PASSWORD_FILE,
    OPT_KEYSTORE,
    OPT_DEVICE_KEY,
    OPT_MODE,
    OPT_MIN_OPS,
    OPT_MIN_MEM_KIB,
    OPT_MAX_OPS,
    OPT_MAX_MEM_KIB,
    OPT_TIMEOUT_MS,
    OPT_ALLOW_SUITE1
  };
  static const struct option longopts[] = {
      {"help", no_argument, NULL, 'h'},
      {"server", required_argument, NULL, OPT_SERVER},
      {"entity-id", required_argument, NULL, OPT_ENTITY_ID},
      {"user", required_argument, NULL, OPT_USER},
      {"password-file", required_argument, NULL, OPT_PASSWORD_FILE},
      {"keystore", required_argument, NULL, OPT_KEYSTORE},
      {"device-key", required_argument, NULL, OPT_DEVICE_KEY},
      {"mode", required_argument, NULL, OPT_MODE},
      {"min-ops", required_argument, NULL, OPT_MIN_OPS},
      {"min-mem-kib", required_argument, NULL, OPT_MIN_MEM_KIB},
      {"max-ops", required_argument, NULL, OPT_MAX_OPS},
      {"max-mem-kib", required_argument, NULL, OPT_MAX_MEM_KIB},
      {"timeout-ms", required_argument, NULL, OPT_TIMEOUT_MS},
      {"allow-suite1", no_argument, NULL, OPT_ALLOW_SUITE1},
      {NULL, 0, NULL, 0}};
  optind = 1;
  opterr = 0; /* our own message, then the hint */
  int opt;
  while ((opt = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
    uint64_t num = 0;
    int rc = 0;
    switch (opt) {
    case 'h': gateway_usage(stdout); return -1;
    case OPT_SERVER: o->server = optarg; break;
    case OPT_ENTITY_ID: o->entity_id = optarg; break;
    case OPT_USER: o->user_id = optarg; break;
    case OPT_PASSWORD_FILE: o->password_file = optarg; break;
    case OPT_KEYSTORE: o->keystore = optarg; break;
    case OPT_DEVICE_KEY: o->device_key = optarg; break;
    case OPT_MODE:
      if (gateway_mode_parse(optarg, &st->mode) != 0) {
        return usage_error("--mode must be pn-gw or pne-pn-gw", optarg);
      }
      break;
    case OPT_MIN_OPS:
      rc = cli_parse_u64("--min-ops", optarg, CPNS_OPS_LIMIT_MIN, CPNS_OPS_LIMIT_MAX, &num);
      st->min_ops_limit = (uint32_t)num;
      break;
    case OPT_MIN_MEM_KIB:
      rc = cli_parse_u64("--min-mem-kib", optarg, CPNS_MEM_LIMIT_KIB_MIN, CPNS_MEM_LIMIT_KIB_MAX,
                         &num);
      st->min_mem_limit_kib = (uint32_t)num;
      break;
    case OPT_MAX_OPS:
      rc = cli_parse_u64("--max-ops", optarg, CPNS_OPS_LIMIT_MIN, CPNS_OPS_LIMIT_MAX, &num);
      st->max_ops_limit = (uint32_t)num;
      break;
    case OPT_MAX_MEM_KIB:
      rc = cli_parse_u64("--max-mem-kib", optarg, CPNS_MEM_LIMIT_KIB_MIN, CPNS_MEM_LIMIT_KIB_MAX,
                         &num);
      st->max_mem_limit_kib = (uint32_t)num;
      break;
    case OPT_TIMEOUT_MS:
      rc = cli_parse_u64("--timeout-ms", optarg, 1, 86400000u, &num);
      st->reply_timeout_ms = num;
      break;
    case OPT_ALLOW_SUITE1: st->allow_suite1 = 1; break;
    default: return usage_error("unknown option or missing value", argv[optind - 1]);
    }
    if (rc != 0) {
      fprintf(stderr, "Try 'cpns-gateway --help'.\n");
      return GW_EXIT_USAGE;
    }
  }
  if (optind < argc) {
    return usage_error("unexpected argument", argv[optind]);
  }
  if (st->min_ops_limit > st->max_ops_limit) {
    fprintf(stderr, "cpns-gateway assign: --min-ops %u is above --max-ops %u\n",
            (unsigned)st->min_ops_limit, (unsigned)st->max_ops_limit);
    return GW_EXIT_USAGE;
  }
  if (st->min_mem_limit_kib > st->max_mem_limit_kib) {
    fprintf(stderr, "cpns-gateway assign: --min-mem-kib %u is above --max-mem-kib %u\n",
            (unsigned)st->min_mem_limit_kib, (unsigned)st->max_mem_limit_kib);
    return GW_EXIT_USAGE;
  }
  if (o->server == NULL) {
    return usage_error("missing --server HOST:PORT", NULL);
  }
  if (o->entity_id == NULL) {
    return usage_error("missing --entity-id URN", NULL);
  }
  if (o->user_id == NULL) {
    return usage_error("missing --user ID", NULL);
  }
  if (o->keystore == NULL) {
    return usage_error("missing --keystore PATH", NULL);
  }
  if (o->device_key == NULL) {
    return usage_error("missing --device-key PATH", NULL);
  }
  return 0;
}

/* Checks an identifier with the library's parser to say what is wrong with it. */
static int check_identifier(const char *opt, const char *value, int is_entity) {
  uint8_t norm[CPNS_ENTITY_ID_MAX > CPNS_USER_ID_MAX ? CPNS_ENTITY_ID_MAX : CPNS_USER_ID_MAX];
  size_t len = strlen(value), written = 0;
  cpns_ident_error err = {0, "at most 255 (Entity ID) or 253 (User ID) octets"};
  int rv;
  if (len > sizeof norm) {
    rv = CPNS_ERR_ID_TOO_LONG;
    err.offset = sizeof norm;
  } else if (is_entity) {
    rv = cpns_entity_id_normalize((const uint8_t *)value, len, norm, sizeof norm, &written, &err);
  } else {
    rv = cpns_user_id_normalize((const uint8_t *)value, len, norm, sizeof norm, &written, &err);
  }
  if (rv == 0) {
    return 0;
  }
  char who[64];
  snprintf(who, sizeof who, "cpns-gateway assign: %s", opt);
  cli_print_ident_error(who, is_entity ? "Entity ID (urn:NID:NSS)" : "User ID (user@realm)",
                        (const uint8_t *)value, len, rv, &err);
  return GW_EXIT_USAGE;
}

/* Loads the device key, creating the file first if it does not exist. */
static int device_key_get(uint8_t *key, const char *path) {
  struct stat st;
  if (stat(path, &st) != 0 && errno == ENOENT) {
    int rv = cpns_device_key_generate(path);
    if (rv != 0) {
      fprintf(stderr, "cpns-gateway: cannot create device key %s: %s (%s)\n", path,
              cpns_strerror(rv), strerror(errno));
      return GW_EXIT_LOCAL;
    }
    fprintf(stderr, "created device key %s\n", path);
  }
  int rv = cpns_device_key_load(key, path);
  if (rv != 0) {
    int saved = errno;
    fprintf(stderr, "cpns-gateway: cannot use device key %s: %s%s%s\n", path, cpns_strerror(rv),
            rv == CPNS_ERR_IO ? ": " : "", rv == CPNS_ERR_IO ? strerror(saved) : "");
    return GW_EXIT_LOCAL;
  }
  return 0;
}

/*
 * Checks that the key store's directory is writable: the server keeps the
 * assignment, so failing to store the key afterwards would waste it.
 */
static int keystore_dir_check(const char *path) {
  char dir[4096];
  const char *slash = strrchr(path, '/');
  if (slash == NULL) {
    snprintf(dir, sizeof dir, ".");
  } else if (slash == path) {
    snprintf(dir, sizeof dir, "/");
  } else if ((size_t)(slash - path) < sizeof dir) {
    memcpy(dir, path, (size_t)(slash - path));
    dir[slash - path] = '\0';
  } else {
    fprintf(stderr, "cpns-gateway: key store path too long: %s\n", path);
    return GW_EXIT_LOCAL;
  }
  if (access(dir, W_OK | X_OK) != 0) {
    fprintf(stderr, "cpns-gateway: cannot write the key store %s: directory %s: %s\n", path, dir,
            strerror(errno));
    return GW_EXIT_LOCAL;
  }
  return 0;
}

/* For a server that may speak suite 1 only: the option, and its price (§9). */
static void suite1_hint(void) {
  fprintf(stderr, "cpns-gateway: this gateway offers suite 2 (OPAQUE) only; if the server "
                  "speaks suite 1 only (an earlier release, or set up so), --allow-suite1 "
                  "offers suite 1 too, which lets a server impostor test password guesses "
                  "offline\n");
}

/* Explains a refusal by the server in one line and picks its exit code. */
static int report_refusal(int result, const assign_opts *o) {
  switch (result) {
  case CPNS_RESULT_AUTHENTICATION_FAILED:
    fprintf(stderr, "cpns-gateway: authentication failed: unknown user ID or wrong password\n");
    return GW_EXIT_AUTH;
  case CPNS_RESULT_TRY_LATER:
    fprintf(stderr, "cpns-gateway: the server asks to try again later "
                    "(too many failed attempts for this user, or busy)\n");
    break;
  case CPNS_RESULT_ENTITY_CONFLICT:
    fprintf(stderr,
            "cpns-gateway: the server refused: entity %s already belongs to "
            "another user\n",
            o->entity_id);
    break;
  case CPNS_RESULT_UNSUPPORTED_VERSION:
  case CPNS_RESULT_UNSUPPORTED_SUITE:
    fprintf(stderr,
            "cpns-gateway: the server refused: it does not speak this protocol "
            "version or cipher suite (%s)\n",
            cpns_result_name(result));
    if (!o->settings.allow_suite1) {
      suite1_hint();
    }
    break;
  case CPNS_RESULT_BAD_REQUEST:
    fprintf(stderr, "cpns-gateway: the server refused the request as malformed (badRequest)\n");
    break;
  case CPNS_RESULT_SERVER_ERROR:
    fprintf(stderr, "cpns-gateway: the server failed to complete the assignment "
                    "(serverError); no key was assigned\n");
    break;
  default: fprintf(stderr, "cpns-gateway: the server refused with result %d\n", result); break;
  }
  return GW_EXIT_REFUSED;
}

/* Names the server's KDF parameters and the local bounds they break (§7). */
static void report_kdf_refusal(const cpns_gateway *gw, const assign_opts *o) {
  cpns_kdf_params kdf;
  char asked[64] = "";
  const char *why = "outside this gateway's bounds";
  if (cpns_gateway_get_challenge(gw, &kdf, NULL, NULL) == 0) {
    snprintf(asked, sizeof asked, " (Argon2id t=%u, %u KiB)", (unsigned)kdf.ops_limit,
             (unsigned)kdf.mem_limit_kib);
    if (kdf.ops_limit < o->settings.min_ops_limit ||
        kdf.mem_limit_kib < o->settings.min_mem_limit_kib) {
      /* Cheap parameters are what a server impostor asks for (§9). */
      why = "below this gateway's minimums (password guesses would be cheap)";
    } else if (kdf.ops_limit > o->settings.max_ops_limit ||
               kdf.mem_limit_kib > o->settings.max_mem_limit_kib) {
      why = "above this gateway's limits";
    }
  }
  fprintf(stderr,
          "cpns-gateway: refusing the server's key derivation parameters%s: %s "
          "(--min-ops %u, --max-ops %u, --min-mem-kib %u, --max-mem-kib %u)\n",
          asked, why, (unsigned)o->settings.min_ops_limit, (unsigned)o->settings.max_ops_limit,
          (unsigned)o->settings.min_mem_limit_kib, (unsigned)o->settings.max_mem_limit_kib);
}

/* Explains why the engine failed and picks the exit code. */
static int report_failure(const cpns_gateway *gw, const assign_opts *o) {
  int err = cpns_gateway_get_error(gw);
  int suite = 0;
  cpns_result received;
  int result = cpns_gateway_get_result(gw, &received) == 0 ? (int)received : -1;
  if (result >= 0) {
    printf("result: %s\n", cpns_result_name(result));
  }
  switch (err) {
  case CPNS_ERR_REFUSED: return report_refusal(result, o);
  case CPNS_ERR_TIMEOUT:
    fprintf(stderr, "cpns-gateway: the server did not answer within %llu ms\n",
            (unsigned long long)o->settings.reply_timeout_ms);
    return GW_EXIT_NETWORK;
  case CPNS_ERR_PEER_CLOSED:
    fprintf(stderr, "cpns-gateway: the server closed the connection before the exchange "
                    "finished\n");
    if (!o->settings.allow_suite1 && cpns_gateway_get_suite(gw, &suite) == CPNS_ERR_STATE) {
      /* No KeyChallenge: a server of an earlier release closes on a version-2 request. */
      suite1_hint();
    }
    return GW_EXIT_NETWORK;
  case CPNS_ERR_AUTH_FAILED:
    /* Suite 2: found by the gateway itself in KE2; no proof was sent. */
    if (result < 0) {
      printf("result: %s\n", cpns_result_name(CPNS_RESULT_AUTHENTICATION_FAILED));
    }
    return report_refusal(CPNS_RESULT_AUTHENTICATION_FAILED, o);
  case CPNS_ERR_KDF_PARAMS: report_kdf_refusal(gw, o); return GW_EXIT_PROTOCOL;
  case CPNS_ERR_SIGNATURE:
    fprintf(stderr, "cpns-gateway: the server could not prove it knows the password "
                    "(bad signature); nothing stored\n");
    return GW_EXIT_PROTOCOL;
  case CPNS_ERR_DECRYPT:
    fprintf(stderr, "cpns-gateway: the delivered key does not decrypt (tampered or "
                    "wrong key); nothing stored\n");
    return GW_EXIT_PROTOCOL;
  case CPNS_ERR_KDF:
  case CPNS_ERR_NOMEM:
    fprintf(stderr, "cpns-gateway: key derivation failed on this device: %s\n", cpns_strerror(err));
    return GW_EXIT_LOCAL;
  default:
    fprintf(stderr, "cpns-gateway: protocol error: %s\n", cpns_strerror(err));
    return GW_EXIT_PROTOCOL;
  }
}

/* Stores the EUKey of a finished engine; prints keyId. */
static int store_result(const cpns_gateway *gw, const assign_opts *o, const uint8_t *device_key) {
  cpns_keystore_entry *e = sodium_malloc(sizeof *e);
  if (e == NULL) {
    fprintf(stderr, "cpns-gateway: out of memory\n");
    return GW_EXIT_LOCAL;
  }
  memset(e, 0, sizeof *e);
  cpns_kdf_params kdf;
  int suite = 0;
  int rv = cpns_gateway_get_eukey(gw, e->eukey, e->key_id);
  if (rv == 0) {
    rv = cpns_gateway_get_challenge(gw, &kdf, e->realm, &e->realm_len);
  }
  if (rv == 0) {
    rv = cpns_gateway_get_suite(gw, &suite);
  }
  if (rv != 0) {
    fprintf(stderr, "cpns-gateway: internal error: %s\n", cpns_strerror(rv));
    sodium_free(e);
    return GW_EXIT_LOCAL;
  }
  e->entity_id_len = strlen(o->entity_id);
  memcpy(e->entity_id, o->entity_id, e->entity_id_len);
  e->user_id_len = strlen(o->user_id);
  memcpy(e->user_id, o->user_id, e->user_id_len);
  e->mode = o->settings.mode;
  e->assigned_at = (uint64_t)time(NULL);

  char key_id_hex[2 * CPNS_KEY_ID_LEN + 1];
  cli_hex(key_id_hex, e->key_id, CPNS_KEY_ID_LEN);
  rv = cpns_keystore_save(o->keystore, e, device_key);
  sodium_free(e); /* wipes the EUKey */
  printf("result: success\nkeyId: %s\nsuite: %d\n", key_id_hex, suite);
  if (rv != 0) {
    fprintf(stderr,
            "cpns-gateway: the server assigned key %s but it cannot be stored in "
            "%s: %s (%s)\n",
            key_id_hex, o->keystore, cpns_strerror(rv), strerror(errno));
    return GW_EXIT_LOCAL;
  }
  return GW_EXIT_OK;
}

/* The exchange proper, once options, password and device key are at hand. */
static int run_assign(const assign_opts *o, uint8_t *pw, size_t pw_len, const uint8_t *device_key) {
  char host[256], port[8];
  if (cli_split_host_port(o->server, host, sizeof host, port, sizeof port) != 0) {
    return usage_error("--server must be HOST:PORT or [IPv6]:PORT", o->server);
  }
  cpns_gateway_settings s = o->settings;
  s.entity_id = (const uint8_t *)o->entity_id;
  s.entity_id_len = strlen(o->entity_id);
  s.user_id = (const uint8_t *)o->user_id;
  s.user_id_len = strlen(o->user_id);
  s.password = pw;
  s.password_len = pw_len;
  cpns_gateway *gw = NULL;
  int rv = cpns_gateway_new(&gw, &s, NULL, cli_now_ms());
  sodium_memzero(pw, pw_len); /* the engine has its own guarded copy */
  if (rv != 0) {
    fprintf(stderr, "cpns-gateway: cannot start the exchange: %s\n", cpns_strerror(rv));
    return rv == CPNS_ERR_NOMEM ? GW_EXIT_LOCAL : GW_EXIT_USAGE;
  }
  int code, restarted = 0;
  for (;;) {
    int fd = gateway_connect(host, port, s.reply_timeout_ms);
    if (fd < 0) {
      code = GW_EXIT_NETWORK;
      break;
    }
    code = gateway_exchange(gw, fd, s.reply_timeout_ms);
    close(fd);
    if (code != 0 || cpns_gateway_get_state(gw) != CPNS_GATEWAY_RECONNECT) {
      break;
    }
    if (restarted++) {
      fprintf(stderr, "cpns-gateway: internal error: asked to reconnect twice\n");
      code = GW_EXIT_PROTOCOL;
      break;
    }
    /* --allow-suite1 and a server without version 2: the engine asks for a
     * new connection and a version-1 request (§7; at most once). */
    int why = cpns_gateway_get_error(gw);
    cpns_result result;
    fprintf(stderr,
            "cpns-gateway: the server does not speak protocol version 2 (%s); "
            "retrying with a version-1 request offering suite 1 (--allow-suite1)\n",
            cpns_gateway_get_result(gw, &result) == 0 ? cpns_result_name(result)
            : why != 0                                ? cpns_strerror(why)
                                                      : "no answer");
    rv = cpns_gateway_restart_v1(gw, cli_now_ms());
    if (rv != 0) {
      fprintf(stderr, "cpns-gateway: cannot start the version-1 request: %s\n", cpns_strerror(rv));
      code = GW_EXIT_PROTOCOL;
      break;
    }
  }
  if (code == 0) {
    code = cpns_gateway_get_state(gw) == CPNS_GATEWAY_DONE ? store_result(gw, o, device_key)
                                                           : report_failure(gw, o);
  }
  cpns_gateway_del(gw);
  return code;
}

int gateway_assign_main(int argc, char **argv) {
  assign_opts o;
  int rc = parse_assign_opts(argc, argv, &o);
  if (rc != 0) {
    return rc < 0 ? GW_EXIT_OK : rc; /* -1: --help was printed */
  }
  if ((rc = check_identifier("--entity-id", o.entity_id, 1)) != 0 ||
      (rc = check_identifier("--user", o.user_id, 0)) != 0) {
    return rc;
  }
  uint8_t *device_key = sodium_malloc(CPNS_DEVICE_KEY_LEN);
  if (device_key == NULL) {
    fprintf(stderr, "cpns-gateway: out of memory\n");
    return GW_EXIT_LOCAL;
  }
  /* Local problems first: nothing is sent before the key can be kept. */
  rc = keystore_dir_check(o.keystore);
  if (rc == 0) {
    rc = device_key_get(device_key, o.device_key);
  }
  if (rc != 0) {
    sodium_free(device_key);
    return rc;
  }
  uint8_t *pw = NULL;
  size_t pw_len = 0;
  if (o.password_file != NULL) {
    /* "-": standard input, for automation that pipes the password in. */
    rc = cli_password_from_file(o.password_file, &pw, &pw_len);
  } else {
    char prompt[CPNS_USER_ID_MAX + 32];
    snprintf(prompt, sizeof prompt, "Password for %s: ", o.user_id);
    rc = cli_password_prompt(prompt, 0, &pw, &pw_len);
  }
  if (rc != 0) {
    sodium_free(device_key);
    return GW_EXIT_LOCAL;
  }
  rc = run_assign(&o, pw, pw_len, device_key);
  sodium_free(pw);
  sodium_free(device_key);
  return rc;
}
