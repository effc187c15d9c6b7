/*
 * Server session engine (PROTOCOL.md §4, §5, §6, §8): one per connection,
 * sans-I/O. The host answers NEED_CREDENTIAL and NEED_STORE when it can, so
 * it may batch its store writes.
 */
#include <stddef.h>
#include <string.h>

#include <sodium.h>

#include <cpns/ident.h>

#include "codec/internal.h"
#include "exchange/secpool_internal.h"
#include "exchange/server_internal.h"
#include "exchange/util.h"

/* A pool slot of the default size holds a session's secrets. */
_Static_assert(sizeof(cpnsi_server_secrets) <= CPNS_SECPOOL_SLOT_DEFAULT,
               "CPNS_SECPOOL_SLOT_DEFAULT must fit cpnsi_server_secrets");

static void wipe_secrets(cpns_server_session *s) { sodium_memzero(s->sec, sizeof *s->sec); }

/* Close without answering (§8: non-DER bytes; also timeouts, peer gone). */
static int close_session(cpns_server_session *s, int error) {
  s->state = CPNS_SERVER_CLOSE;
  s->error = error;
  if (s->ke2_sent && s->result < 0) {
    /* The gateway learnt from KE2 whether its guess was right (§6). */
    s->result = CPNS_RESULT_AUTHENTICATION_FAILED;
  }
  wipe_secrets(s);
  cpnsi_framer_drop_ahead(&s->framer, &s->mem);
  return error;
}

/* The last PDU: a KeyDelivery echoing the identifiers as received. */
static int queue_delivery(cpns_server_session *s, cpns_result result,
                          const cpns_key_assignment *assignment) {
  cpns_pdu pdu;
  cpns_key_delivery *del = &pdu.u.key_delivery;
  int rv;
  memset(&pdu, 0, sizeof pdu);
  pdu.type = CPNS_PDU_KEY_DELIVERY;
  del->version = s->version;
  del->result = result;
  memcpy(del->entity_id, s->first.entity_id, s->first.entity_id_len);
  del->entity_id_len = s->first.entity_id_len;
  memcpy(del->user_id, s->first.user_id, s->first.user_id_len);
  del->user_id_len = s->first.user_id_len;
  if (assignment != NULL) {
    del->has_assignment = 1;
    del->assignment = *assignment;
  }
  wipe_secrets(s);                              /* nothing secret is needed after the last PDU */
  cpnsi_framer_drop_ahead(&s->framer, &s->mem); /* nor anything the gateway sends */
  rv = cpns_pdu_encode(&pdu, s->out, sizeof s->out, &s->out_len);
  if (rv != 0) {
    return close_session(s, rv);
  }
  s->result = (int)result;
  s->state = CPNS_SERVER_SEND;
  s->after_send = CPNS_SERVER_DONE;
  return 0;
}

/* What the settings layout settings_version holds: later fields keep their defaults. */
static size_t settings_layout_size(int settings_version) {
  switch (settings_version) {
  case CPNS_SERVER_SETTINGS_V1: return offsetof(cpns_server_settings, s2_keys);
  case CPNS_SERVER_SETTINGS_V2: return sizeof(cpns_server_settings);
  default: return 0;
  }
}

static void settings_defaults(cpns_server_settings *st) {
  memset(st, 0, sizeof *st);
  st->fake_ops_limit = CPNS_KDF_OPS_DEFAULT;
  st->fake_mem_limit_kib = CPNS_KDF_MEM_KIB_DEFAULT;
  st->max_pdu_len = CPNS_PDU_MAX_DEFAULT;
  st->pdu_timeout_ms = CPNS_SERVER_PDU_TIMEOUT_DEFAULT_MS;
  st->exchange_timeout_ms = CPNS_SERVER_EXCHANGE_TIMEOUT_DEFAULT_MS;
  st->s2_keys = NULL; /* suite 2 off until the host has its secrets */
  st->suites = NULL;
  st->suites_len = 0;
}

