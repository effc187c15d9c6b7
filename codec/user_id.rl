/*
 * User ID machine (PROTOCOL.md §2): RFC 7542 NAI
 * utf8-username ["@" utf8-realm] with strict RFC 3629 UTF-8 (no overlong
 * forms, no surrogates, nothing above U+10FFFF). `make regen`
 * (codec/ragel-regen.sh) writes codec/ragel/user_id_rl.c. The machine only
 * accepts or rejects and marks positions; codec/user_id.c turns that into
 * errors and normal form.
 */
#include "codec/ident_internal.h"

/* Ragel's -G2 output enters its state switch by falling through cases on
 * purpose; the warning is off for this small file only. */
#if defined(__GNUC__)
#pragma GCC diagnostic ignored "-Wimplicit-fallthrough"
#endif

%%{
  machine user_id;
  alphtype unsigned char;

  action at       { s->at = (size_t)(p - in); }
  action u8_begin { s->u8_lead = (size_t)(p - in); }
  action u8_end   { s->u8_lead = CPNSI_NO_OFFSET; }

  # RFC 3629 §4, UTF8-2 / UTF8-3 / UTF8-4.
  tail   = 0x80..0xBF;
  utf8_2 = 0xC2..0xDF tail;
  utf8_3 = 0xE0 0xA0..0xBF tail | 0xE1..0xEC tail tail |
           0xED 0x80..0x9F tail | 0xEE..0xEF tail tail;
  utf8_4 = 0xF0 0x90..0xBF tail tail | 0xF1..0xF3 tail tail tail |
           0xF4 0x80..0x8F tail tail;
  xtra   = (utf8_2 | utf8_3 | utf8_4) >u8_begin @u8_end;

  atext    = [A-Za-z0-9!#$%&'*+\-/=?^_`{|}~] | xtra;
  string   = atext+;
  username = string ('.' string)*;

  rtext    = [A-Za-z0-9] | xtra;
  ldh_str  = (rtext | '-')* rtext;
  label    = rtext ldh_str*;
  realm    = (label '.')+ label;

  main := username ('@' @at realm)?;

  write data noerror noentry;
}%%

int cpnsi_user_scan_run(const uint8_t *in, size_t len, cpnsi_user_scan *s) {
  const uint8_t *p = in, *pe = in + len;
  int cs;
  s->at = CPNSI_NO_OFFSET;
  s->u8_lead = CPNSI_NO_OFFSET;
  %% write init;
  %% write exec;
  s->stop = (size_t)(p - in);
  return cs >= user_id_first_final && p == pe;
}
