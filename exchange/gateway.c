/*
 * Gateway engine (PROTOCOL.md §4, §5, §7): builds the KeyRequests, checks
 * the KeyChallenge, runs the expensive step on request (suite 1: Argon2id
 * and the proof; suite 2: GenerateKE3 with Argon2id as KSF), verifies and
 * unwraps the KeyDelivery. Sans-I/O: the host moves the bytes and passes
 * the time.
 */
#include <stddef.h>
#include <string.h>

#include <sodium.h>

#include <cpns/ident.h>

#include "codec/internal.h"
#include "exchange/gateway_internal.h"
#include "exchange/secpool_internal.h"
#include "exchange/util.h"

/* A pool slot of the default size holds the secrets and a password of 128 octets. */
_Static_assert(sizeof(cpnsi_gateway_secrets) + 128 <= CPNS_SECPOOL_SLOT_DEFAULT,
               "CPNS_SECPOOL_SLOT_DEFAULT must fit cpnsi_gateway_secrets and a password");

static uint8_t *password_of(cpns_gateway *gw) { return (uint8_t *)(gw->sec + 1); }

/* Wipes what this exchange no longer needs; the block itself is freed in _del. */
static void wipe_password(cpns_gateway *gw) {
  sodium_memzero(password_of(gw), gw->password_len);
  gw->password_len = 0;
}

static void wipe_secrets(cpns_gateway *gw) {
  sodium_memzero(gw->sec, gw->sec_size);
  gw->password_len = 0;
}

/* What the settings layout settings_version holds: later fields keep their defaults. */
static size_t settings_layout_size(int settings_version) {
  switch (settings_version) {
  case CPNS_GATEWAY_SETTINGS_V1: return offsetof(cpns_gateway_settings, allow_suite1);
  case CPNS_GATEWAY_SETTINGS_V2: return sizeof(cpns_gateway_settings);
  default: return 0;
  }
}

static int fail(cpns_gateway *gw, int error) {
  gw->state = CPNS_GATEWAY_FAILED;
  gw->error = error;
  gw->expiry = UINT64_MAX;
  wipe_secrets(gw);
  cpnsi_framer_drop_ahead(&gw->framer, &gw->mem);
  return error;
}

static int check_identifiers(const cpns_gateway_settings *st) {
  uint8_t norm[CPNS_ENTITY_ID_MAX];
  size_t norm_len;
  int rv;
  if (st->entity_id_len == 0) {
    return CPNS_ERR_ID_EMPTY;
  }
  if (st->entity_id_len > CPNS_ENTITY_ID_MAX) {
    return CPNS_ERR_ID_TOO_LONG;
  }
  rv = cpns_entity_id_normalize(st->entity_id, st->entity_id_len, norm, sizeof norm, &norm_len,
                                NULL);
  if (rv != 0) {
    return rv;
  }
  if (st->user_id_len == 0) {
    return CPNS_ERR_ID_EMPTY;
  }
  if (st->user_id_len > CPNS_USER_ID_MAX) {
    return CPNS_ERR_ID_TOO_LONG;
  }
  return cpns_user_id_normalize(st->user_id, st->user_id_len, norm, sizeof norm, &norm_len, NULL);
}

static void settings_defaults(cpns_gateway_settings *st) {
  memset(st, 0, sizeof *st);
  st->mode = CPNS_MODE_PN_GW;
  st->max_ops_limit = CPNS_GATEWAY_MAX_OPS_DEFAULT;
  st->max_mem_limit_kib = CPNS_GATEWAY_MAX_MEM_KIB_DEFAULT;
  st->min_ops_limit = CPNS_GATEWAY_MIN_OPS_DEFAULT;
  st->min_mem_limit_kib = CPNS_GATEWAY_MIN_MEM_KIB_DEFAULT;
  st->max_pdu_len = CPNS_PDU_MAX_DEFAULT;
  st->reply_timeout_ms = CPNS_GATEWAY_REPLY_TIMEOUT_DEFAULT_MS;
  st->allow_suite1 = 0; /* suite 2 alone (§7) */
}

int cpns_gateway_settings_default_versioned(int settings_version, cpns_gateway_settings *settings) {
  cpns_gateway_settings st;
  size_t size = settings_layout_size(settings_version);
  if (settings == NULL || size == 0) {
    return CPNS_ERR_INVALID_ARGUMENT;
  }
  /* A caller compiled against an older layout has only its fields. */
  settings_defaults(&st);
  memcpy(settings, &st, size);
  return 0;
}

