/*
 * cpns-server lockout: per User ID (known or not: no existence leak)
 * back-off after repeated failed attempts (PROTOCOL.md §6), kept in the
 * database's lockout table so that it survives restarts, with a bounded
 * in-memory cache in front of it.
 *
 * Counting. An attempt counts when the credential is looked up
 * (server_lockout_begin), so attempts still in flight count too and no more
 * than `threshold` guesses run at once for one User ID. It ends as a
 * success (the proof verified: success or entityConflict), which forgets the
 * User ID's failures, or as a failure (any other end: wrong proof, close,
 * timeout). After `threshold` attempts without success further attempts are
 * throttled (tryLater, not counted) for base_ms, doubled with each further
 * attempt up to max_ms. Failures are forgotten window_ms after the last one
 * (and once no block runs): expired rows are purged from memory and, in a
 * store batch, from the table (server_lockout_maintain).
 *
 * Persistence. Writes are store-thread jobs (store_thread.h) handed
 * to the emit callback, committed with the assignments' group commit in the
 * order they were made; the table never writes the database itself. A
 * success of a User ID with no failures on record writes nothing. A failure
 * writes the row (failures, last failure, blocked-until, wall-clock ms since
 * the epoch); the caller holds the failure's answer until that job has come
 * back (conn.c), so every failure a peer was told about is committed
 * (unless the store failed: then it stays in memory and is retried). Suite 2
 * tells the peer with KE2 (PROTOCOL.md §6): its attempt ends as a failure
 * before KE2 is sent, KE2 waits for that job (and is not sent if it fails),
 * and a verified ke3 then forgives it (server_lockout_forgive). What a crash
 * (kill -9, power loss) can lose is therefore: the failures of suite-1
 * exchanges that ended without an answer (closed, timed out) whose job was
 * in the store batch being written or queued behind it (at most one batch
 * when the store keeps up), the attempts in flight (at most `threshold` per
 * User ID, and no more than the open connections in all), none of which
 * told its peer anything yet, and a suite-2 success's delete (one failure
 * too many kept). A clean stop
 * (SIGTERM) loses nothing: open exchanges end as failures and the store
 * drains its queue.
 *
 * Bounded memory. At most `capacity` User IDs are held. An entry whose
 * state is committed may leave memory (the table has it and is read back on
 * the next attempt, in the loop pass's read transaction); one with attempts
 * in flight, writes not yet committed or a write that failed never does.
 * When no entry can leave, server_lockout_begin answers
 * SERVER_LOCKOUT_UNAVAILABLE (tryLater) rather than forget one.
 *
 * Shared (PostgreSQL, several servers on one database): the row is the
 * truth and is read on every attempt, in the same round trip as the user's
 * records (server_lockout_begin_with_row); this server adds what it has
 * not written yet (its attempts in flight, its failure counts on their
 * way), so its concurrent attempts on one User ID still stop at
 * `threshold`. A failure is counted by the database itself
 * (SERVER_STORE_LOCKOUT_FAIL: failures = failures + 1 and the back-off
 * computed from the new count in one upsert), so failures on all servers
 * add up; a success deletes the row. Servers may together have up to
 * `threshold` attempts in flight each. A batch holding lockout writes only
 * commits with synchronous_commit off: a crash of the PostgreSQL primary
 * (or a failover to a standby) may lose the failures committed in its last
 * ~3 x wal_writer_delay (600 ms by default) before the crash, though their
 * answers were sent; assignments are never committed that way.
 *
 * Times are wall-clock ms (they are stored); a clock set back lengthens
 * blocks, one set forward shortens them; servers sharing a database need
 * their clocks in step (NTP).
 */
#ifndef CPNS_EXAMPLES_SERVER_LOCKOUT_H
#define CPNS_EXAMPLES_SERVER_LOCKOUT_H

#include <stddef.h>
#include <stdint.h>

#include "examples/server/store.h"
#include "examples/server/store_thread.h"

typedef struct server_lockout server_lockout;

/** Policy; zero fields take the defaults in brackets. */
typedef struct server_lockout_settings {
  uint32_t threshold; /**< Attempts before throttling [5]. */
  uint64_t base_ms;   /**< First back-off [1000]. */
  uint64_t max_ms;    /**< Longest back-off [900000, 15 min]. */
  uint64_t window_ms; /**< Failures forgotten this long after the last one
                           [3600000, 1 h]; raised to max_ms if shorter. */
  size_t capacity;    /**< User IDs held in memory at most [65536]. */
} server_lockout_settings;

