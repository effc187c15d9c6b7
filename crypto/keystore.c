/*
 * Gateway key store image (PROTOCOL.md §7): seal an entry under the device
 * key, and open a hostile image with a distinct error per failure class.
 * Layout: doc/formats.md "Gateway key store".
 */
#include <string.h>

#include <sodium.h>

#include <cpns/keystore.h>

#include "crypto/internal.h"

static const uint8_t ks_magic[8] = {'C', 'P', 'N', 'S', 'K', 'E', 'Y', 'S'};
#define KS_VERSION 1
#define KS_CHECK_LEN 16
#define KS_NONCE_LEN crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
#define KS_TAG_LEN crypto_aead_xchacha20poly1305_ietf_ABYTES
#define OFF_VERSION 8
#define OFF_CHECK 9
#define OFF_NONCE (OFF_CHECK + KS_CHECK_LEN)
#define OFF_BODYLEN (OFF_NONCE + KS_NONCE_LEN)
#define KS_HEADER_LEN (OFF_BODYLEN + 2)

/* Plaintext body: eukey, keyId, mode, assigned_at, then three u8-length-
 * prefixed strings (Entity ID 1..255, User ID 1..253, realm 0..253). */
#define PT_FIXED (CPNS_EUKEY_LEN + CPNS_KEY_ID_LEN + 1 + 8)
#define PT_MIN (PT_FIXED + 1 + 1 + 1 + 1 + 1)
#define PT_MAX (PT_FIXED + 3 + CPNS_ENTITY_ID_MAX + CPNS_USER_ID_MAX + CPNS_REALM_MAX)

_Static_assert(KS_HEADER_LEN + PT_MAX + KS_TAG_LEN <= CPNS_KEYSTORE_MAX,
               "largest key store fits CPNS_KEYSTORE_MAX");
_Static_assert(CPNS_ENTITY_ID_MAX <= 255 && CPNS_USER_ID_MAX <= 255 && CPNS_REALM_MAX <= 255,
               "identifier lengths fit one octet");

/* Separate keys for encryption and the wrong-key check, so the check value
 * says nothing about the encryption key. */
static void derive_keys(uint8_t enc_key[32], uint8_t check[KS_CHECK_LEN],
                        const uint8_t device_key[CPNS_DEVICE_KEY_LEN]) {
  static const char seal_label[] = "CPNS Key Store Seal";
  static const char check_label[] = "CPNS Key Store Check";
  uint8_t mac[32];

  cpnsi_hmac2(enc_key, device_key, CPNS_DEVICE_KEY_LEN, (const uint8_t *)seal_label,
              sizeof(seal_label) - 1, NULL, 0);
  cpnsi_hmac2(mac, device_key, CPNS_DEVICE_KEY_LEN, (const uint8_t *)check_label,
              sizeof(check_label) - 1, NULL, 0);
  memcpy(check, mac, KS_CHECK_LEN);
  sodium_memzero(mac, sizeof(mac));
}

static int entry_valid(const cpns_keystore_entry *e) {
  return e->entity_id_len >= 1 && e->entity_id_len <= CPNS_ENTITY_ID_MAX && e->user_id_len >= 1 &&
         e->user_id_len <= CPNS_USER_ID_MAX && e->realm_len <= CPNS_REALM_MAX &&
         (e->mode == CPNS_MODE_PN_GW || e->mode == CPNS_MODE_PNE_PLUS_PN_GW);
}

static size_t put_str(uint8_t *p, const uint8_t *s, size_t len) {
  p[0] = (uint8_t)len;
  memcpy(p + 1, s, len);
  return 1 + len;
}

int cpns_keystore_seal(uint8_t *out, size_t outlen, size_t *written,
                       const cpns_keystore_entry *entry,
                       const uint8_t device_key[CPNS_DEVICE_KEY_LEN]) {
  uint8_t pt[PT_MAX];
  uint8_t enc_key[32];
  size_t n = 0;

  if (out == NULL || written == NULL || entry == NULL || device_key == NULL ||
      !entry_valid(entry)) {
    return CPNS_ERR_INVALID_ARGUMENT;
  }
  memcpy(pt + n, entry->eukey, CPNS_EUKEY_LEN);
  n += CPNS_EUKEY_LEN;
  memcpy(pt + n, entry->key_id, CPNS_KEY_ID_LEN);
  n += CPNS_KEY_ID_LEN;
  pt[n++] = (uint8_t)entry->mode;
  cpnsi_put_be64(pt + n, entry->assigned_at);
  n += 8;
  n += put_str(pt + n, entry->entity_id, entry->entity_id_len);
  n += put_str(pt + n, entry->user_id, entry->user_id_len);
  n += put_str(pt + n, entry->realm, entry->realm_len);

  if (outlen < KS_HEADER_LEN + n + KS_TAG_LEN) {
    sodium_memzero(pt, sizeof(pt));
    return CPNS_ERR_BUFFER_TOO_SMALL;
  }
  memcpy(out, ks_magic, sizeof(ks_magic));
  out[OFF_VERSION] = KS_VERSION;
  derive_keys(enc_key, out + OFF_CHECK, device_key);
  randombytes_buf(out + OFF_NONCE, KS_NONCE_LEN);
  cpnsi_put_be16(out + OFF_BODYLEN, (uint16_t)(n + KS_TAG_LEN));
  /* The whole header is associated data: version and lengths are bound. */
  crypto_aead_xchacha20poly1305_ietf_encrypt(out + KS_HEADER_LEN, NULL, pt, n, out, KS_HEADER_LEN,
                                             NULL, out + OFF_NONCE, enc_key);
  *written = KS_HEADER_LEN + n + KS_TAG_LEN;
  sodium_memzero(pt, sizeof(pt));
  sodium_memzero(enc_key, sizeof(enc_key));
  return CPNS_OK;
}

