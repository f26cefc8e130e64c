/* events.h — domain events: the transactional outbox, in-process
 * subscribers, and the relay to Redis Streams.
 *
 * A context raises an event inside the transaction that makes the change
 * (ev_raise with the request, ev_raise_db elsewhere): the event is a row of
 * `outbox` written by that transaction, so it exists iff the change
 * committed. A dispatcher thread with its own database connection delivers
 * each event at least once to every subscriber registered with
 * ev_subscribe(), in outbox seq order (which is commit order on both
 * backends, hence also per-aggregate order). Each subscriber's offset and
 * retry state live in ev_subscriptions; a failing subscriber is retried with
 * exponential backoff and after max_attempts the event is copied to
 * ev_dead_letters and the subscriber moves on (an admin can replay it).
 * Other subscribers are never held up by a failing one.
 *
 * A subscriber runs inside the delivery transaction (platform scope) on the
 * dispatcher's connection: database work it does through `db` commits
 * together with the advance of its offset, so such work happens exactly once
 * unless the handler fails. Anything else it does (HTTP calls, files) may be
 * repeated after a crash and must be idempotent (dedupe on e->id).
 *
 * Several processes on one PostgreSQL: each delivery transaction locks the
 * subscriber's row with FOR UPDATE SKIP LOCKED, so one process delivers to a
 * given subscriber at a time, and a killed process's lock dies with its
 * connection (nothing is lost: the offset only moves on commit).
 *
 * With a Redis URL, a relay thread publishes every event with XADD to the
 * stream "bizosaas:events:<tenant_id>" (field layout in docs/EVENTS.md); it
 * is subscriber "redis-relay" with its own offset, so while Redis is down
 * events wait in the outbox and go out when it returns.
 */
#ifndef BZ_EVENTS_H
#define BZ_EVENTS_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "db.h"
#include "http.h"
#include "router.h"

/* The storage tenant of platform-scope events (no tenant in the request). */
#define EV_PLATFORM_TENANT "_platform"
/* Most subscribers ev_subscribe accepts (a programming limit). */
#define EV_MAX_SUBSCRIBERS 64
/* Longest subscriber name, event type, aggregate type or id (bytes). */
#define EV_MAX_NAME 128
/* The subscriber name the Redis relay keeps its offset under. */
#define EV_RELAY_NAME "redis-relay"

/* One event as a subscriber sees it; every pointer is borrowed for the
 * duration of the handler call. */
typedef struct ev_event {
    int64_t seq;
    const char *id, *tenant_id;
    const char *aggregate_type, *aggregate_id, *event_type;
    const char *payload;    /* JSON object text */
    const char *created_at; /* as stored (RFC 3339 on SQLite, PostgreSQL text on PostgreSQL) */
    int attempt;            /* 1 on the first delivery, more on retries and replays */
    bool replay;            /* delivered from the dead-letter list by an admin replay */
} ev_event_t;

/* A subscriber: returns 0 when the event is handled, a negative ERR_* to be
 * retried later (optionally with ev_set_error for the reason). */
typedef int (*ev_handler_fn)(db_t *db, const ev_event_t *e, void *arg);

typedef struct ev_options {
    int max_attempts;       /* deliveries before dead-lettering (>= 1) */
    int64_t retry_base_ms;  /* first backoff; doubles per attempt */
    int64_t retry_max_ms;   /* backoff cap */
    int64_t poll_ms;        /* idle wait between scans */
    int batch;              /* events per delivery transaction */
    const char *redis_url;  /* NULL or "" = no relay (borrowed) */
    int64_t stream_maxlen;  /* XADD MAXLEN ~ */
} ev_options_t;

/* ev_raise: writes an event for the request's tenant (EV_PLATFORM_TENANT
 * when the caller has none) into the outbox with req->db, inside the
 * request's transaction. payload is stolen (NULL means {}); it must be a JSON
 * object and must never hold a secret. Returns 0, ERR_VALIDATION for an
 * empty or over-long name, or a database error (the handler should fail the
 * request, which rolls the change back too). */
int ev_raise(http_req_t *req, const char *aggregate_type, const char *aggregate_id,
             const char *event_type, json_t *payload);

/* ev_raise_db: the same for code that owns a transaction on db (open,
 * with tenant_id's tenant context or platform scope). The new event's id is
 * written to id_out when non-NULL (37 bytes). */
int ev_raise_db(db_t *db, const char *tenant_id, const char *aggregate_type,
                const char *aggregate_id, const char *event_type, json_t *payload,
                char *id_out);

/* ev_subscribe: registers handler fn under a unique name for event_type (an
 * exact type, or "*" for every event). Names are the offset keys in the
 * database: renaming a subscriber makes it start again from the first
 * event. Call at startup, before ev_start; name and event_type are copied.
 * A duplicate name or too many subscribers aborts (programming error). */
void ev_subscribe(const char *name, const char *event_type, ev_handler_fn fn, void *arg);

/* ev_unsubscribe_all: forgets every subscriber (tests; not while started). */
void ev_unsubscribe_all(void);

/* ev_set_error: records why the current handler failed (thread-local; the
 * dispatcher stores it as last_error / the dead letter's error). Never put
 * a secret in it. */
void ev_set_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* ev_options_from_config: the options the settings table describes. */
void ev_options_from_config(const config_t *cfg, ev_options_t *o);

/* ev_deliver_pending: one dispatcher pass on db (which must have no open
 * transaction): for each subscriber due, delivers up to a few batches of
 * pending events and replays requested dead letters. now_ms is the wall
 * clock for backoff decisions. Returns the number of events handled
 * (delivered, dead-lettered or replayed), or <0 when the database failed. */
int ev_deliver_pending(db_t *db, const ev_options_t *o, int64_t now_ms);

/* ev_relay_pending: one relay pass: publishes up to a batch of events past
 * the relay's offset to Redis (connecting *conn, an opaque handle the caller
 * keeps between passes, when needed) and commits the new offset. Returns the
 * number published, 0 when none were pending, ERR_UNAVAILABLE when Redis is
 * unreachable or refused a command (nothing is committed), or a database
 * error. ev_relay_close releases the handle. */
int ev_relay_pending(db_t *db, const ev_options_t *o, void **conn);
void ev_relay_close(void **conn);

/* ev_prune: one retention pass on db (no transaction open): deletes up to
 * a batch of outbox events older than retention_s that every registered
 * subscriber (and, when relay is true, the Redis relay) has processed.
 * Returns the number deleted or a database error. 0 retention: nothing. */
int ev_prune(db_t *db, int64_t retention_s, bool relay, int64_t now_ms);

/* ev_register: the events API routes, permission grants and, when
 * cfg->events_test_dir is set, the test subscribers. cfg is borrowed for
 * the process lifetime. Call at startup. */
void ev_register(router_t *r, const config_t *cfg);

/* ev_start: starts the dispatcher thread and, with a Redis URL, the relay
 * thread; each opens its own connection to cfg->database_url. Returns 0 or
 * ERR_INTERNAL when a thread cannot start. */
int ev_start(const config_t *cfg);

/* ev_stop: stops and joins the threads (a delivery in progress finishes
 * first). Safe when not started, and to call twice. */
void ev_stop(void);

#endif
