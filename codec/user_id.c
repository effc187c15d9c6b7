/*
 * cpns_user_id_normalize(): validate a User ID with the Ragel machine of
 * codec/user_id.rl and write its normal form: the realm's ASCII letters
 * lower-cased, the username octet for octet (PROTOCOL.md §2).
 */
#include <cpns/codec.h>
#include <cpns/ident.h>

#include "codec/ident_internal.h"

/* Phrase for malformed UTF-8 at at (lead is the unfinished sequence's start). */
static const char *utf8_phrase(const uint8_t *in, size_t inlen, size_t lead, size_t at) {
  if (at == inlen)
    return "the rest of the UTF-8 sequence";
  uint8_t c = in[at];
  if (lead == CPNSI_NO_OFFSET) {
    if (c <= 0xBF)
      return "a UTF-8 lead octet, not a continuation octet (0x80..0xBF)";
    if (c <= 0xC1)
      return "a UTF-8 lead octet other than 0xC0/0xC1 (overlong form)";
    return "a UTF-8 lead octet at most 0xF4 (code points end at U+10FFFF)";
  }
  if (at == lead + 1) {
    switch (in[lead]) {
    case 0xE0: return "continuation 0xA0..0xBF after 0xE0 (no overlong form)";
    case 0xED: return "continuation 0x80..0x9F after 0xED (no surrogates)";
    case 0xF0: return "continuation 0x90..0xBF after 0xF0 (no overlong form)";
    case 0xF4: return "continuation 0x80..0x8F after 0xF4 (nothing above U+10FFFF)";
    default: break;
    }
  }
  return "a UTF-8 continuation octet (0x80..0xBF)";
}

static int user_failure(const uint8_t *in, size_t inlen, const cpnsi_user_scan *s,
                        cpns_ident_error *err) {
  size_t at = s->stop;
  int ran_out = at == inlen;
  uint8_t c = ran_out ? 0 : in[at];
  uint8_t prev = at > 0 ? in[at - 1] : 0;
  int code = ran_out ? CPNS_ERR_ID_TRUNCATED : CPNS_ERR_ID_SYNTAX;
  const char *what;

  if (s->u8_lead != CPNSI_NO_OFFSET || c >= 0x80)
    return cpnsi_ident_fail(CPNS_ERR_ID_UTF8, utf8_phrase(in, inlen, s->u8_lead, at), at, err);
  if (s->at == CPNSI_NO_OFFSET) {
    if (at == 0 || prev == '.')
      what = "a username character (letter, digit, one of !#$%&'*+-/=?^_`{|}~, or UTF-8)";
    else
      what = "a username character, '.' or '@'";
  } else if (prev == '@' || prev == '.') {
    what = "a letter, digit or UTF-8 character starting a realm label";
  } else if (prev == '-' && (ran_out || c == '.')) {
    what = "a letter, digit or UTF-8 character (a label cannot end in '-')";
  } else if (ran_out) {
    what = "'.' and another label (a realm has at least two labels)";
  } else {
    what = "a letter, digit, UTF-8 character, '-' or '.' in the realm";
  }
  return cpnsi_ident_fail(code, what, at, err);
}

int cpns_user_id_normalize(const uint8_t *in, size_t inlen, uint8_t *out, size_t outlen,
                           size_t *outlen_written, cpns_ident_error *err) {
  if ((in == NULL && inlen > 0) || out == NULL || outlen_written == NULL)
    return cpnsi_ident_fail(CPNS_ERR_INVALID_ARGUMENT, "non-NULL input, output and length pointers",
                            0, err);
  *outlen_written = 0;
  if (inlen == 0)
    return cpnsi_ident_fail(CPNS_ERR_ID_EMPTY, "a User ID (username [\"@\" realm])", 0, err);
  if (inlen > CPNS_USER_ID_MAX)
    return cpnsi_ident_fail(CPNS_ERR_ID_TOO_LONG, "end of input (at most 253 octets)",
                            CPNS_USER_ID_MAX, err);

  cpnsi_user_scan s;
  if (!cpnsi_user_scan_run(in, inlen, &s))
    return user_failure(in, inlen, &s, err);
  if (outlen < inlen)
    return cpnsi_ident_fail(CPNS_ERR_BUFFER_TOO_SMALL,
                            "an output buffer at least as long as the input", 0, err);

  size_t realm_start = s.at == CPNSI_NO_OFFSET ? inlen : s.at + 1;
  for (size_t i = 0; i < realm_start; i++)
    out[i] = in[i];
  for (size_t i = realm_start; i < inlen; i++) {
    uint8_t c = in[i];
    out[i] = (c >= 'A' && c <= 'Z') ? (uint8_t)(c + ('a' - 'A')) : c;
  }
  *outlen_written = inlen;
  return 0;
}