/* Reads one u8-length-prefixed string of min..max octets from pt[*pos..len). */
static int get_str(uint8_t *dst, size_t *dstlen, size_t min, size_t max, const uint8_t *pt,
                   size_t len, size_t *pos) {
  size_t l;

  if (*pos >= len) {
    return 0;
  }
  l = pt[*pos];
  if (l < min || l > max || len - *pos - 1 < l) {
    return 0;
  }
  memcpy(dst, pt + *pos + 1, l);
  *dstlen = l;
  *pos += 1 + l;
  return 1;
}

static int parse_body(cpns_keystore_entry *e, const uint8_t *pt, size_t len) {
  size_t pos = 0;

  if (len < PT_MIN) {
    return 0;
  }
  memcpy(e->eukey, pt, CPNS_EUKEY_LEN);
  pos += CPNS_EUKEY_LEN;
  memcpy(e->key_id, pt + pos, CPNS_KEY_ID_LEN);
  pos += CPNS_KEY_ID_LEN;
  if (pt[pos] > CPNS_MODE_PNE_PLUS_PN_GW) {
    return 0;
  }
  e->mode = (cpns_mode)pt[pos++];
  e->assigned_at = cpnsi_get_be64(pt + pos);
  pos += 8;
  return get_str(e->entity_id, &e->entity_id_len, 1, CPNS_ENTITY_ID_MAX, pt, len, &pos) &&
         get_str(e->user_id, &e->user_id_len, 1, CPNS_USER_ID_MAX, pt, len, &pos) &&
         get_str(e->realm, &e->realm_len, 0, CPNS_REALM_MAX, pt, len, &pos) && pos == len;
}

static int open_checked(cpns_keystore_entry *entry, const uint8_t *in, size_t inlen,
                        const uint8_t device_key[CPNS_DEVICE_KEY_LEN]) {
  uint8_t pt[PT_MAX];
  uint8_t enc_key[32];
  uint8_t check[KS_CHECK_LEN];
  size_t body_len;
  int rv;

  if (inlen > CPNS_KEYSTORE_MAX) {
    return CPNS_ERR_STORE_CORRUPT;
  }
  /* A short prefix of the magic is a truncated store, anything else is not ours. */
  if (memcmp(in, ks_magic, inlen < sizeof(ks_magic) ? inlen : sizeof(ks_magic)) != 0) {
    return CPNS_ERR_STORE_CORRUPT;
  }
  if (inlen <= OFF_VERSION) {
    return CPNS_ERR_STORE_TRUNCATED;
  }
  if (in[OFF_VERSION] != KS_VERSION) {
    return CPNS_ERR_STORE_VERSION;
  }
  if (inlen < KS_HEADER_LEN) {
    return CPNS_ERR_STORE_TRUNCATED;
  }
  body_len = cpnsi_get_be16(in + OFF_BODYLEN);
  if (body_len < PT_MIN + KS_TAG_LEN || body_len > PT_MAX + KS_TAG_LEN) {
    return CPNS_ERR_STORE_CORRUPT;
  }
  if (inlen < KS_HEADER_LEN + body_len) {
    return CPNS_ERR_STORE_TRUNCATED;
  }
  if (inlen > KS_HEADER_LEN + body_len) {
    return CPNS_ERR_STORE_CORRUPT;
  }
  derive_keys(enc_key, check, device_key);
  if (sodium_memcmp(check, in + OFF_CHECK, KS_CHECK_LEN) != 0) {
    rv = CPNS_ERR_STORE_WRONG_KEY;
  } else if (crypto_aead_xchacha20poly1305_ietf_decrypt(pt, NULL, NULL, in + KS_HEADER_LEN,
                                                        body_len, in, KS_HEADER_LEN, in + OFF_NONCE,
                                                        enc_key) != 0) {
    rv = CPNS_ERR_STORE_CORRUPT;
  } else {
    rv = parse_body(entry, pt, body_len - KS_TAG_LEN) ? CPNS_OK : CPNS_ERR_STORE_CORRUPT;
  }
  sodium_memzero(pt, sizeof(pt));
  sodium_memzero(enc_key, sizeof(enc_key));
  return rv;
}

int cpns_keystore_open(cpns_keystore_entry *entry, const uint8_t *in, size_t inlen,
                       const uint8_t device_key[CPNS_DEVICE_KEY_LEN]) {
  int rv;

  if (entry == NULL) {
    return CPNS_ERR_INVALID_ARGUMENT;
  }
  sodium_memzero(entry, sizeof(*entry));
  if ((in == NULL && inlen > 0) || device_key == NULL) {
    return CPNS_ERR_INVALID_ARGUMENT;
  }
  if (inlen == 0) {
    return CPNS_ERR_STORE_TRUNCATED;
  }
  rv = open_checked(entry, in, inlen, device_key);
  if (rv != 0) {
    sodium_memzero(entry, sizeof(*entry));
  }
  return rv;
}
