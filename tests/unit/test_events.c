/* test_events.c — the outbox, the dispatcher's delivery, retries, dead
 * letters and replay, on SQLite always and on PostgreSQL when
 * BIZOSAAS_TEST_PG_URL is set (each case in a fresh schema; skipped
 * otherwise). Passes are driven directly with ev_deliver_pending and an
 * explicit "now", so backoff is tested without sleeping. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "db.h"
#include "err.h"
#include "events/events.h"
#include "log.h"
#include "migrate.h"
#include "testdb.h"

#define A "018f0000-0000-7000-8000-00000000000a"
#define B "018f0000-0000-7000-8000-00000000000b"

typedef struct fixture {
    db_t *db;
    bool pg;
    testdb_t t;
} fixture_t;

static int open_fixture(fixture_t *f)
{
    if (!testdb_prepare(&f->t, f->pg, "ev", "t.db")) return 0;
    f->db = testdb_open(&f->t);
    log_set_level(LOG_ERROR);
    assert_true(migrate_apply(f->db) > 0);
    return 0;
}

static int setup_sqlite(void **state)
{
    fixture_t *f = calloc(1, sizeof *f);
    *state = f;
    return open_fixture(f);
}

static int setup_pg(void **state)
{
    fixture_t *f = calloc(1, sizeof *f);
    f->pg = true;
    *state = f;
    return open_fixture(f);
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    ev_unsubscribe_all();
    testdb_cleanup(&f->t, f->db);
    free(f);
    return 0;
}

static fixture_t *get(void **state)
{
    fixture_t *f = *state;
    if (!f->db) skip();
    return f;
}

static void raise_one(db_t *db, const char *tenant, const char *agg, const char *type, int n)
{
    assert_int_equal(db_begin(db, tenant, true), 0);
    json_t *p = json_pack("{s:i}", "n", n);
    assert_int_equal(ev_raise_db(db, tenant, "lead", agg, type, p, NULL), 0);
    assert_int_equal(db_commit(db), 0);
}

static int64_t count(db_t *db, const char *sql)
{
    int64_t n = -1;
    assert_int_equal(db_begin_platform(db, false), 0);
    assert_int_equal(db_query_one_int(db, &n, sql, DB_NOARGS), 0);
    db_rollback(db);
    return n;
}

/* A recording subscriber: event n values in delivery order. */
typedef struct rec {
    int n[64];
    int64_t seq[64];
    int count;
    int fail_on; /* payload n that fails (0: none) */
    bool failing;
    int attempts_seen[64];
    bool replayed;
} rec_t;

static int record(db_t *db, const ev_event_t *e, void *arg)
{
    (void)db;
    rec_t *r = arg;
    json_t *p = json_loads(e->payload, 0, NULL);
    int n = (int)json_integer_value(json_object_get(p, "n"));
    json_decref(p);
    if (r->failing || (r->fail_on && n == r->fail_on)) {
        ev_set_error("refusing event %d", n);
        return ERR_UNAVAILABLE;
    }
    assert_true(r->count < 64);
    r->attempts_seen[r->count] = e->attempt;
    r->seq[r->count] = e->seq;
    r->n[r->count++] = n;
    if (e->replay) r->replayed = true;
    return 0;
}

static ev_options_t opts(void)
{
    return (ev_options_t){.max_attempts = 3, .retry_base_ms = 1000, .retry_max_ms = 60000,
                          .poll_ms = 10, .batch = 4};
}