static void resolve_kdf_bounds(cpnsi_kdf_bounds *b, const cpns_gateway_settings *st) {
  b->min_ops = st->min_ops_limit;
  b->min_mem_kib = st->min_mem_limit_kib;
  b->max_ops = st->max_ops_limit;
  b->max_mem_kib = st->max_mem_limit_kib;
}

static int check_settings(const cpns_gateway_settings *st) {
  cpnsi_kdf_bounds b;
  if ((st->entity_id == NULL && st->entity_id_len != 0) ||
      (st->user_id == NULL && st->user_id_len != 0) ||
      (st->password == NULL && st->password_len != 0) || st->password_len > SIZE_MAX / 2) {
    return CPNS_ERR_INVALID_ARGUMENT;
  }
  if (st->mode != CPNS_MODE_PN_GW && st->mode != CPNS_MODE_PNE_PLUS_PN_GW) {
    return CPNS_ERR_INVALID_ARGUMENT;
  }
  /* 0 is no default (cpns_gateway_settings_default() fills those): a zero
   * bound, size or timeout would only fail later, on the wire. */
  if (st->min_ops_limit == 0 || st->min_mem_limit_kib == 0 || st->max_pdu_len == 0 ||
      st->reply_timeout_ms == 0) {
    return CPNS_ERR_INVALID_ARGUMENT;
  }
  /* An empty range would refuse every challenge only after a round trip. */
  resolve_kdf_bounds(&b, st);
  if (b.min_ops > b.max_ops || b.min_mem_kib > b.max_mem_kib) {
    return CPNS_ERR_INVALID_ARGUMENT;
  }
  return check_identifiers(st);
}

static void set_identity(cpns_gateway *gw, const cpns_gateway_settings *st) {
  cpns_key_request *req = &gw->req;
  memcpy(req->entity_id, st->entity_id, st->entity_id_len);
  req->entity_id_len = st->entity_id_len;
  memcpy(req->user_id, st->user_id, st->user_id_len);
  req->user_id_len = st->user_id_len;
  req->mode = st->mode;
}

/*
 * The first KeyRequest of version 2 (§4, §7): offers suite 2 (and suite 1
 * when allowed) and carries ke1, GenerateKE1 of the password with the
 * gatewayNonce as client_nonce (§5.2).
 */
static int build_first_request_v2(cpns_gateway *gw) {
  cpns_key_request *req = &gw->req;
  uint8_t ke1[CPNS_S2_KE1_LEN];
  int rv;
  req->version = CPNS_PROTOCOL_VERSION_2;
  cpns_crypto_random(req->gateway_nonce, sizeof req->gateway_nonce);
  req->offered_suites[0] = CPNS_SUITE_OPAQUE3DH_RISTRETTO255_SHA512_ARGON2ID;
  req->offered_suites_len = 1;
  if (gw->allow_suite1) {
    req->offered_suites[1] = CPNS_SUITE_ARGON2ID_HMACSHA256_XCHACHA20POLY1305;
    req->offered_suites_len = 2;
  }
  req->has_response = 0;
  req->has_ke3 = 0;
  rv = cpnsi_opaque_client_ke1(&gw->sec->opaque, ke1, password_of(gw), gw->password_len,
                               req->gateway_nonce, NULL, NULL);
  if (rv != 0) {
    return rv;
  }
  /* KE1 = blindedMessage || client_nonce (= gatewayNonce) || clientPublicKeyshare */
  memcpy(req->ke1.blinded_message, ke1, CPNS_OPAQUE_ELEMENT_LEN);
  memcpy(req->ke1.client_public_keyshare, ke1 + CPNS_OPAQUE_ELEMENT_LEN + CPNS_NONCE_LEN,
         CPNS_OPAQUE_ELEMENT_LEN);
  req->has_ke1 = 1;
  return 0;
}

