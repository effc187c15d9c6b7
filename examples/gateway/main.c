/*
 * cpns-gateway: a PN GW without pre-configured credentials obtains its
 * EUKey from a CPNS Server with its owner's User ID and password
 * (PROTOCOL.md §4, §7). This file: the command dispatch and --help.
 */
#include "examples/gateway/gateway.h"

#include <string.h>

void gateway_usage(FILE *out) {
  fputs("Usage:\n"
        "  cpns-gateway assign --server HOST:PORT --entity-id URN --user ID\n"
        "                      --keystore PATH --device-key PATH [--password-file FILE]\n"
        "                      [--mode pn-gw|pne-pn-gw] [--min-ops N] [--max-ops N]\n"
        "                      [--min-mem-kib N] [--max-mem-kib N] [--timeout-ms N]\n"
        "                      [--allow-suite1]\n"
        "  cpns-gateway show --keystore PATH --device-key PATH [--reveal-key | --json]\n"
        "  cpns-gateway --help | --version\n"
        "\n"
        "assign  asks the CPNS Server for an EUKey for this gateway (Entity ID URN)\n"
        "        on behalf of the user, and keeps it in the sealed key store.\n"
        "        Without --password-file the password is read from the terminal\n"
        "        without echo (--password-file - reads standard input; a file must\n"
        "        be mode 0600 and not a symbolic link, as the device key). The device\n"
        "        key file is created if it does not exist.\n"
        "        Speaks protocol version 2 and offers suite 2 (OPAQUE-3DH) only: an\n"
        "        eavesdropper or a server impostor gets nothing to test passwords\n"
        "        against offline.\n"
        "        Prints \"result: ...\" and, on success, \"keyId: <hex>\" on stdout.\n"
        "  --mode          pn-gw (default) or pne-pn-gw\n"
        "  --allow-suite1  also offer suite 1 (Argon2id challenge-response), and retry\n"
        "                  with a version-1 request when the server does not speak\n"
        "                  version 2; exposes the password to offline guessing by a\n"
        "                  server impostor (PROTOCOL.md section 9)\n"
        "  --min-ops N     suite 1: refuse a server asking for Argon2id t < N (default 3)\n"
        "  --max-ops N     refuse a server asking for Argon2id t > N (default 10)\n"
        "  --min-mem-kib N suite 1: refuse a server asking for less than N KiB\n"
        "                  (default 65536)\n"
        "  --max-mem-kib N refuse a server asking for more than N KiB (default 1048576)\n"
        "  --timeout-ms N  time allowed to connect and for each answer (default 30000)\n"
        "show    prints realm, entity, user, mode, keyId and time of the stored key,\n"
        "        one \"name: value\" per line; the EUKey only with --reveal-key.\n"
        "  --json          one JSON object instead (doc/json.md); never the EUKey\n"
        "\n"
        "Exit status:\n"
        "  0  success\n"
        "  2  usage error (bad option, invalid Entity ID or User ID)\n"
        "  3  authentication failed (unknown user ID or wrong password; with suite 2\n"
        "     the gateway finds out itself and sends no proof)\n"
        "  4  refused by the server (tryLater, entityConflict, serverError, ...)\n"
        "  5  network failure (cannot connect, connection lost, no answer in time)\n"
        "  6  protocol error (invalid answer, bad signature, KDF parameters outside limits)\n"
        "  7  local error (key store, device key, password file, memory)\n",
        out);
}

int gateway_mode_parse(const char *name, cpns_mode *mode) {
  if (strcmp(name, "pn-gw") == 0) {
    *mode = CPNS_MODE_PN_GW;
  } else if (strcmp(name, "pne-pn-gw") == 0) {
    *mode = CPNS_MODE_PNE_PLUS_PN_GW;
  } else {
    return -1;
  }
  return 0;
}

const char *gateway_mode_name(cpns_mode mode) {
  return mode == CPNS_MODE_PNE_PLUS_PN_GW ? "pne-pn-gw" : "pn-gw";
}

int main(int argc, char **argv) {
  if (argc < 2) {
    gateway_usage(stderr);
    return GW_EXIT_USAGE;
  }
  const char *cmd = argv[1];
  if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
    gateway_usage(stdout);
    return GW_EXIT_OK;
  }
  if (strcmp(cmd, "--version") == 0) {
    printf("cpns-gateway (libcpns) %s\n", CPNS_VERSION);
    return GW_EXIT_OK;
  }
  if (cpns_init() != 0) {
    fprintf(stderr, "cpns-gateway: cannot initialise libcpns (libsodium)\n");
    return GW_EXIT_LOCAL;
  }
  if (strcmp(cmd, "assign") == 0) {
    return gateway_assign_main(argc - 1, argv + 1);
  }
  if (strcmp(cmd, "show") == 0) {
    return gateway_show_main(argc - 1, argv + 1);
  }
  fprintf(stderr, "cpns-gateway: unknown command '%s'\nTry 'cpns-gateway --help'.\n", cmd);
  return GW_EXIT_USAGE;
}
