/*
 * Test harness for the exchange engines: a gateway engine and a server
 * session driven against each other in memory, plus helpers to feed
 * hand-built PDUs. Small Argon2id parameters keep it fast.
 */
#ifndef CPNS_TESTS_EXCHANGE_HARNESS_H
#define CPNS_TESTS_EXCHANGE_HARNESS_H

#include <cpns/cpns.h>

#define HX_ENTITY "urn:uuid:6E8BC430-9C3A-11D9-9669-0800200C9A66"
#define HX_ENTITY_NORM "urn:uuid:6e8bc430-9c3a-11d9-9669-0800200c9a66"
#define HX_USER "alice@Example.COM"
#define HX_USER_NORM "alice@example.com"
#define HX_PASSWORD "correct horse battery staple"
#define HX_REALM "cpns.example.net"
#define HX_OPS 1
#define HX_MEM_KIB 8

/** How the host answers NEED_CREDENTIAL. */
typedef enum hx_cred_mode { HX_KNOWN = 0, HX_UNKNOWN = 1, HX_THROTTLED = 2 } hx_cred_mode;

typedef struct hx_wire {
  size_t len;
  uint8_t bytes[CPNS_PDU_MAX_ENCODED];
} hx_wire;

typedef struct hx {
  cpns_gateway *gw;
  cpns_server_session *s;
  hx_cred_mode cred_mode;
  cpns_store_status store_status;
  size_t chunk;   /* octets per read call; 0 = all at once */
  size_t hold_at; /* 1: keep the challenge, 2: keep the delivery from the gateway */
  uint64_t now;
  int stored; /* NEED_STORE was reached */
  uint8_t stored_eukey[CPNS_EUKEY_LEN];
  uint8_t stored_key_id[CPNS_KEY_ID_LEN];
  cpns_server_assignment assignment_seen;
  /* What crossed the wire, in order. */
  hx_wire to_server[2];
  size_t n_to_server;
  hx_wire to_gateway[2];
  size_t n_to_gateway;
  /* Which of HX_KNOWN's records the host has (both by default). */
  int no_suite1_record;
  int no_suite2_record;
} hx;

/** Server secret used by every session in the tests. */
extern const uint8_t hx_server_secret[CPNS_SERVER_SECRET_LEN];

/** A credential record for password (ops 1, mem 8 KiB, fixed salt), sodium_malloc()ed. */
cpns_credential *hx_credential(const char *password);

/** Default server settings (fake params equal to the record's), suite 1 only. */
cpns_server_settings hx_server_settings(void);

/** Server settings with suite 2 enabled too (hx_s2_keys(); default order {2, 1}). */
cpns_server_settings hx_server_settings_s2(void);

/**
 * Gateway settings for HX_ENTITY/HX_USER and password that also offer
 * suite 1 (allow_suite1): version 2, offeredSuites {2, 1}, suite-1 floors
 * lowered to the test records' params.
 */
cpns_gateway_settings hx_gateway_settings(const char *password);

/** The library's default gateway settings (suite 2 only) for HX_ENTITY/HX_USER and password. */
cpns_gateway_settings hx_gateway_settings_s2(const char *password);

/** The suite-2 server keys of every test session (made once, sodium_malloc()ed, never freed). */
const cpns_s2_server_keys *hx_s2_keys(void);

/** A suite-2 record for password under hx_s2_keys() (ops 1, mem 8 KiB), sodium_malloc()ed. */
cpns_s2_record *hx_s2_record(const char *password);

/** The engine's received / queued result, or -1 while get_result() says CPNS_ERR_STATE. */
int hx_gateway_result(const cpns_gateway *gw);
int hx_session_result(const cpns_server_session *s);

/** Sets up h with a gateway using password and a default server session. */
void hx_init(hx *h, const char *password);

/** Sets up h with the given settings. */
void hx_init_with(hx *h, const cpns_gateway_settings *gs, const cpns_server_settings *ss);

/** Frees both engines. */
void hx_free(hx *h);

/**
 * Moves bytes and answers the host steps until neither engine can move.
 * The records answered for HX_KNOWN are for HX_PASSWORD (suite 1 and, when
 * the session enables it, suite 2; see no_suite*_record).
 */
void hx_run(hx *h);

/** Encodes pdu, failing the test on error; returns its length. */
size_t hx_encode(const cpns_pdu *pdu, uint8_t *out, size_t outlen);

/** Feeds bytes to the server in chunks of chunk (0 = all); returns the last read's result. */
int hx_server_feed(cpns_server_session *s, const uint8_t *in, size_t len, size_t chunk,
                   uint64_t now);

/** Feeds bytes to the gateway the same way. */
int hx_gateway_feed(cpns_gateway *gw, const uint8_t *in, size_t len, size_t chunk, uint64_t now);

/** Writes the server's pending PDU and decodes it into pdu. */
void hx_server_take(cpns_server_session *s, cpns_pdu *pdu, hx_wire *wire);

/** Writes the server's pending PDU and checks it is a KeyDelivery with result and no key. */
void hx_expect_refusal(cpns_server_session *s, cpns_result result);

/** ClientProof for req and chal under password, computed from crypto.h alone. */
void hx_proof(const cpns_key_request *req, const cpns_key_challenge *chal, const char *password,
              uint8_t proof[CPNS_PROOF_LEN]);

/** A valid first KeyRequest as the test gateway would send it. */
void hx_first_request(cpns_key_request *req);

/** A fresh session that has read req (encoded) and answered NEED_CREDENTIAL as mode says. */
cpns_server_session *hx_session_after_first(const cpns_key_request *req, hx_cred_mode mode,
                                            cpns_key_challenge *chal);

#endif /* CPNS_TESTS_EXCHANGE_HARNESS_H */
