/*
 * cpns-msg decode FILE|-: strict decoding of one CpnsPdu (or AuthTranscript)
 * with a verdict on each level: DER, the ASN.1 module (v1 and v2), and the
 * identifier, version, presence and consistency rules of PROTOCOL.md §2-§4.
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cpns/codec.h>

#include "examples/common/cli.h"
#include "examples/msg/msg.h"

/* Reads at most this much: enough to see that a longer input is too long. */
#define READ_CAP (64 * 1024)

static int usage(void) {
  fprintf(stderr, "usage: cpns-msg decode [--transcript] [--hex] [--max-len N] FILE|-\n");
  return 2;
}

/* What a rejection says about each level: 1 yes, 0 no, -1 not reached. */
static void verdict(int rc, int *der, int *module) {
  switch (rc) {
  case CPNS_ERR_DER_TRUNCATED:
  case CPNS_ERR_DER_INDEFINITE_LENGTH:
  case CPNS_ERR_DER_NON_MINIMAL_LENGTH:
  case CPNS_ERR_DER_HIGH_TAG_FORM:
  case CPNS_ERR_DER_TOO_DEEP:
  case CPNS_ERR_DER_TRAILING_BYTES: *der = 0, *module = -1; return;
  case CPNS_ERR_DER_CONSTRUCTED_STRING:
  case CPNS_ERR_DER_NON_MINIMAL_INTEGER:
  case CPNS_ERR_DER_NON_CANONICAL:
    *der = 0, *module = 1; /* the value is fine, its encoding is not DER */
    return;
  case CPNS_ERR_DECODE:
  case CPNS_ERR_WRONG_CHOICE:
    *der = -1, *module = 0; /* well-formed TLVs that do not fit the module */
    return;
  case CPNS_ERR_CONSTRAINT:
  case CPNS_ERR_EXTENSION_PRESENT:
  case CPNS_ERR_UNKNOWN_ENUM: *der = -1, *module = 0; return;
  default: *der = -1, *module = -1;
  }
}

static const char *level(int v) {
  return v > 0 ? "yes" : v == 0 ? "no" : "not determined (rejected earlier)";
}

/* Whole input into buf; returns its length, or -1 with a message. */
static long read_input(const char *path, uint8_t *buf, size_t cap) {
  FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
  size_t n;
  if (!f) {
    fprintf(stderr, "cpns-msg: %s: %s\n", path, strerror(errno));
    return -1;
  }
  n = fread(buf, 1, cap, f);
  if (ferror(f)) {
    fprintf(stderr, "cpns-msg: %s: read error\n", path);
    if (f != stdin)
      fclose(f);
    return -1;
  }
  if (f != stdin)
    fclose(f);
  return (long)n;
}

/* Hex text (white space ignored) to octets in place; -1 if malformed. */
static long unhex(uint8_t *buf, size_t len) {
  size_t i, out = 0;
  int hi = -1;
  for (i = 0; i < len; i++) {
    int c = buf[i], v;
    if (isspace(c))
      continue;
    if (c >= '0' && c <= '9')
      v = c - '0';
    else if (c >= 'a' && c <= 'f')
      v = c - 'a' + 10;
    else if (c >= 'A' && c <= 'F')
      v = c - 'A' + 10;
    else
      return -1;
    if (hi < 0) {
      hi = v;
    } else {
      buf[out++] = (uint8_t)(hi << 4 | v);
      hi = -1;
    }
  }
  return hi < 0 ? (long)out : -1;
}

/* §2-§4 rules of one PDU. A KeyRequest's role and suite follow from its
 * fields: a response or ke3 makes it a second one (of suite 1 or 2). */
static int validate(const cpns_pdu *pdu) {
  switch (pdu->type) {
  case CPNS_PDU_KEY_REQUEST: {
    const cpns_key_request *r = &pdu->u.key_request;
    if (!r->has_response && !r->has_ke3)
      return cpns_key_request_validate_first(r);
    return cpns_key_request_validate_second(
        r, r->has_ke3 ? CPNS_SUITE_OPAQUE3DH_RISTRETTO255_SHA512_ARGON2ID
                      : CPNS_SUITE_ARGON2ID_HMACSHA256_XCHACHA20POLY1305);
  }
  case CPNS_PDU_KEY_CHALLENGE: return cpns_key_challenge_validate(&pdu->u.key_challenge);
  case CPNS_PDU_KEY_DELIVERY: return cpns_key_delivery_validate(&pdu->u.key_delivery);
  }
  return CPNS_ERR_INVALID_ARGUMENT;
}

