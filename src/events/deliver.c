/* deliver.c — one dispatcher pass: events from the outbox to in-process
 * subscribers (see events.h for the guarantees).
 *
 * For each subscriber, a delivery transaction (platform scope, write)
 *   1. locks the subscriber's ev_subscriptions row (SKIP LOCKED on
 *      PostgreSQL: another process is on it, try the next subscriber);
 *   2. replays one dead letter whose status is 'replay', if any; otherwise
 *   3. reads up to `batch` events past its offset, calls the handler on each
 *      in seq order, and advances the offset past the last one — all in the
 *      same transaction, so handler database work and offset commit together.
 * When the handler fails on the k-th event the transaction is rolled back;
 * the k events before it are delivered again in a fresh transaction, and the
 * failure is recorded for the k-th in another one: attempts+1 and a backoff
 * deadline (base * 2^(attempts-1), capped), or, at max_attempts, a copy in
 * ev_dead_letters and the offset moved past it. A subscriber in backoff is
 * skipped until its deadline; others keep going.
 */
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "clock.h"
#include "err.h"
#include "events_internal.h"
#include "ids.h"
#include "log.h"

atomic_llong ev__delivered, ev__failed, ev__dead, ev__relayed, ev__relay_errors;

int ev__rows_load(db_res_t *r, ev__row_t **rows, int *n)
{
    int cap = 0, rc;
    *rows = NULL;
    *n = 0;
    while ((rc = db_res_next(r)) == 1) {
        if (*n == cap) {
            cap = cap ? cap * 2 : 16;
            *rows = xrealloc(*rows, (size_t)cap * sizeof **rows);
        }
        ev__row_t *e = &(*rows)[(*n)++];
        e->seq = db_res_int(r, 0);
        char **f[] = {&e->id, &e->tenant_id, &e->aggregate_type, &e->aggregate_id,
                      &e->event_type, &e->payload, &e->created_at};
        for (int i = 0; i < 7; i++) {
            const char *t = db_res_text(r, i + 1);
            *f[i] = xstrndup(t ? t : "", t ? db_res_len(r, i + 1) : 0);
        }
    }
    if (rc < 0) {
        ev__rows_free(*rows, *n);
        *rows = NULL;
        *n = 0;
    }
    return rc < 0 ? rc : 0;
}

void ev__rows_free(ev__row_t *rows, int n)
{
    for (int i = 0; i < n; i++) {
        ev__row_t *e = &rows[i];
        free(e->id);
        free(e->tenant_id);
        free(e->aggregate_type);
        free(e->aggregate_id);
        free(e->event_type);
        free(e->payload);
        free(e->created_at);
    }
    free(rows);
}

static int select_sub(db_t *db, const char *name, int64_t *last_seq, int *attempts,
                      int64_t *next_ms)
{
    const char *sql = db_backend(db) == DB_POSTGRES
                          ? "SELECT last_seq, attempts, next_attempt_ms FROM ev_subscriptions "
                            "WHERE name = $1 FOR UPDATE SKIP LOCKED"
                          : "SELECT last_seq, attempts, next_attempt_ms FROM ev_subscriptions "
                            "WHERE name = $1";
    db_res_t *r;
    int rc = db_query(db, &r, sql, DB_ARGS(DB_TEXT(name)));
    if (rc < 0) return rc;
    rc = db_res_next(r);
    if (rc == 1) {
        *last_seq = db_res_int(r, 0);
        *attempts = (int)db_res_int(r, 1);
        *next_ms = db_res_int(r, 2);
    }
    db_res_free(r);
    return rc;
}

int ev__lock_sub(db_t *db, const char *name, int64_t *last_seq, int *attempts,
                 int64_t *next_attempt_ms)
{
    int rc = select_sub(db, name, last_seq, attempts, next_attempt_ms);
    if (rc != 0) return rc;
    int64_t exists = 0;
    rc = db_query_one_int(db, &exists, "SELECT count(*) FROM ev_subscriptions WHERE name = $1",
                          DB_ARGS(DB_TEXT(name)));
    if (rc < 0) return rc;
    if (exists) return 0; /* locked by another process */
    rc = db_exec(db, NULL, "INSERT INTO ev_subscriptions (name) VALUES ($1) ON CONFLICT DO NOTHING",
                 DB_ARGS(DB_TEXT(name)));
    if (rc < 0) return rc;
    return select_sub(db, name, last_seq, attempts, next_attempt_ms);
}