/* The version-1 first KeyRequest of the fall back (§7): suite 1 only. */
static void build_first_request_v1(cpns_gateway *gw) {
  cpns_key_request *req = &gw->req;
  req->version = CPNS_PROTOCOL_VERSION;
  cpns_crypto_random(req->gateway_nonce, sizeof req->gateway_nonce);
  req->offered_suites[0] = CPNS_SUITE_ARGON2ID_HMACSHA256_XCHACHA20POLY1305;
  req->offered_suites_len = 1;
  req->has_response = 0;
  req->has_ke1 = 0;
  memset(&req->ke1, 0, sizeof req->ke1);
  req->has_ke3 = 0;
}

static int encode_request(cpns_gateway *gw) {
  cpns_pdu pdu;
  memset(&pdu, 0, sizeof pdu);
  pdu.type = CPNS_PDU_KEY_REQUEST;
  pdu.u.key_request = gw->req;
  return cpns_pdu_encode(&pdu, gw->out, sizeof gw->out, &gw->out_len);
}

int cpns_gateway_new_versioned(cpns_gateway **pgw, int settings_version,
                               const cpns_gateway_settings *settings, const cpns_mem *mem,
                               uint64_t now_ms) {
  cpns_gateway *gw;
  cpns_gateway_settings full;
  size_t layout = settings_layout_size(settings_version);
  int rv;
  (void)now_ms; /* no deadline runs until the first PDU is written */
  if (pgw == NULL) {
    return CPNS_ERR_INVALID_ARGUMENT;
  }
  *pgw = NULL;
  mem = cpnsi_mem_pick(mem);
  if (settings == NULL || layout == 0 || mem == NULL) {
    return CPNS_ERR_INVALID_ARGUMENT;
  }
  if (!cpnsi_initialized()) {
    return CPNS_ERR_NOT_INITIALIZED;
  }
  /* Fields the caller's layout lacks take their defaults. */
  settings_defaults(&full);
  memcpy(&full, settings, layout);
  settings = &full;
  rv = check_settings(settings);
  if (rv != 0) {
    return rv;
  }
  gw = mem->calloc(1, sizeof *gw, mem->user_data);
  if (gw == NULL) {
    return CPNS_ERR_NOMEM;
  }
  gw->mem = *mem;
  gw->sec_size = cpnsi_guarded_size(sizeof *gw->sec + settings->password_len);
  gw->sec = cpnsi_secblock_new(settings->secpool, gw->sec_size, &gw->sec_pool);
  if (gw->sec == NULL) {
    mem->free(gw, mem->user_data);
    return CPNS_ERR_NOMEM;
  }
  if (settings->password_len != 0) {
    memcpy(password_of(gw), settings->password, settings->password_len);
  }
  gw->password_len = settings->password_len;
  gw->state = CPNS_GATEWAY_SEND;
  gw->result = -1;
  resolve_kdf_bounds(&gw->kdf_bounds, settings);
  gw->reply_timeout_ms = settings->reply_timeout_ms;
  gw->allow_suite1 = settings->allow_suite1 != 0;
  gw->expiry = UINT64_MAX;
  cpnsi_framer_init(&gw->framer, settings->max_pdu_len);
  set_identity(gw, settings);
  rv = build_first_request_v2(gw);
  if (rv == 0) {
    rv = encode_request(gw);
  }
  if (rv != 0) {
    cpns_gateway_del(gw);
    return rv;
  }
  *pgw = gw;
  return 0;
}

void cpns_gateway_del(cpns_gateway *gw) {
  cpns_mem mem;
  if (gw == NULL) {
    return;
  }
  mem = gw->mem;
  cpnsi_framer_drop_ahead(&gw->framer, &mem);
  cpnsi_secblock_del(gw->sec, gw->sec_pool); /* wipes the block */
  sodium_memzero(gw, sizeof *gw);
  mem.free(gw, mem.user_data);
}

cpns_gateway_state cpns_gateway_get_state(const cpns_gateway *gw) {
  return gw ? gw->state : CPNS_GATEWAY_FAILED;
}

static int take_input(cpns_gateway *gw, const uint8_t *in, size_t inlen);

