/*
 * cpns-server --json: one stored row as a JSON object (json_out.h).
 */
#include "examples/server/json_out.h"

#include <string.h>

#include "examples/common/json.h"

/* A NUL-terminated stored string, or null for NULL. */
static json_t *string_or_null(const char *what, const char *s) {
  return s != NULL ? json_octets(what, (const uint8_t *)s, strlen(s)) : json_null();
}

/* Stored octets, or null for none. */
static json_t *octets_or_null(const char *what, const uint8_t *s, size_t len) {
  return s != NULL ? json_octets(what, s, len) : json_null();
}

json_t *server_json_assignment(const server_db_assignment *a) {
  return json_pack("{s:o, s:o, s:s, s:o, s:o, s:I, s:o}", "entityId",
                   json_octets("an Entity ID", a->entity_id, a->entity_id_len), "userId",
                   json_octets("a User ID", a->user_id, a->user_id_len), "mode",
                   a->mode == CPNS_MODE_PNE_PLUS_PN_GW ? "pne-pn-gw" : "pn-gw", "keyId",
                   json_hex(a->key_id, CPNS_KEY_ID_LEN), "assignedAt",
                   json_time_s("an assignment time", a->assigned_at), "assignedAtMs",
                   json_s_to_ms(a->assigned_at), "source",
                   string_or_null("a source address", a->source));
}

static const char *state_name(server_db_key_state state) {
  switch (state) {
  case SERVER_DB_KEY_CURRENT: return "current";
  case SERVER_DB_KEY_REPLACED: return "replaced";
  case SERVER_DB_KEY_REVOKED: return "revoked";
  }
  return "unknown";
}

json_t *server_json_history_row(const server_db_history_row *row) {
  json_t *v = server_json_assignment(&row->a);
  if (v == NULL) {
    return NULL;
  }
  int ended = row->state != SERVER_DB_KEY_CURRENT;
  json_t *extra =
      json_pack("{s:s, s:o, s:o, s:o}", "state", state_name(row->state), "endedAt",
                ended ? json_time_s("an end time", row->ended_at) : json_null(), "endedAtMs",
                ended ? json_integer(json_s_to_ms(row->ended_at)) : json_null(), "reason",
                string_or_null("a reason", row->reason));
  if (extra == NULL || json_object_update(v, extra) != 0) {
    json_decref(v);
    v = NULL;
  }
  json_decref(extra);
  return v;
}

json_t *server_json_audit_row(const server_db_audit_row *row) {
  return json_pack("{s:I, s:o, s:I, s:o, s:o, s:o, s:o, s:o, s:o}", "id", (json_int_t)row->id,
                   "time", json_time_ms("an audit time", row->time_ms), "timeMs",
                   (json_int_t)row->time_ms, "event", string_or_null("an event", row->event),
                   "entityId", octets_or_null("an Entity ID", row->entity_id, row->entity_id_len),
                   "userId", octets_or_null("a User ID", row->user_id, row->user_id_len), "keyId",
                   row->key_id != NULL ? json_hex(row->key_id, CPNS_KEY_ID_LEN) : json_null(),
                   "source", string_or_null("a source address", row->source), "result",
                   string_or_null("a result", row->result));
}
