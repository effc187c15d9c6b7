/*
 * The codec's two DER encoders: the direct writer used on every path
 * (der_writer.c) and asn1c's der_encode, kept as the reference the writer
 * is tested against. Both expect values that passed the module checks;
 * the *_asn1c functions run those checks themselves.
 */
#ifndef CPNS_CODEC_DER_WRITER_H
#define CPNS_CODEC_DER_WRITER_H

#include <cpns/codec.h>

/** Writes into the end of scratch; *der points at the encoding's start. */
int cpnsi_der_write_pdu_in(const cpns_pdu *pdu, uint8_t scratch[CPNS_PDU_MAX_ENCODED],
                           const uint8_t **der, size_t *len);
int cpnsi_der_write_transcript_in(const cpns_auth_transcript *t,
                                  uint8_t scratch[CPNS_PDU_MAX_ENCODED], const uint8_t **der,
                                  size_t *len);

/** Writes into out[0..outlen). */
int cpnsi_der_write_pdu(const cpns_pdu *pdu, uint8_t *out, size_t outlen, size_t *written);
int cpnsi_der_write_transcript(const cpns_auth_transcript *t, uint8_t *out, size_t outlen,
                               size_t *written);

/** Module checks of a plain value: 0 or CPNS_ERR_CONSTRAINT / _INVALID_ARGUMENT. */
int cpnsi_pdu_check(const cpns_pdu *pdu);
int cpnsi_transcript_check(const cpns_auth_transcript *t);

/** Same contract as cpns_pdu_encode / cpns_auth_transcript_encode, via asn1c. */
int cpnsi_pdu_encode_asn1c(const cpns_pdu *pdu, uint8_t *out, size_t outlen, size_t *written);
int cpnsi_auth_transcript_encode_asn1c(const cpns_auth_transcript *t, uint8_t *out, size_t outlen,
                                       size_t *written);

#endif /* CPNS_CODEC_DER_WRITER_H */