int cpns_gateway_write(cpns_gateway *gw, uint8_t *out, size_t outlen, size_t *written,
                       uint64_t now_ms) {
  if (gw == NULL || out == NULL || written == NULL) {
    return CPNS_ERR_INVALID_ARGUMENT;
  }
  if (gw->state != CPNS_GATEWAY_SEND) {
    return CPNS_ERR_STATE;
  }
  if (outlen < gw->out_len) {
    return CPNS_ERR_BUFFER_TOO_SMALL;
  }
  memcpy(out, gw->out, gw->out_len);
  *written = gw->out_len;
  gw->state = CPNS_GATEWAY_RECEIVE;
  gw->expiry = cpnsi_deadline(now_ms, gw->reply_timeout_ms);
  if (gw->framer.ahead_len != 0) {
    /* The server sent before its turn: a whole PDU held moves the state on
     * now, so that the host, seeing RECEIVE, may always wait for bytes.
     * An error moves to FAILED; the PDU was written all the same. */
    (void)take_input(gw, NULL, 0);
  }
  return 0;
}

static int on_challenge(cpns_gateway *gw, const cpns_key_challenge *chal) {
  cpns_auth_transcript t;
  int rv = cpnsi_gateway_check_challenge(&gw->req, chal, &gw->kdf_bounds);
  /* Kept even when refused, so that the host can say what was asked. */
  gw->chal = *chal;
  gw->chal_received = 1;
  if (rv != 0) {
    return fail(gw, rv);
  }
  rv = cpns_auth_transcript_from(&t, &gw->req, chal);
  if (rv == 0) {
    rv = cpns_auth_transcript_encode(&t, gw->auth_message, sizeof gw->auth_message,
                                     &gw->auth_message_len);
  }
  if (rv != 0) {
    return fail(gw, rv);
  }
  gw->has_challenge = 1;
  gw->state = CPNS_GATEWAY_DERIVE;
  gw->expiry = UINT64_MAX;
  return 0;
}

/* True while a fall back to version 1 is allowed: a v2 first request unanswered (§7). */
static int may_fall_back(const cpns_gateway *gw) {
  return gw->allow_suite1 && gw->req.version == CPNS_PROTOCOL_VERSION_2 && !gw->chal_received;
}

/*
 * The server does not speak version 2: the host reconnects and calls
 * cpns_gateway_restart_v1(). The password stays; nothing else of this
 * exchange is needed again.
 */
static int need_reconnect(cpns_gateway *gw, int why) {
  gw->state = CPNS_GATEWAY_RECONNECT;
  gw->error = why;
  gw->expiry = UINT64_MAX;
  sodium_memzero(&gw->sec->opaque, sizeof gw->sec->opaque);
  cpnsi_framer_drop_ahead(&gw->framer, &gw->mem);
  return 0;
}

/* Suite 1 (§5.1): ServerSignature under ServerKey, WrapKey from ClientKey. */
static int open_delivery_s1(cpns_gateway *gw, const cpns_key_assignment *a) {
  if (cpns_crypto_server_signature_verify(a->server_signature, gw->sec->server_key,
                                          gw->auth_message, gw->auth_message_len) != 0) {
    return CPNS_ERR_SIGNATURE;
  }
  return cpns_crypto_wrap_key(gw->sec->wrap_key, gw->sec->client_key, gw->auth_message,
                              gw->auth_message_len);
}

/* Suite 2 (§5.2): serverSignature under DeliveryKey; WrapKey is ready since derive. */
static int open_delivery_s2(cpns_gateway *gw, const cpns_key_assignment *a) {
  return cpnsi_s2_server_signature_verify(a->server_signature, gw->sec->delivery_key,
                                          gw->auth_message, gw->auth_message_len, a->key_id) == 0
             ? 0
             : CPNS_ERR_SIGNATURE;
}

static int on_delivery(cpns_gateway *gw, const cpns_key_delivery *del) {
  const cpns_key_assignment *a = &del->assignment;
  int rv;
  gw->result = (int)del->result;
  rv = cpnsi_gateway_check_delivery(&gw->req, del);
  if (rv != 0) {
    return fail(gw, rv);
  }
  if (del->result == CPNS_RESULT_UNSUPPORTED_VERSION && may_fall_back(gw)) {
    return need_reconnect(gw, CPNS_ERR_REFUSED);
  }
  if (del->result != CPNS_RESULT_SUCCESS) {
    return fail(gw, CPNS_ERR_REFUSED);
  }
  if (!gw->has_challenge) {
    /* Nothing to authenticate a key against before a challenge. */
    return fail(gw, CPNS_ERR_PROTOCOL);
  }
  /* Nothing in a successful delivery is trusted before these two pass (§7). */
  rv = gw->chal.suite == CPNS_SUITE_OPAQUE3DH_RISTRETTO255_SHA512_ARGON2ID
           ? open_delivery_s2(gw, a)
           : open_delivery_s1(gw, a);
  if (rv != 0) {
    return fail(gw, rv);
  }
  rv = cpns_crypto_eukey_unwrap(gw->sec->eukey, a->wrapped_eukey, gw->sec->wrap_key, a->aead_nonce,
                                gw->auth_message, gw->auth_message_len, a->key_id);
  if (rv != 0) {
    return fail(gw, CPNS_ERR_DECRYPT);
  }
  memcpy(gw->key_id, a->key_id, sizeof gw->key_id);
  /* Only the EUKey stays. */
  sodium_memzero(gw->sec, offsetof(cpnsi_gateway_secrets, eukey));
  gw->state = CPNS_GATEWAY_DONE;
  gw->expiry = UINT64_MAX;
  return 0;
}