static int print_transcript(const cpns_auth_transcript *t) {
  size_t i;
  printf("AuthTranscript\nversion: %lu\nofferedSuites:", (unsigned long)t->version);
  size_t used = 0;
  for (i = 0; i < t->offered_suites_len; i++) {
    size_t len = t->offered_suites_wide.len[i];
    if (len == 0) {
      printf(" %ld", (long)t->offered_suites[i]);
      continue;
    }
    printf(" 0x"); /* outside int32_t: its two's complement contents */
    for (size_t j = 0; j < len; j++)
      printf("%02x", t->offered_suites_wide.octets[used + j]);
    used += len;
  }
  printf("\nsuite: %d\nrealm: %.*s\nentityId: %.*s\nuserId: %.*s\nmode: %d\n", (int)t->suite,
         (int)t->realm_len, (const char *)t->realm, (int)t->entity_id_len,
         (const char *)t->entity_id, (int)t->user_id_len, (const char *)t->user_id, (int)t->mode);
  printf("kdfParams.opsLimit: %lu\nkdfParams.memLimitKiB: %lu\n", (unsigned long)t->kdf.ops_limit,
         (unsigned long)t->kdf.mem_limit_kib);
  return 0;
}

int msg_decode_main(int argc, char **argv) {
  static uint8_t buf[READ_CAP];
  static char text[16384];
  cpns_decode_limits limits;
  const char *path = NULL;
  int transcript = 0, hex = 0, rc, der, module, i;
  long n;

  static const struct option longopts[] = {{"help", no_argument, NULL, 'h'},
                                           {"transcript", no_argument, NULL, 't'},
                                           {"hex", no_argument, NULL, 'x'},
                                           {"max-len", required_argument, NULL, 'm'},
                                           {NULL, 0, NULL, 0}};
  uint64_t max_len;
  cpns_decode_limits_default(&limits);
  optind = 1;
  while ((i = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
    switch (i) {
    case 'h':
      printf("usage: cpns-msg decode [--transcript] [--hex] [--max-len N] FILE|-\n"
             "Strictly decodes one DER CpnsPdu from FILE (or standard input),\n"
             "prints it and exits 0, or prints why it is rejected and exits 1.\n"
             "  --transcript  decode an AuthTranscript (AuthMessage) instead\n"
             "  --hex         the input is hexadecimal text\n"
             "  --max-len N   longest accepted input (default %d octets)\n",
             CPNS_PDU_MAX_DEFAULT);
      return 0;
    case 't': transcript = 1; break;
    case 'x': hex = 1; break;
    case 'm':
      if (cli_parse_u64("--max-len", optarg, 1, READ_CAP, &max_len) != 0)
        return usage();
      limits.max_len = (size_t)max_len;
      break;
    default: return usage();
    }
  }
  if (optind + 1 == argc)
    path = argv[optind];
  if (!path)
    return usage();
  n = read_input(path, buf, sizeof(buf));
  if (n < 0)
    return 2;
  if (hex && (n = unhex(buf, (size_t)n)) < 0) {
    fprintf(stderr, "cpns-msg: %s: not hexadecimal text\n", path);
    return 2;
  }

  if (transcript) {
    cpns_auth_transcript t;
    rc = cpns_auth_transcript_decode(&t, buf, (size_t)n, &limits);
    if (rc == 0) {
      printf("valid DER: yes\nvalid per module: yes\n");
      return print_transcript(&t);
    }
  } else {
    cpns_pdu pdu;
    rc = cpns_pdu_decode(&pdu, buf, (size_t)n, &limits);
    if (rc == 0) {
      int sem = validate(&pdu);
      printf("valid DER: yes\nvalid per module: yes\n");
      if (sem == 0)
        printf("valid per PROTOCOL.md (identifiers, version, presence, consistency): yes\n");
      else
        printf("valid per PROTOCOL.md (identifiers, version, presence, consistency): no: %s "
               "(%s, %d)\n",
               cpns_strerror(sem), cpns_error_name(sem), sem);
      if (cpns_pdu_format(&pdu, text, sizeof(text)) != 0)
        return 2;
      fputs(text, stdout);
      return 0;
    }
  }
  verdict(rc, &der, &module);
  printf("rejected: %s (%s, %d)\n", cpns_strerror(rc), cpns_error_name(rc), rc);
  printf("valid DER: %s\nvalid per module: %s\n", level(der), level(module));
  return 1;
}