int cpns_server_settings_default_versioned(int settings_version, cpns_server_settings *settings) {
  cpns_server_settings st;
  size_t size = settings_layout_size(settings_version);
  if (settings == NULL || size == 0) {
    return CPNS_ERR_INVALID_ARGUMENT;
  }
  /* A caller compiled against an older layout has only its fields. */
  settings_defaults(&st);
  memcpy(settings, &st, size);
  return 0;
}

/* The enabled suites in preference order (§6); 0 when the list is not acceptable. */
static size_t resolve_suites(int out[CPNS_SERVER_SUITES_MAX], const cpns_server_settings *st) {
  size_t i, j;
  if (st->suites == NULL) {
    if (st->suites_len != 0) {
      return 0;
    }
    if (st->s2_keys == NULL) {
      out[0] = CPNS_SUITE_ARGON2ID_HMACSHA256_XCHACHA20POLY1305;
      return 1;
    }
    out[0] = CPNS_SUITE_OPAQUE3DH_RISTRETTO255_SHA512_ARGON2ID;
    out[1] = CPNS_SUITE_ARGON2ID_HMACSHA256_XCHACHA20POLY1305;
    return 2;
  }
  if (st->suites_len == 0 || st->suites_len > CPNS_SERVER_SUITES_MAX) {
    return 0;
  }
  for (i = 0; i < st->suites_len; ++i) {
    int suite = st->suites[i];
    if (suite != CPNS_SUITE_ARGON2ID_HMACSHA256_XCHACHA20POLY1305 &&
        !(suite == CPNS_SUITE_OPAQUE3DH_RISTRETTO255_SHA512_ARGON2ID && st->s2_keys != NULL)) {
      return 0;
    }
    for (j = 0; j < i; ++j) {
      if (out[j] == suite) {
        return 0;
      }
    }
    out[i] = suite;
  }
  return st->suites_len;
}

static int check_settings(const cpns_server_settings *st) {
  int suites[CPNS_SERVER_SUITES_MAX];
  cpns_kdf_params fake;
  if (st->realm == NULL || st->realm_len == 0 || st->realm_len > CPNS_REALM_MAX ||
      st->server_secret == NULL) {
    return CPNS_ERR_INVALID_ARGUMENT;
  }
  /* 0 is no default (cpns_server_settings_default() fills those). */
  if (st->max_pdu_len == 0 || st->pdu_timeout_ms == 0 || st->exchange_timeout_ms == 0 ||
      resolve_suites(suites, st) == 0) {
    return CPNS_ERR_INVALID_ARGUMENT;
  }
  memset(&fake, 0, sizeof fake);
  fake.ops_limit = st->fake_ops_limit;
  fake.mem_limit_kib = st->fake_mem_limit_kib;
  return cpns_crypto_kdf_check_enrollment(&fake) == 0 ? 0 : CPNS_ERR_INVALID_ARGUMENT;
}

int cpns_server_session_new_versioned(cpns_server_session **ps, int settings_version,
                                      const cpns_server_settings *settings, const cpns_mem *mem,
                                      uint64_t now_ms) {
  cpns_server_session *s;
  cpns_server_settings full;
  size_t layout = settings_layout_size(settings_version);
  uint64_t exchange_timeout;
  int rv;
  if (ps == NULL) {
    return CPNS_ERR_INVALID_ARGUMENT;
  }
  *ps = NULL;
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
  s = mem->calloc(1, sizeof *s, mem->user_data);
  if (s == NULL) {
    return CPNS_ERR_NOMEM;
  }
  s->mem = *mem;
  s->sec = cpnsi_secblock_new(settings->secpool, sizeof *s->sec, &s->sec_pool);
  if (s->sec == NULL) {
    mem->free(s, mem->user_data);
    return CPNS_ERR_NOMEM;
  }
  memcpy(s->sec->server_secret, settings->server_secret, CPNS_SERVER_SECRET_LEN);
  memcpy(s->realm, settings->realm, settings->realm_len);
  s->realm_len = settings->realm_len;
  s->fake_ops_limit = settings->fake_ops_limit;
  s->fake_mem_limit_kib = settings->fake_mem_limit_kib;
  s->s2_keys = settings->s2_keys;
  s->nsuites = resolve_suites(s->suites, settings);
  s->version = CPNS_PROTOCOL_VERSION_2; /* the highest, until a request says otherwise (§3) */
  s->pdu_timeout_ms = settings->pdu_timeout_ms;
  exchange_timeout = settings->exchange_timeout_ms;
  s->pdu_deadline = cpnsi_deadline(now_ms, s->pdu_timeout_ms);
  s->exchange_deadline = cpnsi_deadline(now_ms, exchange_timeout);
  s->state = CPNS_SERVER_RECEIVE;
  s->result = -1;
  cpnsi_framer_init(&s->framer, settings->max_pdu_len);
  *ps = s;
  return 0;
}