static int on_pdu(cpns_gateway *gw) {
  cpns_pdu pdu;
  cpns_decode_limits limits;
  int rv;
  cpns_decode_limits_default(&limits);
  limits.max_len = gw->framer.max_len;
  limits.mem = cpnsi_mem_for_decode(&gw->mem);
  rv = cpns_pdu_decode(&pdu, gw->framer.buf, gw->framer.len, &limits);
  if (rv != 0) {
    return fail(gw, rv);
  }
  switch (pdu.type) {
  case CPNS_PDU_KEY_CHALLENGE:
    if (gw->has_challenge) {
      break;
    }
    return on_challenge(gw, &pdu.u.key_challenge);
  case CPNS_PDU_KEY_DELIVERY: return on_delivery(gw, &pdu.u.key_delivery);
  default: break;
  }
  return fail(gw, CPNS_ERR_PROTOCOL);
}

/*
 * Frames and handles the PDU that starts with the octets held ahead, then in.
 * Every PDU moves the state out of RECEIVE: octets after it are held for the
 * next RECEIVE, or dropped once no PDU can follow (DONE, FAILED: §3, one
 * exchange per connection, nothing comes after the KeyDelivery).
 */
static int take_input(cpns_gateway *gw, const uint8_t *in, size_t inlen) {
  size_t used = 0;
  int rv = cpnsi_framer_feed_ahead(&gw->framer);
  if (rv == 0 && !cpnsi_framer_complete(&gw->framer)) {
    rv = cpnsi_framer_feed(&gw->framer, in, inlen, &used);
  }
  if (rv != 0) {
    return fail(gw, rv);
  }
  if (!cpnsi_framer_complete(&gw->framer)) {
    return 0;
  }
  rv = on_pdu(gw);
  cpnsi_framer_reset(&gw->framer);
  if (gw->state == CPNS_GATEWAY_DONE) {
    cpnsi_framer_drop_ahead(&gw->framer, &gw->mem);
    return rv;
  }
  if (gw->state != CPNS_GATEWAY_FAILED && used < inlen) {
    int hold = cpnsi_framer_hold(&gw->framer, &gw->mem, in + used, inlen - used);
    if (hold != 0) {
      return fail(gw, hold);
    }
  }
  return rv;
}

int cpns_gateway_read(cpns_gateway *gw, const uint8_t *in, size_t inlen, uint64_t now_ms) {
  (void)now_ms; /* deadlines are the host's to enforce via handle_expiry */
  if (gw == NULL || (in == NULL && inlen != 0)) {
    return CPNS_ERR_INVALID_ARGUMENT;
  }
  if (gw->state != CPNS_GATEWAY_RECEIVE) {
    return CPNS_ERR_STATE;
  }
  if (inlen == 0) {
    /* A version-1 server cannot decode ke1 and closes without answer (§3, §8). */
    if (may_fall_back(gw) && !cpnsi_framer_started(&gw->framer)) {
      return need_reconnect(gw, CPNS_ERR_PEER_CLOSED);
    }
    return fail(gw, CPNS_ERR_PEER_CLOSED);
  }
  return take_input(gw, in, inlen);
}

