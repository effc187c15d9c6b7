/*
 * Writes tests/vectors/suite1.json (stdout): suite 1 test vectors computed
 * from fixed inputs. Every random value of a real exchange (salt, nonces,
 * keyId, aeadNonce, EUKey) is a fixed input here, so the output is
 * deterministic. Regenerate with `make vectors` (tests/vectors/README.md).
 */
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include <cpns/crypto.h>

struct input {
  const char *password;
  const char *salt; /* 16 ASCII octets: the argon2 CLI takes the salt as argv */
  uint32_t ops, mem_kib;
  const char *realm, *entity_id, *user_id;
  cpns_mode mode;
  size_t n_offered;
  int32_t offered[CPNS_MAX_OFFERED_SUITES];
};

static const struct input inputs[] = {
    {"pencil",
     "CPNS-salt-0001.a",
     1,
     64,
     "example.org",
     "urn:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6",
     "alice@example.org",
     CPNS_MODE_PN_GW,
     1,
     {1}},
    {"p\xc3\xa4sswort \xe2\x82\xac \xf0\x9f\x94\x91",
     "CPNS-salt-0002.b",
     2,
     256,
     "ex\xc3\xa4mple.org",
     "urn:dev:mac:0024befffe804ff1",
     "j\xc3\xbcrgen@ex\xc3\xa4mple.org",
     CPNS_MODE_PNE_PLUS_PN_GW,
     2,
     {1, 7}},
    {"correct horse battery staple",
     "CPNS-salt-0003.c",
     3,
     1024,
     "home.example",
     "urn:example:gw-1/living%2Droom",
     "bob",
     CPNS_MODE_PNE_PLUS_PN_GW,
     3,
     {3, 1, 2}},
    {"q\"uote\\back\tslash\nnewline",
     "CPNS-salt-0004.d",
     1,
     8,
     "x.y",
     "urn:dev:mac:0024befffe804ff2",
     "\xe7\x94\xa8\xe6\x88\xb7@x.y",
     CPNS_MODE_PN_GW,
     1,
     {1}},
};

/* Fixed stand-in for a CSPRNG value: SHA-256("CPNS vector <i> <name>"). */
static void fixed_bytes(uint8_t *out, size_t len, size_t i, const char *name) {
  char label[64];
  uint8_t h[crypto_hash_sha256_BYTES];
  int n = snprintf(label, sizeof(label), "CPNS vector %zu %s", i, name);
  crypto_hash_sha256(h, (const uint8_t *)label, (size_t)n);
  memcpy(out, h, len);
}

static void put_hex(const char *name, const uint8_t *p, size_t len, int last) {
  printf("    \"%s\": \"", name);
  for (size_t i = 0; i < len; i++) {
    printf("%02x", p[i]);
  }
  printf("\"%s\n", last ? "" : ",");
}

static void put_text(const char *name, const char *s) {
  printf("    \"%s\": \"", name);
  for (; *s != '\0'; s++) {
    unsigned char c = (unsigned char)*s;
    if (c == '"' || c == '\\') {
      printf("\\%c", c);
    } else if (c == '\n') {
      printf("\\n");
    } else if (c == '\t') {
      printf("\\t");
    } else if (c < 0x20) {
      printf("\\u%04x", c);
    } else {
      putchar(c); /* UTF-8 passes through: JSON text is UTF-8 */
    }
  }
  printf("\",\n");
}