void cpns_server_session_del(cpns_server_session *s) {
  cpns_mem mem;
  if (s == NULL) {
    return;
  }
  mem = s->mem;
  cpnsi_framer_drop_ahead(&s->framer, &mem);
  cpnsi_secblock_del(s->sec, s->sec_pool); /* wipes the block */
  sodium_memzero(s, sizeof *s);
  mem.free(s, mem.user_data);
}

cpns_server_state cpns_server_session_get_state(const cpns_server_session *s) {
  return s ? s->state : CPNS_SERVER_CLOSE;
}

/* Keeps the identifiers for the store and the log: normalized when valid. */
static int note_identifiers(cpns_server_session *s, const cpns_key_request *req) {
  int entity_ok = cpns_entity_id_normalize(req->entity_id, req->entity_id_len, s->entity_id,
                                           sizeof s->entity_id, &s->entity_id_len, NULL) == 0;
  int user_ok = cpns_user_id_normalize(req->user_id, req->user_id_len, s->user_id,
                                       sizeof s->user_id, &s->user_id_len, NULL) == 0;
  if (!entity_ok) {
    memcpy(s->entity_id, req->entity_id, req->entity_id_len);
    s->entity_id_len = req->entity_id_len;
  }
  if (!user_ok) {
    memcpy(s->user_id, req->user_id, req->user_id_len);
    s->user_id_len = req->user_id_len;
  }
  return entity_ok && user_ok;
}

static int on_first_request(cpns_server_session *s, const cpns_key_request *req) {
  int result;
  s->first = *req;
  s->have_first = 1;
  s->ids_valid = note_identifiers(s, req);
  if (req->version == CPNS_PROTOCOL_VERSION || req->version == CPNS_PROTOCOL_VERSION_2) {
    s->version = req->version; /* else unsupportedVersion carries our highest (§3) */
  }
  result = cpnsi_server_check_first(req, s->ids_valid, s->suites, s->nsuites);
  if (result >= 0) {
    return queue_delivery(s, (cpns_result)result, NULL);
  }
  s->state = CPNS_SERVER_NEED_CREDENTIAL;
  return 0;
}

/* Suite 2 (§5.2): ServerFinish(ke3) in constant time, then the delivery keys. */
static int on_ke3(cpns_server_session *s, const cpns_key_request *req) {
  cpnsi_server_secrets *sec = s->sec;
  int verified =
      cpnsi_opaque_server_finish(&sec->opaque, sec->session_key, req->ke3) == 0 && s->user_known;
  if (verified) {
    verified = cpnsi_s2_delivery_keys(sec->wrap_key, sec->delivery_key, sec->session_key) == 0;
  }
  sodium_memzero(sec->session_key, sizeof sec->session_key);
  if (!verified) {
    return queue_delivery(s, CPNS_RESULT_AUTHENTICATION_FAILED, NULL);
  }
  s->ke2_sent = 0; /* a valid ke3 arrived: no longer a lockout failure by itself */
  s->state = CPNS_SERVER_NEED_STORE;
  return 0;
}

