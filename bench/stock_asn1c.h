/*
 * The "plain asn1c decode" a user of Debian's asn1c 0.9.28 gets: our module
 * compiled with the stock, unpatched runtime (bench/stock-asn1c.sh), linked
 * into bench_codec as one object whose only global symbol is this function.
 */
#ifndef CPNS_BENCH_STOCK_ASN1C_H
#define CPNS_BENCH_STOCK_ASN1C_H
#include <stddef.h>
#include <stdint.h>

/* ber_decode of CpnsPdu (or AuthTranscript if transcript) and free_struct;
 * returns the asn_dec_rval_t code (0 = RC_OK) and the consumed count. */
int cpnsbench_stock_decode(int transcript, const uint8_t *in, size_t inlen, size_t *consumed);

#endif