/* Suite 1 (§5.1): Argon2id on the password, then ClientProof into the second request. */
static int derive_s1(cpns_gateway *gw) {
  cpnsi_gateway_secrets *sec = gw->sec;
  int rv;
  rv = cpns_crypto_salted_password(sec->salted_password, password_of(gw), gw->password_len,
                                   &gw->chal.kdf);
  wipe_password(gw);
  if (rv != 0) {
    return rv;
  }
  rv = cpns_crypto_client_key(sec->client_key, sec->salted_password);
  if (rv == 0) {
    rv = cpns_crypto_server_key(sec->server_key, sec->salted_password);
  }
  if (rv == 0) {
    rv = cpns_crypto_stored_key(sec->stored_key, sec->client_key);
  }
  if (rv == 0) {
    rv = cpns_crypto_client_proof(gw->req.client_proof, sec->client_key, sec->stored_key,
                                  gw->auth_message, gw->auth_message_len);
  }
  sodium_memzero(sec->salted_password, sizeof sec->salted_password);
  sodium_memzero(sec->stored_key, sizeof sec->stored_key);
  if (rv != 0) {
    return rv;
  }
  /* The second KeyRequest repeats the first and adds the response (§4). */
  memcpy(gw->req.server_nonce, gw->chal.server_nonce, sizeof gw->req.server_nonce);
  gw->req.has_response = 1;
  return 0;
}

/*
 * Suite 2 (§5.2): GenerateKE3 with Argon2id as KSF and AuthMessage as
 * context; a KE2 that does not authenticate ends the exchange without ke3.
 * Keeps WrapKey and DeliveryKey for the KeyDelivery, not the session key.
 */
static int derive_s2(cpns_gateway *gw) {
  cpnsi_gateway_secrets *sec = gw->sec;
  const cpns_opaque_ke2 *k = &gw->chal.ke2;
  uint8_t ke2[CPNS_S2_KE2_LEN]; /* public: as received */
  uint8_t *p = ke2;
  int rv;
  /* KE2 = evaluatedMessage || maskingNonce || maskedResponse || serverNonce ||
   *       serverPublicKeyshare || serverMac */
  memcpy(p, k->evaluated_message, sizeof k->evaluated_message);
  p += sizeof k->evaluated_message;
  memcpy(p, k->masking_nonce, sizeof k->masking_nonce);
  p += sizeof k->masking_nonce;
  memcpy(p, k->masked_response, sizeof k->masked_response);
  p += sizeof k->masked_response;
  memcpy(p, gw->chal.server_nonce, sizeof gw->chal.server_nonce);
  p += sizeof gw->chal.server_nonce;
  memcpy(p, k->server_public_keyshare, sizeof k->server_public_keyshare);
  p += sizeof k->server_public_keyshare;
  memcpy(p, k->server_mac, sizeof k->server_mac);
  rv = cpnsi_opaque_client_ke3(&sec->opaque, gw->req.ke3, sec->session_key, sec->export_key,
                               password_of(gw), gw->password_len, ke2, NULL, 0, NULL, 0,
                               gw->auth_message, gw->auth_message_len, cpnsi_ksf_argon2id,
                               &gw->chal.kdf);
  sodium_memzero(sec->export_key, sizeof sec->export_key); /* not used (§5.2) */
  if (rv == CPNS_ERR_SIGNATURE) {
    /* Wrong password, unknown User ID or a forged KE2 (§7, §8 note). */
    gw->result = CPNS_RESULT_AUTHENTICATION_FAILED;
    return CPNS_ERR_AUTH_FAILED;
  }
  if (rv == 0) {
    rv = cpnsi_s2_delivery_keys(sec->wrap_key, sec->delivery_key, sec->session_key);
  }
  sodium_memzero(sec->session_key, sizeof sec->session_key);
  if (rv != 0) {
    return rv;
  }
  /* The second KeyRequest repeats the six root fields and carries ke3 alone (§4). */
  gw->req.has_ke1 = 0;
  memset(&gw->req.ke1, 0, sizeof gw->req.ke1);
  gw->req.has_ke3 = 1;
  return 0;
}