static int on_second_request(cpns_server_session *s, const cpns_key_request *req) {
  int verified;
  if (!cpnsi_server_repeats_first(&s->first, req) ||
      cpns_key_request_validate_second(req, (cpns_suite)s->suite) != 0) {
    return queue_delivery(s, CPNS_RESULT_BAD_REQUEST, NULL);
  }
  if (s->suite == CPNS_SUITE_OPAQUE3DH_RISTRETTO255_SHA512_ARGON2ID) {
    return on_ke3(s, req);
  }
  if (!req->has_response ||
      sodium_memcmp(req->server_nonce, s->chal.server_nonce, CPNS_NONCE_LEN) != 0) {
    return queue_delivery(s, CPNS_RESULT_BAD_REQUEST, NULL);
  }
  /* Unknown users go through the same verification, against a random
   * StoredKey, so timing does not tell them apart (§6). */
  verified = cpns_crypto_client_proof_verify(s->sec->client_key, req->client_proof,
                                             s->sec->fresh.stored_key, s->auth_message,
                                             s->auth_message_len) == 0;
  if (!(verified & s->user_known)) {
    return queue_delivery(s, CPNS_RESULT_AUTHENTICATION_FAILED, NULL);
  }
  s->state = CPNS_SERVER_NEED_STORE;
  return 0;
}

static int on_pdu(cpns_server_session *s) {
  cpns_pdu pdu;
  cpns_decode_limits limits;
  int rv;
  cpns_decode_limits_default(&limits);
  limits.max_len = s->framer.max_len;
  limits.mem = cpnsi_mem_for_decode(&s->mem);
  rv = cpns_pdu_decode(&pdu, s->framer.buf, s->framer.len, &limits);
  if (rv != 0) {
    return close_session(s, rv);
  }
  if (!s->have_first) {
    /* Without a KeyRequest there are no identifiers a KeyDelivery could echo. */
    if (pdu.type != CPNS_PDU_KEY_REQUEST) {
      return close_session(s, CPNS_ERR_PROTOCOL);
    }
    return on_first_request(s, &pdu.u.key_request);
  }
  if (pdu.type != CPNS_PDU_KEY_REQUEST) {
    return queue_delivery(s, CPNS_RESULT_BAD_REQUEST, NULL);
  }
  return on_second_request(s, &pdu.u.key_request);
}

/* True while the gateway may still send a PDU: the challenge is not answered yet. */
static int expects_more_input(const cpns_server_session *s) {
  return s->state == CPNS_SERVER_NEED_CREDENTIAL ||
         (s->state == CPNS_SERVER_SEND && s->after_send == CPNS_SERVER_RECEIVE);
}

/*
 * Frames and handles the PDU that starts with the octets held ahead, then in.
 * Every PDU moves the state out of RECEIVE: octets after it are held for the
 * next RECEIVE, or dropped once no PDU can follow (a KeyDelivery is due or
 * the session closes: §3, one exchange per connection).
 */
static int take_input(cpns_server_session *s, const uint8_t *in, size_t inlen) {
  size_t used = 0;
  int rv = cpnsi_framer_feed_ahead(&s->framer);
  if (rv == 0 && !cpnsi_framer_complete(&s->framer)) {
    rv = cpnsi_framer_feed(&s->framer, in, inlen, &used);
  }
  if (rv != 0) {
    return close_session(s, rv);
  }
  if (!cpnsi_framer_complete(&s->framer)) {
    return 0;
  }
  rv = on_pdu(s);
  cpnsi_framer_reset(&s->framer);
  if (!expects_more_input(s)) {
    cpnsi_framer_drop_ahead(&s->framer, &s->mem);
    return rv;
  }
  if (used < inlen) {
    int hold = cpnsi_framer_hold(&s->framer, &s->mem, in + used, inlen - used);
    if (hold != 0) {
      return close_session(s, hold);
    }
  }
  return rv;
}

int cpns_server_session_read(cpns_server_session *s, const uint8_t *in, size_t inlen,
                             uint64_t now_ms) {
  (void)now_ms; /* deadlines are the host's to enforce via handle_expiry */
  if (s == NULL || (in == NULL && inlen != 0)) {
    return CPNS_ERR_INVALID_ARGUMENT;
  }
  if (s->state != CPNS_SERVER_RECEIVE) {
    return CPNS_ERR_STATE;
  }
  if (inlen == 0) {
    return close_session(s, CPNS_ERR_PEER_CLOSED);
  }
  return take_input(s, in, inlen);
}

