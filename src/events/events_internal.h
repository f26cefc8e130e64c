/* events_internal.h — shared between the files of src/events only. */
#ifndef BZ_EVENTS_INTERNAL_H
#define BZ_EVENTS_INTERNAL_H

#include <stdatomic.h>

#include "events.h"

typedef struct ev__sub {
    char *name, *event_type;
    ev_handler_fn fn;
    void *arg;
} ev__sub_t;

/* The registry: written at startup only, read by the dispatcher thread. */
extern ev__sub_t ev__subs[EV_MAX_SUBSCRIBERS];
extern int ev__nsubs;

/* Counters for /metrics (relaxed atomics). */
extern atomic_llong ev__delivered, ev__failed, ev__dead, ev__relayed, ev__relay_errors, ev__pruned;

/* ev__take_error: the message set by ev_set_error on this thread, or the
 * API code of rc; clears it. The result lives until the next call. */
const char *ev__take_error(int rc);
void ev__clear_error(void);

/* ev__row_t: an owned copy of an outbox row. */
typedef struct ev__row {
    int64_t seq;
    char *id, *tenant_id, *aggregate_type, *aggregate_id, *event_type, *payload, *created_at;
} ev__row_t;

/* ev__rows_load: reads the rows of r (columns seq, id, tenant_id,
 * aggregate_type, aggregate_id, event_type, payload, created_at) into a new
 * array; *n receives the count. Returns 0 or a database error. */
int ev__rows_load(db_res_t *r, ev__row_t **rows, int *n);
void ev__rows_free(ev__row_t *rows, int n);

/* The columns ev__rows_load expects, in order. */
#define EV__COLS "seq, id, tenant_id, aggregate_type, aggregate_id, event_type, payload, created_at"

/* ev__lock_sub: inside an open platform transaction, creates the
 * subscriber's row if needed and locks it (SKIP LOCKED on PostgreSQL).
 * Returns 1 with the state filled, 0 when another process holds it, <0. */
int ev__lock_sub(db_t *db, const char *name, int64_t *last_seq, int *attempts,
                 int64_t *next_attempt_ms);

/* ev__test_subscribers: registers "test.recorder" (appends one line per
 * delivery to DIR/delivered.log: event id, seq, subscriber, pid, attempt)
 * and "test.flaky" (fails while the file DIR/fail exists, else records to
 * DIR/flaky.log). For the black-box tests only (BIZOSAAS_EVENTS_TEST_DIR). */
void ev__test_subscribers(const char *dir);

#endif
