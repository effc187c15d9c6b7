/*
 * asn1c 0.9.28 descriptors of types defined as another type (Nonce ::=
 * OCTET STRING ...) copy their base's function pointers into themselves on
 * first use: a write to global data, racing when two threads decode at
 * once. codec/patches make those descriptors complete at compile time; this
 * walk, run once under pthread_once, resolves anything a future regen might
 * leave lazy, so later calls from any thread only ever read them.
 */
#include <pthread.h>

#include "codec/codec_internal.h"
#include "AuthTranscript.h"
#include "CpnsPdu.h"

static pthread_once_t resolve_once = PTHREAD_ONCE_INIT;

static void resolve(asn_TYPE_descriptor_t *td, unsigned depth) {
  int i;
  if (!td || depth > 16)
    return;
  /* Every free_struct accepts NULL; a lazy one resolves its descriptor. */
  td->free_struct(td, NULL, 0);
  for (i = 0; i < td->elements_count; i++)
    resolve(td->elements[i].type, depth + 1);
}

static void resolve_all(void) {
  resolve(&asn_DEF_CpnsPdu, 0);
  resolve(&asn_DEF_AuthTranscript, 0);
}

void cpnsi_codec_once(void) { pthread_once(&resolve_once, resolve_all); }
