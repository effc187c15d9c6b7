/*
 * cpns-msg id entity|user STRING: prints the normal form of an Entity ID or
 * User ID (PROTOCOL.md §2), or one line naming the offending byte offset and
 * what the grammar expected there.
 */
#include <stdio.h>
#include <string.h>

#include <cpns/ident.h>

#include "examples/common/cli.h"
#include "examples/msg/msg.h"

typedef int (*normalize_fn)(const uint8_t *in, size_t inlen, uint8_t *out, size_t outlen,
                            size_t *outlen_written, cpns_ident_error *err);

static int usage(void) {
  fprintf(stderr, "usage: cpns-msg id entity|user STRING\n");
  return 2;
}

int msg_id_main(int argc, char **argv) {
  if (argc != 3)
    return usage();
  normalize_fn normalize;
  const char *what;
  if (strcmp(argv[1], "entity") == 0) {
    normalize = cpns_entity_id_normalize;
    what = "Entity ID";
  } else if (strcmp(argv[1], "user") == 0) {
    normalize = cpns_user_id_normalize;
    what = "User ID";
  } else {
    return usage();
  }

  const uint8_t *in = (const uint8_t *)argv[2];
  size_t inlen = strlen(argv[2]);
  uint8_t out[256]; /* both normal forms fit: at most 255 / 253 octets */
  size_t outlen = 0;
  cpns_ident_error err;
  int rc = normalize(in, inlen, out, sizeof out, &outlen, &err);
  if (rc != 0) {
    cli_print_ident_error("cpns-msg id", what, in, inlen, rc, &err);
    return 1;
  }
  fwrite(out, 1, outlen, stdout);
  fputc('\n', stdout);
  return fflush(stdout) == 0 ? 0 : 1;
}
