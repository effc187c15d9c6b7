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
  size_t max_len;  /* effective limit: min(setting, capacity) */
  size_t len;      /* octets buffered */
  size_t pdu_len;  /* whole TLV length, 0 while the header is incomplete */
  uint8_t buf[CPNSI_FRAMER_CAPACITY];
} cpnsi_framer;

/** Empties f and sets its limit (0 = CPNS_PDU_MAX_DEFAULT, capped at the capacity). */
void cpnsi_framer_init(cpnsi_framer *f, size_t max_len);

/** Drops any buffered bytes, keeping the limit. */
void cpnsi_framer_reset(cpnsi_framer *f);

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