/** Takes ownership of a write job; it comes back through server_lockout_stored(). */
typedef void (*server_lockout_emit_fn)(void *arg, server_store_job *job);

/**
 * Creates a table that reads rows it does not hold from reader (the loop
 * thread's connection) and sends its writes to emit. Returns 0 or -1 (out
 * of memory).
 */
int server_lockout_new(server_lockout **lo, const server_lockout_settings *settings,
                       server_db *reader, server_lockout_emit_fn emit, void *emit_arg);

/**
 * Creates a shared table (PostgreSQL): no reader; each attempt brings the
 * row read with the user's records (server_lockout_begin_with_row), and
 * failures are emitted as SERVER_STORE_LOCKOUT_FAIL jobs. Returns 0 or -1
 * (out of memory).
 */
int server_lockout_new_shared(server_lockout **lo, const server_lockout_settings *settings,
                              server_lockout_emit_fn emit, void *emit_arg);

/** Frees the table; NULL is allowed. Jobs still out are the caller's. */
void server_lockout_del(server_lockout *lo);

/**
 * Changes the policy of a running table (threshold, base_ms, max_ms,
 * window_ms; zero fields take the defaults; capacity stays). Counts held
 * are kept and judged by the new policy from the next attempt on.
 */
void server_lockout_set_policy(server_lockout *lo, const server_lockout_settings *settings);

/** The policy in force, defaults filled in. */
void server_lockout_get_policy(const server_lockout *lo, server_lockout_settings *settings);

typedef enum server_lockout_verdict {
  SERVER_LOCKOUT_GO = 0,         /**< Counted: go on, then server_lockout_end(). */
  SERVER_LOCKOUT_THROTTLED = 1,  /**< Within a back-off: tryLater, not counted. */
  SERVER_LOCKOUT_UNAVAILABLE = 2 /**< Row unreadable (database busy) or the cache full
                                      of entries that may not leave: tryLater, not counted. */
} server_lockout_verdict;

/** A User ID's credential is being looked up at now_ms (wall clock); not
 * for a shared table (UNAVAILABLE). */
server_lockout_verdict server_lockout_begin(server_lockout *lo, const uint8_t *user_id, size_t len,
                                            uint64_t now_ms);

/**
 * Shared table: as server_lockout_begin(), with the User ID's lockout row as
 * just read from the database (NULL: it has none).
 */
server_lockout_verdict server_lockout_begin_with_row(server_lockout *lo, const uint8_t *user_id,
                                                     size_t len, const server_db_lockout *row,
                                                     uint64_t now_ms);

/**
 * Ends an attempt that server_lockout_begin() answered GO: success != 0
 * forgets the failures (a delete job if a row may exist), else records a
 * failure (a put job). The put job carries owner. Returns 1 when a put job
 * carrying owner was emitted (the caller may wait for it to come back),
 * else 0.
 */
int server_lockout_end(server_lockout *lo, const uint8_t *user_id, size_t len, int success,
                       uint64_t now_ms, void *owner);

/**
 * A verified proof after the attempt already ended as a failure (suite 2
 * counts its attempt before KE2 leaves, PROTOCOL.md §6): forgets the User
 * ID's failures as a successful server_lockout_end() would, without ending
 * an attempt; emits a delete job (owner NULL) when a row may exist.
 */
void server_lockout_forgive(server_lockout *lo, const uint8_t *user_id, size_t len);

/**
 * A job emitted by this table came back from the store (status set); the
 * caller frees it afterwards. The reader's read transaction must have ended
 * since the commit (server_db_read_end), so later reads see it.
 */
void server_lockout_stored(server_lockout *lo, const server_store_job *job);

/**
 * Periodic upkeep: forgets expired entries held in memory, emits again the
 * writes that failed, and emits one job purging expired rows from the table.
 */
void server_lockout_maintain(server_lockout *lo, uint64_t now_ms);

/** User IDs held in memory whose back-off runs at now_ms (metrics; a scan). */
size_t server_lockout_active(const server_lockout *lo, uint64_t now_ms);

/** Number of User IDs held in memory (tests). */
size_t server_lockout_size(const server_lockout *lo);

#endif /* CPNS_EXAMPLES_SERVER_LOCKOUT_H */