int cpns_server_session_get_user_id(const cpns_server_session *s, const uint8_t **user_id_norm,
                                    size_t *len) {
  if (s == NULL || user_id_norm == NULL || len == NULL) {
    return CPNS_ERR_INVALID_ARGUMENT;
  }
  if (s->state != CPNS_SERVER_NEED_CREDENTIAL) {
    return CPNS_ERR_STATE;
  }
  *user_id_norm = s->user_id;
  *len = s->user_id_len;
  return 0;
}

/*
 * Suite 2 (§5.2): GenerateKE2 on record (real or fake alike) with the
 * serverNonce and the AuthMessage of the challenge as context, into the
 * challenge's ke2. Returns 0, or the cpns_result to answer with.
 */
static int make_ke2(cpns_server_session *s, const uint8_t record[CPNS_S2_REGISTRATION_RECORD_LEN]) {
  const cpns_key_request *r = &s->first;
  cpns_opaque_ke2 *k = &s->chal.ke2;
  uint8_t ke1[CPNS_S2_KE1_LEN], ke2[CPNS_S2_KE2_LEN]; /* public: as received, as sent */
  const uint8_t *p = ke2;
  int rv;
  /* KE1 = blindedMessage || gatewayNonce || clientPublicKeyshare */
  memcpy(ke1, r->ke1.blinded_message, CPNS_OPAQUE_ELEMENT_LEN);
  memcpy(ke1 + CPNS_OPAQUE_ELEMENT_LEN, r->gateway_nonce, CPNS_NONCE_LEN);
  memcpy(ke1 + CPNS_OPAQUE_ELEMENT_LEN + CPNS_NONCE_LEN, r->ke1.client_public_keyshare,
         CPNS_OPAQUE_ELEMENT_LEN);
  rv = cpnsi_opaque_server_ke2(&s->sec->opaque, ke2, s->s2_keys, record, s->user_id, s->user_id_len,
                               ke1, s->chal.server_nonce, NULL, 0, NULL, 0, s->auth_message,
                               s->auth_message_len, NULL, NULL);
  if (rv != 0) {
    /* Elements were checked with the first request; anything left is ours. */
    return rv == CPNS_ERR_INVALID_ARGUMENT ? CPNS_RESULT_BAD_REQUEST : CPNS_RESULT_SERVER_ERROR;
  }
  memcpy(k->evaluated_message, p, sizeof k->evaluated_message);
  p += sizeof k->evaluated_message;
  memcpy(k->masking_nonce, p, sizeof k->masking_nonce);
  p += sizeof k->masking_nonce;
  memcpy(k->masked_response, p, sizeof k->masked_response);
  p += sizeof k->masked_response + CPNS_NONCE_LEN; /* serverNonce: already in the challenge */
  memcpy(k->server_public_keyshare, p, sizeof k->server_public_keyshare);
  p += sizeof k->server_public_keyshare;
  memcpy(k->server_mac, p, sizeof k->server_mac);
  s->chal.has_ke2 = 1;
  return 0;
}

/*
 * Builds the challenge of the chosen suite and its AuthMessage from the KDF
 * params and keys in place; suite 2 adds KE2 made on record.
 */
static int queue_challenge(cpns_server_session *s, const cpns_kdf_params *kdf,
                           const uint8_t *record) {
  cpns_auth_transcript t;
  cpns_pdu pdu;
  cpns_key_challenge *c = &s->chal;
  int result;
  c->version = s->version;
  memcpy(c->realm, s->realm, s->realm_len);
  c->realm_len = s->realm_len;
  memcpy(c->server_nonce, s->sec->fresh.server_nonce, sizeof c->server_nonce);
  c->suite = (cpns_suite)s->suite;
  c->kdf = *kdf;
  c->has_ke2 = 0;
  if (cpns_auth_transcript_from(&t, &s->first, c) != 0 ||
      cpns_auth_transcript_encode(&t, s->auth_message, sizeof s->auth_message,
                                  &s->auth_message_len) != 0) {
    return queue_delivery(s, CPNS_RESULT_SERVER_ERROR, NULL);
  }
  if (record != NULL) {
    result = make_ke2(s, record);
    if (result != 0) {
      return queue_delivery(s, (cpns_result)result, NULL);
    }
  }
  memset(&pdu, 0, sizeof pdu);
  pdu.type = CPNS_PDU_KEY_CHALLENGE;
  pdu.u.key_challenge = *c;
  if (cpns_pdu_encode(&pdu, s->out, sizeof s->out, &s->out_len) != 0) {
    return queue_delivery(s, CPNS_RESULT_SERVER_ERROR, NULL);
  }
  s->have_challenge = 1;
  s->state = CPNS_SERVER_SEND;
  s->after_send = CPNS_SERVER_RECEIVE;
  return 0;
}