static void test_event_exists_iff_committed(void **state)
{
    db_t *db = get(state)->db;
    assert_int_equal(db_begin(db, A, true), 0);
    assert_int_equal(ev_raise_db(db, A, "lead", "l1", "LeadCreated", NULL, NULL), 0);
    assert_int_equal(db_rollback(db), 0);
    assert_int_equal(count(db, "SELECT count(*) FROM outbox"), 0);

    char id[40];
    assert_int_equal(db_begin(db, A, true), 0);
    assert_int_equal(ev_raise_db(db, A, "lead", "l1", "LeadCreated", json_pack("{s:s}", "k", "v"), id), 0);
    assert_int_equal(db_commit(db), 0);
    assert_int_equal(count(db, "SELECT count(*) FROM outbox"), 1);
    assert_int_equal(strlen(id), 36);

    /* a failed statement later in the transaction takes the event with it */
    assert_int_equal(db_begin(db, A, true), 0);
    assert_int_equal(ev_raise_db(db, A, "lead", "l2", "LeadCreated", NULL, NULL), 0);
    assert_true(db_exec(db, NULL, "INSERT INTO no_such_table VALUES (1)", DB_NOARGS) < 0);
    assert_true(db_commit(db) < 0);
    assert_int_equal(count(db, "SELECT count(*) FROM outbox"), 1);

    /* bad input changes nothing */
    assert_int_equal(db_begin(db, A, true), 0);
    assert_int_equal(ev_raise_db(db, A, "", "l3", "X", NULL, NULL), ERR_VALIDATION);
    assert_int_equal(ev_raise_db(db, A, "lead", "l3", "X", json_array(), NULL), ERR_VALIDATION);
    db_rollback(db);
}

static void test_delivery_in_order_with_offsets(void **state)
{
    db_t *db = get(state)->db;
    rec_t all = {0}, created = {0};
    ev_subscribe("all", "*", record, &all);
    ev_subscribe("created-only", "LeadCreated", record, &created);
    for (int i = 1; i <= 10; i++)
        raise_one(db, i % 2 ? A : B, i % 3 ? "l1" : "l2", i % 4 ? "LeadCreated" : "LeadWon", i);
    ev_options_t o = opts();
    int total = 0, n;
    while ((n = ev_deliver_pending(db, &o, 1000)) > 0) total += n;
    assert_int_equal(n, 0);
    assert_int_equal(total, 10 + 8);
    assert_int_equal(all.count, 10);
    for (int i = 0; i < 10; i++) {
        assert_int_equal(all.n[i], i + 1);
        if (i) assert_true(all.seq[i] > all.seq[i - 1]);
        assert_int_equal(all.attempts_seen[i], 1);
    }
    assert_int_equal(created.count, 8);
    for (int i = 1; i < 8; i++) assert_true(created.n[i] > created.n[i - 1]);
    /* offsets are stored: nothing is delivered twice */
    assert_int_equal(ev_deliver_pending(db, &o, 2000), 0);
    raise_one(db, A, "l1", "LeadCreated", 11);
    assert_int_equal(ev_deliver_pending(db, &o, 3000), 2);
    assert_int_equal(all.count, 11);
    assert_int_equal(all.n[10], 11);
    assert_int_equal(count(db, "SELECT last_seq FROM ev_subscriptions WHERE name = 'all'"), all.seq[10]);
}