static int emit(size_t i, int last) {
  const struct input *in = &inputs[i];
  cpns_auth_transcript t;
  uint8_t am[CPNS_PDU_MAX_ENCODED];
  uint8_t sp[32], ck[32], sk[32], st[32], proof[32], sig[32], wk[32];
  uint8_t key_id[CPNS_KEY_ID_LEN], aead_nonce[CPNS_AEAD_NONCE_LEN], eukey[32], wrapped[48];
  size_t am_len;

  memset(&t, 0, sizeof(t));
  t.version = CPNS_PROTOCOL_VERSION;
  t.offered_suites_len = in->n_offered;
  memcpy(t.offered_suites, in->offered, sizeof(in->offered));
  t.suite = CPNS_SUITE_ARGON2ID_HMACSHA256_XCHACHA20POLY1305;
  t.realm_len = strlen(in->realm);
  memcpy(t.realm, in->realm, t.realm_len);
  t.entity_id_len = strlen(in->entity_id);
  memcpy(t.entity_id, in->entity_id, t.entity_id_len);
  t.user_id_len = strlen(in->user_id);
  memcpy(t.user_id, in->user_id, t.user_id_len);
  t.mode = in->mode;
  fixed_bytes(t.gateway_nonce, CPNS_NONCE_LEN, i, "gatewayNonce");
  fixed_bytes(t.server_nonce, CPNS_NONCE_LEN, i, "serverNonce");
  memcpy(t.kdf.salt, in->salt, CPNS_SALT_LEN);
  t.kdf.ops_limit = in->ops;
  t.kdf.mem_limit_kib = in->mem_kib;
  fixed_bytes(key_id, sizeof(key_id), i, "keyId");
  fixed_bytes(aead_nonce, sizeof(aead_nonce), i, "aeadNonce");
  fixed_bytes(eukey, sizeof(eukey), i, "euKey");

  if (cpns_auth_transcript_encode(&t, am, sizeof(am), &am_len) != 0 ||
      cpns_crypto_salted_password(sp, (const uint8_t *)in->password, strlen(in->password),
                                  &t.kdf) != 0 ||
      cpns_crypto_client_key(ck, sp) != 0 || cpns_crypto_server_key(sk, sp) != 0 ||
      cpns_crypto_stored_key(st, ck) != 0 ||
      cpns_crypto_client_proof(proof, ck, st, am, am_len) != 0 ||
      cpns_crypto_server_signature(sig, sk, am, am_len) != 0 ||
      cpns_crypto_wrap_key(wk, ck, am, am_len) != 0 ||
      cpns_crypto_eukey_wrap(wrapped, eukey, wk, aead_nonce, am, am_len, key_id) != 0) {
    fprintf(stderr, "gen_vectors: vector %zu failed\n", i);
    return -1;
  }

  printf("  {\n");
  put_text("password", in->password);
  put_hex("salt", t.kdf.salt, CPNS_SALT_LEN, 0);
  printf("    \"opsLimit\": %u,\n    \"memLimitKiB\": %u,\n", in->ops, in->mem_kib);
  put_text("realm", in->realm);
  put_text("entityId", in->entity_id);
  put_text("userId", in->user_id);
  printf("    \"mode\": %d,\n    \"offeredSuites\": [", (int)in->mode);
  for (size_t k = 0; k < in->n_offered; k++) {
    printf("%s%d", k ? ", " : "", (int)in->offered[k]);
  }
  printf("],\n    \"suite\": %d,\n", (int)t.suite);
  put_hex("gatewayNonce", t.gateway_nonce, CPNS_NONCE_LEN, 0);
  put_hex("serverNonce", t.server_nonce, CPNS_NONCE_LEN, 0);
  put_hex("authMessage", am, am_len, 0);
  put_hex("saltedPassword", sp, 32, 0);
  put_hex("clientKey", ck, 32, 0);
  put_hex("serverKey", sk, 32, 0);
  put_hex("storedKey", st, 32, 0);
  put_hex("clientProof", proof, 32, 0);
  put_hex("serverSignature", sig, 32, 0);
  put_hex("wrapKey", wk, 32, 0);
  put_hex("keyId", key_id, sizeof(key_id), 0);
  put_hex("aeadNonce", aead_nonce, sizeof(aead_nonce), 0);
  put_hex("euKey", eukey, sizeof(eukey), 0);
  put_hex("wrappedEUKey", wrapped, sizeof(wrapped), 1);
  printf("  }%s\n", last ? "" : ",");
  return 0;
}

int main(void) {
  size_t n = sizeof(inputs) / sizeof(inputs[0]);
  if (cpns_init() != 0) {
    fprintf(stderr, "gen_vectors: cpns_init failed\n");
    return 1;
  }
  printf("[\n");
  for (size_t i = 0; i < n; i++) {
    if (emit(i, i + 1 == n) != 0) {
      return 1;
    }
  }
  printf("]\n");
  return fflush(stdout) == 0 ? 0 : 1;
}
