/*
 * Stream reassembler shared by the exchange engines (PROTOCOL.md §3): gathers
 * the bytes of exactly one CpnsPdu TLV into a fixed buffer, refusing a
 * length above the limit as soon as the length octets are known, before any
 * of the body is buffered.
 */
#ifndef CPNS_EXCHANGE_FRAMER_H
#define CPNS_EXCHANGE_FRAMER_H

#include <cpns/codec.h>

/*
 * No valid v1 PDU is longer than CPNS_PDU_MAX_ENCODED, so a longer one could
 * only fail to decode: refusing it at the framing stage keeps every session's
 * buffer small and fixed.
 */
#define CPNSI_FRAMER_CAPACITY CPNS_PDU_MAX_ENCODED

typedef struct cpnsi_framer {
  size_t max_len; /* effective limit: min(setting, capacity) */
  size_t len;     /* octets buffered */
  size_t pdu_len; /* whole TLV length, 0 while the header is incomplete */
  uint8_t buf[CPNSI_FRAMER_CAPACITY];
  /* Octets the peer sent after the current PDU, before its turn: at most
   * max_len. Allocated only when that happens, so that the usual
   * one-PDU-at-a-time peer costs no memory beyond buf. */
  uint8_t *ahead;
  size_t ahead_len;
} cpnsi_framer;

/** Empties f and sets its limit (0 = CPNS_PDU_MAX_DEFAULT, capped at the capacity). */
void cpnsi_framer_init(cpnsi_framer *f, size_t max_len);

/** Drops the bytes of the current PDU, keeping the limit and the octets held ahead. */
void cpnsi_framer_reset(cpnsi_framer *f);

/**
 * Keeps in (the octets after the current PDU) until cpnsi_framer_feed_ahead().
 * Returns 0, CPNS_ERR_PROTOCOL when more than max_len octets would be held
 * (a peer more than one PDU ahead of its turn), CPNS_ERR_NOMEM.
 */
int cpnsi_framer_hold(cpnsi_framer *f, const cpns_mem *mem, const uint8_t *in, size_t inlen);

/** Feeds the held octets like cpnsi_framer_feed(); keeps the ones it did not take. */
int cpnsi_framer_feed_ahead(cpnsi_framer *f);

/** Frees the held octets (none need wiping: they are what the peer sent in clear). */
void cpnsi_framer_drop_ahead(cpnsi_framer *f, const cpns_mem *mem);

/**
 * Takes bytes from in, never past the end of the current PDU, and sets
 * *consumed. Returns 0 (check cpnsi_framer_complete()), or the errors of
 * cpns_frame_pdu_length(): CPNS_ERR_FRAME_INVALID,
 * CPNS_ERR_DER_INDEFINITE_LENGTH, CPNS_ERR_DER_NON_MINIMAL_LENGTH,
 * CPNS_ERR_DER_HIGH_TAG_FORM, CPNS_ERR_PDU_TOO_LONG; CPNS_ERR_STATE when a
 * complete PDU is still buffered.
 */
int cpnsi_framer_feed(cpnsi_framer *f, const uint8_t *in, size_t inlen, size_t *consumed);

/** Nonzero when buf[0..len) holds one whole TLV. */
int cpnsi_framer_complete(const cpnsi_framer *f);

/** True once at least one octet of a PDU has arrived. */
int cpnsi_framer_started(const cpnsi_framer *f);

#endif /* CPNS_EXCHANGE_FRAMER_H */
