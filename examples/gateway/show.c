/*
 * `cpns-gateway show`: opens the sealed key store and prints what it holds,
 * one "name: value" per line or one JSON object (--json); the EUKey itself
 * only when asked to, and never in JSON.
 */
#define _POSIX_C_SOURCE 200809L

#include "examples/gateway/gateway.h"

#include <errno.h>
#include <getopt.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "examples/common/cli.h"
#include "examples/common/json.h"

/* The "version" of the --json document (doc/json.md). */
#define SHOW_JSON_VERSION 1

/* ": <errno text>" after CPNS_ERR_IO (the library leaves errno set), else "". */
#define IO_DETAIL(rv)                                                                              \
  ((rv) == CPNS_ERR_IO ? ": " : ""), ((rv) == CPNS_ERR_IO ? strerror(errno) : "")

static int show_usage_error(const char *msg, const char *arg) {
  fprintf(stderr, "cpns-gateway show: %s%s%s\n", msg, arg ? ": " : "", arg ? arg : "");
  fprintf(stderr, "Try 'cpns-gateway --help'.\n");
  return GW_EXIT_USAGE;
}

/* Prints "name: value" for an octet string that is not NUL-terminated. */
static void print_field(const char *name, const uint8_t *value, size_t len) {
  printf("%s: ", name);
  fwrite(value, 1, len, stdout);
  putchar('\n');
}

static void print_entry(const cpns_keystore_entry *e, int reveal) {
  char hex[2 * CPNS_EUKEY_LEN + 1];
  print_field("realm", e->realm, e->realm_len);
  print_field("entity", e->entity_id, e->entity_id_len);
  print_field("user", e->user_id, e->user_id_len);
  printf("mode: %s\n", gateway_mode_name(e->mode));
  cli_hex(hex, e->key_id, CPNS_KEY_ID_LEN);
  printf("keyId: %s\n", hex);
  char when[32] = "?";
  time_t t = (time_t)e->assigned_at;
  struct tm tm;
  if (gmtime_r(&t, &tm) != NULL) {
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
  }
  printf("time: %s\n", when);
  if (reveal) {
    cli_hex(hex, e->eukey, CPNS_EUKEY_LEN);
    printf("eukey: %s\n", hex);
    sodium_memzero(hex, sizeof hex);
  }
}

/* --json: everything print_entry() shows but the EUKey. Returns 0 or -1. */
static int print_entry_json(const cpns_keystore_entry *e) {
  int64_t at = e->assigned_at <= INT64_MAX ? (int64_t)e->assigned_at : -1; /* -1: refused */
  return json_write(
      stdout, json_pack("{s:i, s:o, s:o, s:o, s:s, s:o, s:o, s:I}", "version", SHOW_JSON_VERSION,
                        "realm", json_octets("the realm", e->realm, e->realm_len), "entityId",
                        json_octets("the Entity ID", e->entity_id, e->entity_id_len), "userId",
                        json_octets("the User ID", e->user_id, e->user_id_len), "mode",
                        gateway_mode_name(e->mode), "keyId", json_hex(e->key_id, CPNS_KEY_ID_LEN),
                        "assignedAt", json_time_s("the assignment time", at), "assignedAtMs",
                        json_s_to_ms(at)));
}

int gateway_show_main(int argc, char **argv) {
  const char *keystore = NULL, *device_key_path = NULL;
  int reveal = 0, json = 0;
  enum { OPT_KEYSTORE = 1000, OPT_DEVICE_KEY, OPT_REVEAL_KEY, OPT_JSON };
  static const struct option longopts[] = {{"help", no_argument, NULL, 'h'},
                                           {"reveal-key", no_argument, NULL, OPT_REVEAL_KEY},
                                           {"json", no_argument, NULL, OPT_JSON},
                                           {"keystore", required_argument, NULL, OPT_KEYSTORE},
                                           {"device-key", required_argument, NULL, OPT_DEVICE_KEY},
                                           {NULL, 0, NULL, 0}};
  optind = 1;
  opterr = 0; /* our own message, then the hint */
  int opt;
  while ((opt = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
    switch (opt) {
    case 'h': gateway_usage(stdout); return GW_EXIT_OK;
    case OPT_REVEAL_KEY: reveal = 1; break;
    case OPT_JSON: json = 1; break;
    case OPT_KEYSTORE: keystore = optarg; break;
    case OPT_DEVICE_KEY: device_key_path = optarg; break;
    default: return show_usage_error("unknown option or missing value", argv[optind - 1]);
    }
  }
  if (optind < argc) {
    return show_usage_error("unexpected argument", argv[optind]);
  }
  if (json && reveal) {
    /* JSON output is for tools and logs: it never carries the key. */
    return show_usage_error("--json and --reveal-key exclude each other", NULL);
  }
  if (keystore == NULL) {
    return show_usage_error("missing --keystore PATH", NULL);
  }
  if (device_key_path == NULL) {
    return show_usage_error("missing --device-key PATH", NULL);
  }
  uint8_t *device_key = sodium_malloc(CPNS_DEVICE_KEY_LEN);
  cpns_keystore_entry *e = sodium_malloc(sizeof *e);
  int code = GW_EXIT_LOCAL;
  if (device_key == NULL || e == NULL) {
    fprintf(stderr, "cpns-gateway: out of memory\n");
    goto out;
  }
  int rv = cpns_device_key_load(device_key, device_key_path);
  if (rv != 0) {
    fprintf(stderr, "cpns-gateway: cannot use device key %s: %s%s%s\n", device_key_path,
            cpns_strerror(rv), IO_DETAIL(rv));
    goto out;
  }
  rv = cpns_keystore_load(e, keystore, device_key);
  if (rv != 0) {
    fprintf(stderr, "cpns-gateway: cannot open key store %s: %s%s%s\n", keystore, cpns_strerror(rv),
            IO_DETAIL(rv));
    goto out;
  }
  if (json) {
    code = print_entry_json(e) == 0 ? GW_EXIT_OK : GW_EXIT_LOCAL;
  } else {
    print_entry(e, reveal);
    code = GW_EXIT_OK;
  }
out:
  if (e != NULL) {
    sodium_free(e);
  }
  if (device_key != NULL) {
    sodium_free(device_key);
  }
  return code;
}
