/*
 * cpns-msg: inspect CPNS messages. Subcommands live in their own files
 * (msg.h); this file only dispatches and prints the overall help.
 */
#include <stdio.h>
#include <string.h>

#include <cpns/cpns.h>
#include <cpns/version.h>

#include "examples/msg/msg.h"

static void usage(FILE *f) {
  fprintf(f, "usage: cpns-msg decode [--transcript] [--hex] [--max-len N] FILE|-\n"
             "       cpns-msg id entity|user STRING\n"
             "       cpns-msg --help | --version\n"
             "\n"
             "decode  strictly decodes one DER CpnsPdu (or, with --transcript, an\n"
             "        AuthTranscript), says whether it is valid DER and valid per\n"
             "        the CPNS-EUKey module, and prints it; or says exactly why it\n"
             "        is rejected (exit status 1).\n"
             "id      prints the normal form of an Entity ID or User ID, or where\n"
             "        and why it is invalid.\n");
}

int main(int argc, char **argv) {
  if (argc < 2) {
    usage(stderr);
    return 2;
  }
  if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
    usage(stdout);
    return 0;
  }
  if (strcmp(argv[1], "--version") == 0) {
    printf("cpns-msg (libcpns) %s\n", CPNS_VERSION);
    return 0;
  }
  if (cpns_init() != 0) {
    fprintf(stderr, "cpns-msg: cannot initialise libcpns\n");
    return 2;
  }
  if (strcmp(argv[1], "decode") == 0)
    return msg_decode_main(argc - 1, argv + 1);
  if (strcmp(argv[1], "id") == 0)
    return msg_id_main(argc - 1, argv + 1);
  fprintf(stderr, "cpns-msg: unknown command '%s'\n", argv[1]);
  usage(stderr);
  return 2;
}