static void test_retry_dead_letter_replay(void **state)
{
    db_t *db = get(state)->db;
    rec_t good = {0}, bad = {.failing = true};
    ev_subscribe("good", "*", record, &good);
    ev_subscribe("bad", "*", record, &bad);
    raise_one(db, A, "l1", "LeadCreated", 1);
    raise_one(db, A, "l1", "LeadCreated", 2);
    ev_options_t o = opts();
    int64_t now = 10000;
    ev_deliver_pending(db, &o, now);
    /* the healthy subscriber is not held up */
    assert_int_equal(good.count, 2);
    assert_int_equal(count(db, "SELECT attempts FROM ev_subscriptions WHERE name = 'bad'"), 1);
    /* backoff: not retried before its deadline (base 1000 ms) */
    ev_deliver_pending(db, &o, now + 500);
    assert_int_equal(count(db, "SELECT attempts FROM ev_subscriptions WHERE name = 'bad'"), 1);
    ev_deliver_pending(db, &o, now + 1001);
    assert_int_equal(count(db, "SELECT attempts FROM ev_subscriptions WHERE name = 'bad'"), 2);
    /* second backoff doubles: 2000 ms */
    ev_deliver_pending(db, &o, now + 1001 + 1500);
    assert_int_equal(count(db, "SELECT attempts FROM ev_subscriptions WHERE name = 'bad'"), 2);
    ev_deliver_pending(db, &o, now + 1001 + 2001);
    /* third failure: dead-lettered, offset moved past event 1 */
    assert_int_equal(count(db, "SELECT count(*) FROM ev_dead_letters WHERE subscriber = 'bad'"), 1);
    assert_int_equal(count(db, "SELECT attempts FROM ev_dead_letters"), 3);
    assert_int_equal(count(db, "SELECT count(*) FROM ev_dead_letters WHERE error = 'refusing event 1'"), 1);
    assert_int_equal(count(db, "SELECT attempts FROM ev_subscriptions WHERE name = 'bad'"), 0);
    /* the second event fails on its own now; let it recover instead */
    bad.failing = false;
    now += 100000;
    while (ev_deliver_pending(db, &o, now) > 0) now += 100000;
    assert_int_equal(bad.count, 1);
    assert_int_equal(bad.n[0], 2);
    assert_false(bad.replayed);
    /* replay the dead letter: delivered again with replay set */
    assert_int_equal(db_begin_platform(db, true), 0);
    assert_int_equal(db_exec(db, NULL, "UPDATE ev_dead_letters SET status = 'replay'", DB_NOARGS), 0);
    assert_int_equal(db_commit(db), 0);
    assert_int_equal(ev_deliver_pending(db, &o, now), 1);
    assert_int_equal(bad.count, 2);
    assert_int_equal(bad.n[1], 1);
    assert_true(bad.replayed);
    assert_int_equal(bad.attempts_seen[1], 4);
    assert_int_equal(count(db, "SELECT count(*) FROM ev_dead_letters WHERE status = 'replayed' "
                               "AND replayed_at IS NOT NULL"), 1);
    assert_int_equal(good.count, 2);
}

static void test_failure_mid_batch_keeps_earlier_events(void **state)
{
    db_t *db = get(state)->db;
    rec_t r = {.fail_on = 3};
    ev_subscribe("mid", "*", record, &r);
    for (int i = 1; i <= 4; i++) raise_one(db, A, "l1", "LeadCreated", i);
    ev_options_t o = opts();
    assert_int_equal(ev_deliver_pending(db, &o, 1000), 2);
    /* 1 and 2 were delivered (a second time: the batch that failed was rolled back) */
    assert_int_equal(r.n[r.count - 1], 2);
    int before = r.count;
    assert_int_equal(ev_deliver_pending(db, &o, 1000), 1); /* the failure is recorded */
    assert_int_equal(count(db, "SELECT attempts FROM ev_subscriptions"), 1);
    assert_int_equal(r.count, before);
    r.fail_on = 0;
    assert_true(ev_deliver_pending(db, &o, 1000000) >= 1);
    while (ev_deliver_pending(db, &o, 2000000) > 0) {
    }
    assert_int_equal(r.n[r.count - 2], 3);
    assert_int_equal(r.n[r.count - 1], 4);
}

/* A subscriber whose database work fails: the work and the offset roll
 * back together, and the event is retried. */
static int bad_sql(db_t *db, const ev_event_t *e, void *arg)
{
    (void)e;
    int *calls = arg;
    (*calls)++;
    return db_exec(db, NULL, "INSERT INTO no_such_table VALUES (1)", DB_NOARGS);
}

static void test_subscriber_db_failure_rolls_back(void **state)
{
    db_t *db = get(state)->db;
    int calls = 0;
    ev_subscribe("sql", "*", bad_sql, &calls);
    raise_one(db, A, "l1", "LeadCreated", 1);
    ev_options_t o = opts();
    assert_int_equal(ev_deliver_pending(db, &o, 1000), 1);
    assert_int_equal(calls, 1);
    assert_int_equal(count(db, "SELECT last_seq FROM ev_subscriptions WHERE name = 'sql'"), 0);
    assert_int_equal(count(db, "SELECT attempts FROM ev_subscriptions WHERE name = 'sql'"), 1);
}

