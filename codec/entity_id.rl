/*
 * Entity ID machines (PROTOCOL.md §2): RFC 8141 assigned-name, and the
 * urn:uuid: (RFC 4122) and urn:dev:mac: (RFC 9039) NSS checks. Ragel turns
 * them into table-free, allocation-free C: `make regen` (codec/ragel-regen.sh)
 * writes codec/ragel/entity_id_rl.c. The machines only accept or reject and
 * mark positions; codec/entity_id.c turns that into errors and normal form.
 */
#include "codec/ident_internal.h"

/* Ragel's -G2 output enters its state switch by falling through cases on
 * purpose; the warning is off for this small file only. */
#if defined(__GNUC__)
#pragma GCC diagnostic ignored "-Wimplicit-fallthrough"
#endif

%%{
  machine entity_id;
  alphtype unsigned char;

  action prefix_done { s->region = CPNSI_ENTITY_NID; }
  action nid_done    { s->region = CPNSI_ENTITY_NSS; s->nid_end = (size_t)(p - in); }
  action pct_begin   { s->pct_open = (size_t)(p - in); }
  action pct_end     { s->pct_open = CPNSI_NO_OFFSET; }

  alnum_      = [A-Za-z0-9];
  hexdig      = [0-9A-Fa-f];
  unreserved  = alnum_ | [\-._~];
  sub_delims  = [!$&'()*+,;=];
  pct_encoded = '%' >pct_begin hexdig hexdig @pct_end;
  pchar       = unreserved | pct_encoded | sub_delims | ':' | '@';

  # 2..32 characters, first and last alphanumeric.
  nid = alnum_ (alnum_ | '-'){0,30} alnum_;
  nss = pchar (pchar | '/')*;

  main := 'urn'i ':' @prefix_done nid ':' @nid_done nss;

  write data noerror noentry;
}%%

int cpnsi_entity_scan_run(const uint8_t *in, size_t len, cpnsi_entity_scan *s) {
  const uint8_t *p = in, *pe = in + len;
  int cs;
  s->region = CPNSI_ENTITY_PREFIX;
  s->nid_end = CPNSI_NO_OFFSET;
  s->pct_open = CPNSI_NO_OFFSET;
  %% write init;
  %% write exec;
  s->stop = (size_t)(p - in);
  return cs >= entity_id_first_final && p == pe;
}

%%{
  machine uuid_nss;
  alphtype unsigned char;
  hexdig = [0-9A-Fa-f];
  main := hexdig{8} '-' hexdig{4} '-' hexdig{4} '-' hexdig{4} '-' hexdig{12};
  write data noerror noentry;
}%%

int cpnsi_uuid_nss_run(const uint8_t *nss, size_t len, size_t *stop) {
  const uint8_t *p = nss, *pe = nss + len;
  int cs;
  %% write init;
  %% write exec;
  *stop = (size_t)(p - nss);
  return cs >= uuid_nss_first_final && p == pe;
}

%%{
  machine mac_nss;
  alphtype unsigned char;
  hexdig = [0-9A-Fa-f];
  main := 'mac'i ':' (hexdig{12} | hexdig{16});
  write data noerror noentry;
}%%

int cpnsi_mac_nss_run(const uint8_t *nss, size_t len, size_t *stop) {
  const uint8_t *p = nss, *pe = nss + len;
  int cs;
  %% write init;
  %% write exec;
  *stop = (size_t)(p - nss);
  return cs >= mac_nss_first_final && p == pe;
}