static void to_event(const ev__row_t *row, int attempt, bool replay, ev_event_t *e)
{
    *e = (ev_event_t){
        .seq = row->seq,
        .id = row->id,
        .tenant_id = row->tenant_id,
        .aggregate_type = row->aggregate_type,
        .aggregate_id = row->aggregate_id,
        .event_type = row->event_type,
        .payload = row->payload,
        .created_at = row->created_at,
        .attempt = attempt,
        .replay = replay,
    };
}

static int load_events(db_t *db, const ev__sub_t *s, int64_t after, int limit, ev__row_t **rows,
                       int *n)
{
    db_res_t *r;
    int rc;
    if (strcmp(s->event_type, "*") == 0)
        rc = db_query(db, &r,
                      "SELECT " EV__COLS " FROM outbox WHERE seq > $1 ORDER BY seq LIMIT $2",
                      DB_ARGS(DB_INT(after), DB_INT(limit)));
    else
        rc = db_query(db, &r,
                      "SELECT " EV__COLS " FROM outbox WHERE seq > $1 AND event_type = $2 "
                      "ORDER BY seq LIMIT $3",
                      DB_ARGS(DB_INT(after), DB_TEXT(s->event_type), DB_INT(limit)));
    if (rc < 0) return rc;
    rc = ev__rows_load(r, rows, n);
    db_res_free(r);
    return rc;
}

/* replay_one: delivers one dead letter marked 'replay'. Returns 1 when one
 * was handled (either way), 0 when none is waiting, <0 on a database error.
 * Called with the subscriber's row locked; ends the transaction. */
static int replay_one(db_t *db, const ev__sub_t *s)
{
    db_res_t *r;
    int rc = db_query(db, &r,
                      "SELECT seq, event_id, tenant_id, aggregate_type, aggregate_id, event_type, "
                      "payload, event_created_at, attempts, id FROM ev_dead_letters "
                      "WHERE subscriber = $1 AND status = 'replay' ORDER BY seq LIMIT 1",
                      DB_ARGS(DB_TEXT(s->name)));
    if (rc < 0) return rc;
    ev__row_t *rows;
    int n;
    rc = ev__rows_load(r, &rows, &n);
    db_res_free(r);
    if (rc < 0 || n == 0) return rc;
    /* attempts and the dead letter's id are not in the row copy: read them */
    int64_t attempts = 0;
    char *dl_id = NULL;
    rc = db_query_one_int(db, &attempts,
                          "SELECT attempts FROM ev_dead_letters WHERE subscriber = $1 AND "
                          "event_id = $2 AND status = 'replay'",
                          DB_ARGS(DB_TEXT(s->name), DB_TEXT(rows[0].id)));
    if (rc == 0)
        rc = db_query_one_text(db, &dl_id,
                               "SELECT id FROM ev_dead_letters WHERE subscriber = $1 AND "
                               "event_id = $2 AND status = 'replay'",
                               DB_ARGS(DB_TEXT(s->name), DB_TEXT(rows[0].id)));
    if (rc < 0) goto out;
    ev_event_t e;
    to_event(&rows[0], (int)attempts + 1, true, &e);
    char now[32];
    clock_rfc3339(clock_now_ms(), now);
    ev__clear_error();
    rc = s->fn(db, &e, s->arg);
    if (rc == 0)
        rc = db_exec(db, NULL,
                     "UPDATE ev_dead_letters SET status = 'replayed', replayed_at = $3 "
                     "WHERE tenant_id = $1 AND id = $2",
                     DB_ARGS(DB_TEXT(rows[0].tenant_id), DB_TEXT(dl_id), DB_TEXT(now)));
    if (rc == 0) rc = db_commit(db);
    if (rc == 0) {
        atomic_fetch_add_explicit(&ev__delivered, 1, memory_order_relaxed);
        log_kv(LOG_INFO, "dead letter replayed", "subscriber", s->name, "event_id", rows[0].id, NULL);
        rc = 1;
        goto out;
    }
    const char *why = ev__take_error(rc);
    db_rollback(db);
    atomic_fetch_add_explicit(&ev__failed, 1, memory_order_relaxed);
    rc = db_begin_platform(db, true);
    if (rc == 0)
        rc = db_exec(db, NULL,
                     "UPDATE ev_dead_letters SET status = 'dead', attempts = attempts + 1, "
                     "error = $3 WHERE tenant_id = $1 AND id = $2",
                     DB_ARGS(DB_TEXT(rows[0].tenant_id), DB_TEXT(dl_id), DB_TEXT(why)));
    if (rc == 0) rc = db_commit(db);
    if (rc == 0) rc = 1;
    log_kv(LOG_WARN, "dead letter replay failed", "subscriber", s->name, "event_id", rows[0].id,
           "error", why, NULL);
out:
    free(dl_id);
    ev__rows_free(rows, n);
    return rc;
}