/* PostgreSQL: seq is commit order even when transactions commit in the
 * opposite order of their INSERTs. */
static void test_pg_seq_is_commit_order(void **state)
{
    fixture_t *f = get(state);
    if (!f->pg) skip();
    char err[512];
    db_t *db2;
    assert_int_equal(db_open(f->t.url, testdb_options(), &db2, err, sizeof err), 0);
    char first[40], second[40];
    assert_int_equal(db_begin(f->db, A, true), 0);
    assert_int_equal(ev_raise_db(f->db, A, "lead", "l1", "First", NULL, first), 0);
    assert_int_equal(db_begin(db2, B, true), 0);
    assert_int_equal(ev_raise_db(db2, B, "lead", "l2", "Second", NULL, second), 0);
    assert_int_equal(db_commit(db2), 0); /* inserted second, committed first */
    assert_int_equal(db_commit(f->db), 0);
    int64_t s1 = 0, s2 = 0;
    assert_int_equal(db_begin_platform(f->db, false), 0);
    assert_int_equal(db_query_one_int(f->db, &s1, "SELECT seq FROM outbox WHERE id = $1", DB_ARGS(DB_TEXT(first))), 0);
    assert_int_equal(db_query_one_int(f->db, &s2, "SELECT seq FROM outbox WHERE id = $1", DB_ARGS(DB_TEXT(second))), 0);
    db_rollback(f->db);
    assert_true(s2 < s1);
    db_close(db2);
}

/* PostgreSQL: while one connection holds a subscriber's row, another
 * process skips it instead of delivering twice. */
static void test_pg_locked_subscriber_is_skipped(void **state)
{
    fixture_t *f = get(state);
    if (!f->pg) skip();
    rec_t r = {0};
    ev_subscribe("locked", "*", record, &r);
    raise_one(f->db, A, "l1", "LeadCreated", 1);
    char err[512];
    db_t *db2;
    assert_int_equal(db_open(f->t.url, testdb_options(), &db2, err, sizeof err), 0);
    ev_options_t o = opts();
    assert_int_equal(ev_deliver_pending(f->db, &o, 1000), 1); /* creates the row */
    raise_one(f->db, A, "l1", "LeadCreated", 2);
    assert_int_equal(db_begin_platform(db2, true), 0);
    db_res_t *lock;
    assert_int_equal(db_query(db2, &lock, "SELECT 1 FROM ev_subscriptions WHERE name = 'locked' FOR UPDATE", DB_NOARGS), 0);
    assert_int_equal(db_res_next(lock), 1);
    db_res_free(lock);
    assert_int_equal(ev_deliver_pending(f->db, &o, 2000), 0);
    assert_int_equal(r.count, 1);
    db_rollback(db2);
    assert_int_equal(ev_deliver_pending(f->db, &o, 3000), 1);
    assert_int_equal(r.count, 2);
    db_close(db2);
}

#define BOTH(fn)                                                                                   \
    cmocka_unit_test_setup_teardown(fn, setup_sqlite, teardown),                                   \
        cmocka_unit_test_setup_teardown(fn, setup_pg, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        BOTH(test_event_exists_iff_committed),
        BOTH(test_delivery_in_order_with_offsets),
        BOTH(test_retry_dead_letter_replay),
        BOTH(test_failure_mid_batch_keeps_earlier_events),
        BOTH(test_subscriber_db_failure_rolls_back),
        cmocka_unit_test_setup_teardown(test_pg_seq_is_commit_order, setup_pg, teardown),
        cmocka_unit_test_setup_teardown(test_pg_locked_subscriber_is_skipped, setup_pg, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
