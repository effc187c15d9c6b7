/*
 * Compiled only against the stock asn1c output of bench/stock-asn1c.sh;
 * see stock_asn1c.h.
 */
#include "stock_asn1c.h"

#include "AuthTranscript.h"
#include "CpnsPdu.h"
#include "ber_decoder.h"

int cpnsbench_stock_decode(int transcript, const uint8_t *in, size_t inlen, size_t *consumed) {
  asn_TYPE_descriptor_t *td = transcript ? &asn_DEF_AuthTranscript : &asn_DEF_CpnsPdu;
  void *v = NULL;
  asn_dec_rval_t rv = ber_decode(NULL, td, &v, in, inlen);
  *consumed = rv.consumed;
  td->free_struct(td, v, 0);
  return (int)rv.code;
}