/* run_batch: calls the handler on rows[0..n) and advances the offset, in
 * the open transaction. Returns 0 (committed), or the index (>= 0) of the
 * failing event through *failed_at with a negative result; the
 * transaction is then rolled back. */
static int run_batch(db_t *db, const ev__sub_t *s, ev__row_t *rows, int n, int first_attempt,
                     int *failed_at, char *why, size_t whylen)
{
    int rc = 0;
    int i = 0;
    for (; i < n; i++) {
        ev_event_t e;
        to_event(&rows[i], i == 0 ? first_attempt : 1, false, &e);
        ev__clear_error();
        rc = s->fn(db, &e, s->arg);
        if (rc < 0) break;
    }
    if (rc == 0)
        rc = db_exec(db, NULL,
                     "UPDATE ev_subscriptions SET last_seq = $2, attempts = 0, next_attempt_ms = 0, "
                     "last_error = NULL, delivered = delivered + $3 WHERE name = $1",
                     DB_ARGS(DB_TEXT(s->name), DB_INT(rows[n - 1].seq), DB_INT(n)));
    if (rc == 0) rc = db_commit(db);
    if (rc == 0) return 0;
    snprintf(why, whylen, "%s", ev__take_error(rc));
    db_rollback(db);
    *failed_at = i < n ? i : n - 1; /* a failed offset update/commit counts against the last */
    return rc;
}

static int64_t backoff_ms(const ev_options_t *o, int attempts)
{
    int64_t d = o->retry_base_ms > 0 ? o->retry_base_ms : 1;
    for (int i = 1; i < attempts && d < o->retry_max_ms; i++) d *= 2;
    return d < o->retry_max_ms ? d : o->retry_max_ms;
}

/* record_failure: in a new transaction, counts a failed attempt of row for
 * s, dead-lettering it at max_attempts. Returns 1 or <0. */
