/* cpns_frame_pdu_length: the length of the CpnsPdu TLV starting a stream. */
#include "codec/codec_internal.h"

int cpns_frame_pdu_length(const uint8_t *in, size_t inlen, size_t max_len, size_t *pdu_len) {
  uint8_t tag;
  size_t hdr, clen;
  int rv;
  if ((!in && inlen) || !pdu_len)
    return CPNS_ERR_INVALID_ARGUMENT;
  *pdu_len = 0;
  if (max_len == 0)
    max_len = CPNS_PDU_MAX_DEFAULT;
  if (inlen == 0)
    return 0;
  /* A CpnsPdu starts with a context-specific constructed tag. */
  if ((in[0] & 0xe0) != 0xa0)
    return CPNS_ERR_FRAME_INVALID;
  if ((in[0] & 0x1f) == 0x1f) {
    /* No v1 alternative has a high tag: at most 6 octets are ever needed. */
    if (inlen < 2)
      return 0;
    if (in[1] == 0x80 || in[1] < 31)
      return CPNS_ERR_DER_HIGH_TAG_FORM;
    return CPNS_ERR_FRAME_INVALID;
  }
  rv = cpnsi_der_header(in, inlen, &tag, &hdr, &clen);
  if (rv == 1)
    return 0;
  if (rv == CPNS_ERR_DER_TRUNCATED)
    return CPNS_ERR_PDU_TOO_LONG; /* > 2^32 */
  if (rv < 0)
    return rv;
  if (clen > max_len || hdr + clen > max_len)
    return CPNS_ERR_PDU_TOO_LONG;
  *pdu_len = hdr + clen;
  return 0;
}
