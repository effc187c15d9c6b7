/* One-PDU stream reassembler (see framer.h). */
#include <string.h>

#include "exchange/framer.h"

void cpnsi_framer_init(cpnsi_framer *f, size_t max_len) {
  if (max_len == 0) {
    max_len = CPNS_PDU_MAX_DEFAULT;
  }
  f->max_len = max_len < CPNSI_FRAMER_CAPACITY ? max_len : CPNSI_FRAMER_CAPACITY;
  f->ahead = NULL;
  f->ahead_len = 0;
  cpnsi_framer_reset(f);
}

void cpnsi_framer_reset(cpnsi_framer *f) {
  f->len = 0;
  f->pdu_len = 0;
}

int cpnsi_framer_complete(const cpnsi_framer *f) { return f->pdu_len != 0 && f->len == f->pdu_len; }

int cpnsi_framer_started(const cpnsi_framer *f) { return f->len != 0; }

int cpnsi_framer_feed(cpnsi_framer *f, const uint8_t *in, size_t inlen, size_t *consumed) {
  size_t used = 0;
  *consumed = 0;
  if (cpnsi_framer_complete(f)) {
    return CPNS_ERR_STATE;
  }
  /* Header octets one at a time: a short PDU may end before 6 octets, and
   * the next PDU's bytes must stay with the caller. */
  while (f->pdu_len == 0 && used < inlen) {
    size_t pdu_len = 0;
    int rv;
    f->buf[f->len++] = in[used++];
    rv = cpns_frame_pdu_length(f->buf, f->len, f->max_len, &pdu_len);
    if (rv != 0) {
      *consumed = used;
      return rv;
    }
    if (pdu_len != 0) {
      /* The length check above already bounds pdu_len; stay safe anyway. */
      if (pdu_len < f->len || pdu_len > f->max_len) {
        *consumed = used;
        return CPNS_ERR_PDU_TOO_LONG;
      }
      f->pdu_len = pdu_len;
    } else if (f->len >= 6) {
      /* cpns_frame_pdu_length() never needs more than 6 octets. */
      *consumed = used;
      return CPNS_ERR_FRAME_INVALID;
    }
  }
  if (f->pdu_len != 0 && used < inlen) {
    size_t want = f->pdu_len - f->len;
    size_t take = inlen - used < want ? inlen - used : want;
    memcpy(f->buf + f->len, in + used, take);
    f->len += take;
    used += take;
  }
  *consumed = used;
  return 0;
}

int cpnsi_framer_hold(cpnsi_framer *f, const cpns_mem *mem, const uint8_t *in, size_t inlen) {
  if (inlen == 0) {
    return 0;
  }
  if (inlen > f->max_len - f->ahead_len) {
    return CPNS_ERR_PROTOCOL;
  }
  if (f->ahead == NULL) {
    f->ahead = mem->malloc(f->max_len, mem->user_data);
    if (f->ahead == NULL) {
      return CPNS_ERR_NOMEM;
    }
  }
  memcpy(f->ahead + f->ahead_len, in, inlen);
  f->ahead_len += inlen;
  return 0;
}

int cpnsi_framer_feed_ahead(cpnsi_framer *f) {
  size_t used = 0;
  int rv;
  if (f->ahead_len == 0) {
    return 0;
  }
  rv = cpnsi_framer_feed(f, f->ahead, f->ahead_len, &used);
  memmove(f->ahead, f->ahead + used, f->ahead_len - used);
  f->ahead_len -= used;
  return rv;
}

void cpnsi_framer_drop_ahead(cpnsi_framer *f, const cpns_mem *mem) {
  if (f->ahead != NULL) {
    mem->free(f->ahead, mem->user_data);
  }
  f->ahead = NULL;
  f->ahead_len = 0;
}