int cpns_gateway_derive(cpns_gateway *gw, uint64_t now_ms) {
  int rv;
  (void)now_ms;
  if (gw == NULL) {
    return CPNS_ERR_INVALID_ARGUMENT;
  }
  if (gw->state != CPNS_GATEWAY_DERIVE) {
    return CPNS_ERR_STATE;
  }
  if (gw->chal.suite == CPNS_SUITE_OPAQUE3DH_RISTRETTO255_SHA512_ARGON2ID) {
    rv = derive_s2(gw);
  } else {
    /* Suite 1 under version 2 sends no ke1 in its second request (§4). */
    gw->req.has_ke1 = 0;
    memset(&gw->req.ke1, 0, sizeof gw->req.ke1);
    sodium_memzero(&gw->sec->opaque, sizeof gw->sec->opaque);
    rv = derive_s1(gw);
  }
  wipe_password(gw);
  if (rv == 0) {
    rv = encode_request(gw);
  }
  if (rv != 0) {
    return fail(gw, rv);
  }
  gw->state = CPNS_GATEWAY_SEND;
  return 0;
}

int cpns_gateway_get_challenge(const cpns_gateway *gw, cpns_kdf_params *kdf,
                               uint8_t realm[CPNS_REALM_MAX], size_t *realm_len) {
  if (gw == NULL || (realm != NULL && realm_len == NULL)) {
    return CPNS_ERR_INVALID_ARGUMENT;
  }
  if (!gw->chal_received) {
    return CPNS_ERR_STATE;
  }
  if (kdf != NULL) {
    *kdf = gw->chal.kdf;
  }
  if (realm != NULL) {
    memcpy(realm, gw->chal.realm, gw->chal.realm_len);
  }
  if (realm_len != NULL) {
    *realm_len = gw->chal.realm_len;
  }
  return 0;
}

uint64_t cpns_gateway_get_expiry(const cpns_gateway *gw) { return gw ? gw->expiry : UINT64_MAX; }

int cpns_gateway_handle_expiry(cpns_gateway *gw, uint64_t now_ms) {
  if (gw == NULL) {
    return CPNS_ERR_INVALID_ARGUMENT;
  }
  if (gw->state == CPNS_GATEWAY_RECEIVE && now_ms >= gw->expiry) {
    return fail(gw, CPNS_ERR_TIMEOUT);
  }
  return 0;
}

int cpns_gateway_get_error(const cpns_gateway *gw) { return gw ? gw->error : 0; }

int cpns_gateway_get_result(const cpns_gateway *gw, cpns_result *result) {
  if (gw == NULL || result == NULL) {
    return CPNS_ERR_INVALID_ARGUMENT;
  }
  if (gw->result < 0) {
    return CPNS_ERR_STATE;
  }
  *result = (cpns_result)gw->result;
  return 0;
}

int cpns_gateway_get_eukey(const cpns_gateway *gw, uint8_t eukey[CPNS_EUKEY_LEN],
                           uint8_t key_id[CPNS_KEY_ID_LEN]) {
  if (gw == NULL || eukey == NULL || key_id == NULL) {
    return CPNS_ERR_INVALID_ARGUMENT;
  }
  if (gw->state != CPNS_GATEWAY_DONE) {
    return CPNS_ERR_STATE;
  }
  memcpy(eukey, gw->sec->eukey, CPNS_EUKEY_LEN);
  memcpy(key_id, gw->key_id, CPNS_KEY_ID_LEN);
  return 0;
}

int cpns_gateway_get_suite(const cpns_gateway *gw, int *suite) {
  if (gw == NULL || suite == NULL) {
    return CPNS_ERR_INVALID_ARGUMENT;
  }
  if (!gw->has_challenge) {
    return CPNS_ERR_STATE;
  }
  *suite = (int)gw->chal.suite;
  return 0;
}

int cpns_gateway_restart_v1(cpns_gateway *gw, uint64_t now_ms) {
  int rv;
  (void)now_ms; /* no deadline runs until the request is written */
  if (gw == NULL) {
    return CPNS_ERR_INVALID_ARGUMENT;
  }
  if (gw->state != CPNS_GATEWAY_RECONNECT) {
    return CPNS_ERR_STATE;
  }
  /* A new connection: nothing of the first one carries over but the password. */
  gw->error = 0;
  gw->result = -1;
  gw->has_challenge = 0;
  gw->chal_received = 0;
  memset(&gw->chal, 0, sizeof gw->chal);
  gw->auth_message_len = 0;
  cpnsi_framer_drop_ahead(&gw->framer, &gw->mem);
  cpnsi_framer_reset(&gw->framer);
  build_first_request_v1(gw);
  rv = encode_request(gw);
  if (rv != 0) {
    return fail(gw, rv);
  }
  gw->state = CPNS_GATEWAY_SEND;
  return 0;
}