/* Suite 2 (§5.2, §6): KE2 on the user's record or on the fake one, same work either way. */
static int challenge_s2(cpns_server_session *s, const cpns_s2_record *rec, int fake) {
  cpnsi_server_secrets *sec = s->sec;
  const cpns_s2_record *use;
  int rv;
  /* The fake record is made for every user, so that the work does not
   * depend on whether the record exists (§6). */
  cpns_crypto_random((uint8_t *)&sec->fresh, sizeof sec->fresh);
  rv = cpns_crypto_s2_fake_record(&sec->fake_record, s->user_id, s->user_id_len, s->s2_keys,
                                  sec->server_secret, s->fake_ops_limit, s->fake_mem_limit_kib);
  sodium_memzero(sec->server_secret, sizeof sec->server_secret);
  if (rv != 0) {
    return queue_delivery(s, CPNS_RESULT_SERVER_ERROR, NULL);
  }
  s->user_known = !fake;
  use = fake ? &sec->fake_record : rec;
  rv = queue_challenge(s, &use->kdf, use->registration_record);
  sodium_memzero(&sec->fake_record, sizeof sec->fake_record);
  return rv;
}

int cpns_server_session_provide_credential(cpns_server_session *s, const cpns_credential *cred,
                                           int throttled, uint64_t now_ms) {
  return cpns_server_session_provide_records(s, cred, NULL, throttled, now_ms);
}

int cpns_server_session_provide_records(cpns_server_session *s, const cpns_credential *suite1,
                                        const cpns_s2_record *suite2, int throttled,
                                        uint64_t now_ms) {
  const cpns_credential *cred = suite1;
  cpns_kdf_params kdf;
  int fake = 1;
  (void)now_ms;
  if (s == NULL) {
    return CPNS_ERR_INVALID_ARGUMENT;
  }
  if (s->state != CPNS_SERVER_NEED_CREDENTIAL) {
    return CPNS_ERR_STATE;
  }
  if ((suite1 != NULL && cpns_crypto_kdf_check_enrollment(&suite1->kdf) != 0) ||
      (suite2 != NULL && cpns_crypto_kdf_check_enrollment(&suite2->kdf) != 0)) {
    return CPNS_ERR_INVALID_ARGUMENT;
  }
  if (throttled) {
    return queue_delivery(s, CPNS_RESULT_TRY_LATER, NULL);
  }
  s->suite = cpnsi_server_choose_suite(&s->first, s->suites, s->nsuites, suite1 != NULL,
                                       suite2 != NULL, &fake);
  if (s->suite == CPNS_SUITE_OPAQUE3DH_RISTRETTO255_SHA512_ARGON2ID) {
    return challenge_s2(s, suite2, fake);
  }
  if (s->suite != CPNS_SUITE_ARGON2ID_HMACSHA256_XCHACHA20POLY1305) {
    /* The first request had an allowed suite: cannot happen. */
    return queue_delivery(s, CPNS_RESULT_SERVER_ERROR, NULL);
  }
  if (fake) {
    cred = NULL; /* a suite-1 record exists only if suite 1 was chosen for it */
  }
  /* The fake material is made for every user, so that the work does not
   * depend on whether the record exists (§6). */
  memset(&kdf, 0, sizeof kdf);
  if (cpns_crypto_fake_salt(kdf.salt, s->sec->server_secret, s->user_id, s->user_id_len) != 0) {
    return queue_delivery(s, CPNS_RESULT_SERVER_ERROR, NULL);
  }
  kdf.ops_limit = s->fake_ops_limit;
  kdf.mem_limit_kib = s->fake_mem_limit_kib;
  cpns_crypto_random((uint8_t *)&s->sec->fresh, sizeof s->sec->fresh);
  sodium_memzero(s->sec->server_secret, sizeof s->sec->server_secret);
  s->user_known = cred != NULL;
  if (cred != NULL) {
    kdf = cred->kdf;
    memcpy(s->sec->fresh.stored_key, cred->stored_key, sizeof s->sec->fresh.stored_key);
    memcpy(s->sec->fresh.server_key, cred->server_key, sizeof s->sec->fresh.server_key);
  }
  return queue_challenge(s, &kdf, NULL);
}

