/*
 * Semantic validation of decoded PDUs beyond the ASN.1 module
 * (PROTOCOL.md §2, §4): identifier syntax through the Ragel parsers, and
 * "result = success iff assignment is present" for KeyDelivery. The
 * exchange layer answers badRequest when a KeyRequest fails here.
 */
#include <cpns/codec.h>
#include <cpns/ident.h>

/* Both identifiers of a PDU; the normal form itself is not needed here. */
static int validate_ids(const uint8_t *entity_id, size_t entity_id_len, const uint8_t *user_id,
                        size_t user_id_len) {
  uint8_t scratch[CPNS_ENTITY_ID_MAX];
  size_t written;
  int rc =
      cpns_entity_id_normalize(entity_id, entity_id_len, scratch, sizeof scratch, &written, NULL);
  if (rc != 0)
    return rc;
  return cpns_user_id_normalize(user_id, user_id_len, scratch, sizeof scratch, &written, NULL);
}

int cpns_key_request_validate(const cpns_key_request *req) {
  if (req == NULL)
    return CPNS_ERR_INVALID_ARGUMENT;
  return validate_ids(req->entity_id, req->entity_id_len, req->user_id, req->user_id_len);
}

int cpns_key_delivery_validate(const cpns_key_delivery *del) {
  if (del == NULL)
    return CPNS_ERR_INVALID_ARGUMENT;
  int rc = validate_ids(del->entity_id, del->entity_id_len, del->user_id, del->user_id_len);
  if (rc != 0)
    return rc;
  int success = del->result == CPNS_RESULT_SUCCESS;
  if (success != (del->has_assignment != 0))
    return CPNS_ERR_PROTOCOL;
  return 0;
}
