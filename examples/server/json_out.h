/*
 * cpns-server --json: the JSON objects of one stored row each, as
 * doc/json.md describes them (assignments, history keys, audit rows). No
 * secret is ever among them: EUKeys stay sealed and are not written.
 */
#ifndef CPNS_EXAMPLES_SERVER_JSON_OUT_H
#define CPNS_EXAMPLES_SERVER_JSON_OUT_H

#include <jansson.h>

#include "examples/server/store.h"

/** The "version" of each document (doc/json.md): raised when a field changes
 * meaning or goes away; new fields keep it. */
#define SERVER_JSON_USER_LIST_VERSION 1
#define SERVER_JSON_ASSIGNMENTS_VERSION 1
#define SERVER_JSON_AUDIT_VERSION 1

/**
 * The object of one assignment: entityId, userId, mode, keyId, assignedAt,
 * assignedAtMs, source. Returns NULL with a message on stderr when a stored
 * value cannot be written (not UTF-8, time out of range) or out of memory.
 */
json_t *server_json_assignment(const server_db_assignment *a);

/** As server_json_assignment(), with the history's state, endedAt, endedAtMs and reason. */
json_t *server_json_history_row(const server_db_history_row *row);

/** The object of one audit row: id, time, timeMs, event, entityId, userId,
 * keyId, source, result (absent ones null). NULL as server_json_assignment(). */
json_t *server_json_audit_row(const server_db_audit_row *row);

#endif /* CPNS_EXAMPLES_SERVER_JSON_OUT_H */