int cpns_server_session_write(cpns_server_session *s, uint8_t *out, size_t outlen, size_t *written,
                              uint64_t now_ms) {
  if (s == NULL || out == NULL || written == NULL) {
    return CPNS_ERR_INVALID_ARGUMENT;
  }
  if (s->state != CPNS_SERVER_SEND) {
    return CPNS_ERR_STATE;
  }
  if (outlen < s->out_len) {
    return CPNS_ERR_BUFFER_TOO_SMALL;
  }
  memcpy(out, s->out, s->out_len);
  *written = s->out_len;
  s->state = s->after_send;
  if (s->state == CPNS_SERVER_RECEIVE &&
      s->suite == CPNS_SUITE_OPAQUE3DH_RISTRETTO255_SHA512_ARGON2ID) {
    s->ke2_sent = 1; /* from now on the attempt counts, answered or not (§6) */
  }
  if (s->state == CPNS_SERVER_RECEIVE) {
    /* The gateway's time for its next PDU includes its Argon2id run. */
    s->pdu_deadline = cpnsi_deadline(now_ms, s->pdu_timeout_ms);
    if (s->framer.ahead_len != 0) {
      /* The gateway sent before its turn: a whole PDU held moves the state
       * on now, so that the host, seeing RECEIVE, may always wait for bytes.
       * An error moves to CLOSE; the PDU was written all the same. */
      (void)take_input(s, NULL, 0);
    }
  }
  return 0;
}

int cpns_server_session_get_assignment(const cpns_server_session *s, cpns_server_assignment *a) {
  if (s == NULL || a == NULL) {
    return CPNS_ERR_INVALID_ARGUMENT;
  }
  if (s->state != CPNS_SERVER_NEED_STORE) {
    return CPNS_ERR_STATE;
  }
  a->entity_id_norm = s->entity_id;
  a->entity_id_norm_len = s->entity_id_len;
  a->user_id_norm = s->user_id;
  a->user_id_norm_len = s->user_id_len;
  a->mode = s->first.mode;
  a->key_id = s->sec->fresh.key_id;
  a->eukey = s->sec->fresh.eukey;
  return 0;
}

/* Signs, wraps and queues the successful KeyDelivery (§5). */
static int queue_success(cpns_server_session *s) {
  cpns_key_assignment a;
  cpnsi_server_secrets *sec = s->sec;
  memset(&a, 0, sizeof a);
  memcpy(a.key_id, sec->fresh.key_id, sizeof a.key_id);
  memcpy(a.aead_nonce, sec->fresh.aead_nonce, sizeof a.aead_nonce);
  if (s->suite == CPNS_SUITE_OPAQUE3DH_RISTRETTO255_SHA512_ARGON2ID) {
    /* §5.2: serverSignature under DeliveryKey; WrapKey came with the ke3 check. */
    if (cpnsi_s2_server_signature(a.server_signature, sec->delivery_key, s->auth_message,
                                  s->auth_message_len, a.key_id) != 0) {
      return queue_delivery(s, CPNS_RESULT_SERVER_ERROR, NULL);
    }
  } else if (cpns_crypto_server_signature(a.server_signature, sec->fresh.server_key,
                                          s->auth_message, s->auth_message_len) != 0 ||
             cpns_crypto_wrap_key(sec->wrap_key, sec->client_key, s->auth_message,
                                  s->auth_message_len) != 0) {
    return queue_delivery(s, CPNS_RESULT_SERVER_ERROR, NULL);
  }
  if (cpns_crypto_eukey_wrap(a.wrapped_eukey, sec->fresh.eukey, sec->wrap_key, a.aead_nonce,
                             s->auth_message, s->auth_message_len, a.key_id) != 0) {
    return queue_delivery(s, CPNS_RESULT_SERVER_ERROR, NULL);
  }
  return queue_delivery(s, CPNS_RESULT_SUCCESS, &a);
}