static int record_failure(db_t *db, const ev__sub_t *s, const ev_options_t *o,
                          const ev__row_t *row, int64_t expect_seq, const char *why,
                          int64_t now_ms)
{
    int64_t last_seq, next_ms;
    int attempts;
    int rc = db_begin_platform(db, true);
    if (rc < 0) return rc;
    rc = ev__lock_sub(db, s->name, &last_seq, &attempts, &next_ms);
    if (rc <= 0 || last_seq != expect_seq) { /* someone else moved on */
        db_rollback(db);
        return rc < 0 ? rc : 1;
    }
    attempts++;
    atomic_fetch_add_explicit(&ev__failed, 1, memory_order_relaxed);
    if (attempts >= o->max_attempts) {
        char id[ID_UUID_LEN + 1];
        id_uuidv7(id);
        rc = db_exec(db, NULL,
                     "INSERT INTO ev_dead_letters (tenant_id, id, subscriber, event_id, seq, "
                     "aggregate_type, aggregate_id, event_type, payload, event_created_at, "
                     "attempts, error) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
                     DB_ARGS(DB_TEXT(row->tenant_id), DB_TEXT(id), DB_TEXT(s->name),
                             DB_TEXT(row->id), DB_INT(row->seq), DB_TEXT(row->aggregate_type),
                             DB_TEXT(row->aggregate_id), DB_TEXT(row->event_type),
                             DB_TEXT(row->payload), DB_TEXT(row->created_at), DB_INT(attempts),
                             DB_TEXT(why)));
        if (rc == 0)
            rc = db_exec(db, NULL,
                         "UPDATE ev_subscriptions SET last_seq = $2, attempts = 0, "
                         "next_attempt_ms = 0, last_error = $3 WHERE name = $1",
                         DB_ARGS(DB_TEXT(s->name), DB_INT(row->seq), DB_TEXT(why)));
        if (rc == 0) rc = db_commit(db);
        if (rc == 0) {
            atomic_fetch_add_explicit(&ev__dead, 1, memory_order_relaxed);
            log_kv(LOG_WARN, "event dead-lettered", "subscriber", s->name, "event_id", row->id,
                   "event_type", row->event_type, "error", why, NULL);
        }
    } else {
        rc = db_exec(db, NULL,
                     "UPDATE ev_subscriptions SET attempts = $2, next_attempt_ms = $3, "
                     "last_error = $4 WHERE name = $1",
                     DB_ARGS(DB_TEXT(s->name), DB_INT(attempts),
                             DB_INT(now_ms + backoff_ms(o, attempts)), DB_TEXT(why)));
        if (rc == 0) rc = db_commit(db);
        log_kv(LOG_INFO, "subscriber failed; will retry", "subscriber", s->name, "event_id",
               row->id, "error", why, NULL);
    }
    if (rc < 0) db_rollback(db);
    return rc < 0 ? rc : 1;
}

/* deliver_sub: one delivery round for s. Returns events handled or <0. */
static int deliver_sub(db_t *db, const ev__sub_t *s, const ev_options_t *o, int64_t now_ms)
{
    int64_t last_seq, next_ms;
    int attempts;
    int rc = db_begin_platform(db, true);
    if (rc < 0) return rc;
    rc = ev__lock_sub(db, s->name, &last_seq, &attempts, &next_ms);
    if (rc <= 0 || next_ms > now_ms) {
        db_rollback(db);
        return rc < 0 ? rc : 0;
    }
    rc = replay_one(db, s);
    if (rc != 0) {
        if (rc < 0) db_rollback(db);
        return rc;
    }
    ev__row_t *rows;
    int n;
    int batch = o->batch > 0 ? o->batch : 1;
    rc = load_events(db, s, last_seq, attempts > 0 ? 1 : batch, &rows, &n);
    if (rc < 0 || n == 0) {
        db_rollback(db);
        return rc;
    }
    int failed_at = 0;
    char why[512];
    rc = run_batch(db, s, rows, n, attempts + 1, &failed_at, why, sizeof why);
    int handled = rc == 0 ? n : 0;
    if (rc < 0 && failed_at > 0) {
        /* the events before the failing one succeeded: deliver them alone */
        int k = failed_at;
        rc = db_begin_platform(db, true);
        if (rc == 0) rc = ev__lock_sub(db, s->name, &last_seq, &attempts, &next_ms);
        if (rc == 1) rc = run_batch(db, s, rows, k, 1, &failed_at, why, sizeof why);
        else if (rc == 0) db_rollback(db);
        if (rc == 0) handled = k; /* the failing one is retried on the next pass */
    } else if (rc < 0) {
        int64_t expect = last_seq;
        rc = record_failure(db, s, o, &rows[0], expect, why, now_ms);
        if (rc == 1) handled = 1;
    }
    if (handled > 0 && rc >= 0)
        atomic_fetch_add_explicit(&ev__delivered, handled, memory_order_relaxed);
    ev__rows_free(rows, n);
    if (rc < 0) db_rollback(db);
    return rc < 0 ? rc : handled;
}

int ev_deliver_pending(db_t *db, const ev_options_t *o, int64_t now_ms)
{
    int total = 0;
    for (int i = 0; i < ev__nsubs; i++) {
        int n = deliver_sub(db, &ev__subs[i], o, now_ms);
        if (n < 0) {
            log_kv(LOG_WARN, "event delivery pass failed", "subscriber", ev__subs[i].name, "error",
                   db_errmsg(db), NULL);
            return n;
        }
        total += n;
    }
    return total;
}