int cpns_server_session_store_done(cpns_server_session *s, cpns_store_status status,
                                   uint64_t now_ms) {
  (void)now_ms;
  if (s == NULL) {
    return CPNS_ERR_INVALID_ARGUMENT;
  }
  if (s->state != CPNS_SERVER_NEED_STORE) {
    return CPNS_ERR_STATE;
  }
  switch (status) {
  case CPNS_STORE_OK: return queue_success(s);
  case CPNS_STORE_CONFLICT: return queue_delivery(s, CPNS_RESULT_ENTITY_CONFLICT, NULL);
  case CPNS_STORE_FAILED: return queue_delivery(s, CPNS_RESULT_SERVER_ERROR, NULL);
  }
  return CPNS_ERR_INVALID_ARGUMENT;
}

uint64_t cpns_server_session_get_expiry(const cpns_server_session *s) {
  if (s == NULL || s->state != CPNS_SERVER_RECEIVE) {
    return UINT64_MAX;
  }
  return s->pdu_deadline < s->exchange_deadline ? s->pdu_deadline : s->exchange_deadline;
}

int cpns_server_session_handle_expiry(cpns_server_session *s, uint64_t now_ms) {
  if (s == NULL) {
    return CPNS_ERR_INVALID_ARGUMENT;
  }
  if (s->state == CPNS_SERVER_RECEIVE && now_ms >= cpns_server_session_get_expiry(s)) {
    return close_session(s, CPNS_ERR_TIMEOUT);
  }
  return 0;
}

int cpns_server_session_get_suite(const cpns_server_session *s, int *suite) {
  if (s == NULL || suite == NULL) {
    return CPNS_ERR_INVALID_ARGUMENT;
  }
  if (!s->have_challenge) {
    return CPNS_ERR_STATE;
  }
  *suite = s->suite;
  return 0;
}

int cpns_server_session_withdraw_challenge(cpns_server_session *s, cpns_result result,
                                           uint64_t now_ms) {
  (void)now_ms; /* a KeyDelivery has no deadline of its own: DONE once written */
  if (s == NULL || (result != CPNS_RESULT_TRY_LATER && result != CPNS_RESULT_SERVER_ERROR)) {
    return CPNS_ERR_INVALID_ARGUMENT;
  }
  if (s->state != CPNS_SERVER_SEND || s->after_send != CPNS_SERVER_RECEIVE) {
    return CPNS_ERR_STATE;
  }
  return queue_delivery(s, result, NULL);
}

int cpns_server_session_get_result(const cpns_server_session *s, cpns_result *result) {
  if (s == NULL || result == NULL) {
    return CPNS_ERR_INVALID_ARGUMENT;
  }
  if (s->result < 0) {
    return CPNS_ERR_STATE;
  }
  *result = (cpns_result)s->result;
  return 0;
}

void cpns_server_session_get_ids(const cpns_server_session *s, const uint8_t **entity_id,
                                 size_t *entity_id_len, const uint8_t **user_id,
                                 size_t *user_id_len) {
  int known = s != NULL && s->have_first;
  if (entity_id != NULL) {
    *entity_id = known ? s->entity_id : NULL;
  }
  if (entity_id_len != NULL) {
    *entity_id_len = known ? s->entity_id_len : 0;
  }
  if (user_id != NULL) {
    *user_id = known ? s->user_id : NULL;
  }
  if (user_id_len != NULL) {
    *user_id_len = known ? s->user_id_len : 0;
  }
}
