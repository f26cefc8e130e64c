/* test_wf_engine.c — the run state machine on a real database (SQLite, and
 * PostgreSQL with BIZOSAAS_TEST_PG_URL) with two connections, as two
 * workers would use it:
 *   - the two halves of a parallel group finishing at the same time: the
 *     second waits for the first's run lock and then starts the next group
 *     (without the lock each would see the other still running and the
 *     run would stall);
 *   - a result from a worker whose lease was taken over is discarded;
 *   - an interrupted attempt is given back without counting. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "contexts/workflows/wf_internal.h"
#include "db.h"
#include "err.h"
#include "migrate.h"
#include "testdb.h"

#define T "tenant-engine"

static int one(const json_t *in, const json_t *prev, wf_ctx_t *ctx, json_t **out)
{
    (void)in;
    (void)prev;
    (void)ctx;
    *out = json_integer(1);
    return 0;
}

static const wf_step_def_t race_steps[] = {
    {.name = "b", .fn = one},
    {.name = "c", .fn = one, .parallel = true},
    {.name = "d", .fn = one},
};
static const wf_def_t race_def = {"test.race", NULL, race_steps, 3};

static db_t *open_conn(const testdb_t *t)
{
    char err[512];
    db_t *db = NULL;
    db_options_t o = {.connect_timeout_ms = 10000}; /* also SQLite's busy timeout */
    if (db_open(t->url, &o, &db, err, sizeof err) != 0) fail_msg("db_open: %s", err);
    return db;
}

static char *step_status(db_t *db, const char *run, int idx)
{
    char *s = NULL;
    char q[160];
    snprintf(q, sizeof q, "SELECT status FROM wf_steps WHERE run_id = $1 AND idx = %d", idx);
    assert_int_equal(db_begin_platform(db, false), 0);
    assert_int_equal(db_query_one_text(db, &s, q, DB_ARGS(DB_TEXT(run))), 0);
    db_rollback(db);
    return s;
}

static void claim(db_t *db, const char *owner, wf_claim_t *c)
{
    assert_int_equal(db_begin_platform(db, true), 0);
    assert_int_equal(wf__claim(db, owner, 60000, clock_now_ms(), c), 1);
    assert_int_equal(db_commit(db), 0);
}

typedef struct finisher {
    db_t *db;
    wf_claim_t *c;
    int rc;
} finisher_t;

static void *finish_thread(void *arg)
{
    finisher_t *f = arg;
    f->rc = db_begin_platform(f->db, true);
    if (f->rc == 0) f->rc = wf__finish(f->db, f->c, "o2", json_integer(2), NULL, clock_now_ms());
    if (f->rc == 0) f->rc = db_commit(f->db);
    return NULL;
}

static void run_case(bool pg)
{
    testdb_t t;
    if (!testdb_prepare(&t, pg, "wfengine", "wf.db")) {
        testdb_cleanup(&t, NULL);
        skip();
    }
    db_t *a = open_conn(&t);
    assert_true(migrate_apply(a) >= 0);
    db_t *b = open_conn(&t);
    char run[37];
    bool existed;
    assert_int_equal(db_begin_platform(a, true), 0);
    assert_int_equal(wf_run_start(a, T, "test.race", NULL, NULL, NULL, run, &existed), 0);
    assert_int_equal(db_commit(a), 0);

    /* two workers claim the two halves of group 0 */
    wf_claim_t c1, c2;
    claim(a, "o1", &c1);
    claim(b, "o2", &c2);
    assert_int_not_equal(c1.idx, c2.idx);
    assert_string_equal(c1.run_id, run);

    /* both finish at once: a's transaction is open when b's starts */
    assert_int_equal(db_begin_platform(a, true), 0);
    assert_int_equal(wf__finish(a, &c1, "o1", json_integer(1), NULL, clock_now_ms()), 0);
    finisher_t f = {.db = b, .c = &c2, .rc = -999};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, finish_thread, &f), 0);
    usleep(300000); /* b is waiting for a's lock (the run row, or SQLite's writer lock) */
    assert_int_equal(db_commit(a), 0);
    pthread_join(th, NULL);
    assert_int_equal(f.rc, 0);
    char *s = step_status(a, run, 2);
    assert_string_equal(s, "ready"); /* the next group started */
    free(s);
    wf__claim_free(&c1);
    wf__claim_free(&c2);

    /* d: claimed by o1, its lease "taken over" by o2; o1's late result is discarded */
    wf_claim_t d1, d2;
    claim(a, "o1", &d1);
    assert_int_equal(d1.idx, 2);
    assert_int_equal(db_begin_platform(a, true), 0);
    assert_int_equal(db_exec(a, NULL, "UPDATE wf_steps SET due_ms = 0 WHERE run_id = $1 AND idx = 2",
                             DB_ARGS(DB_TEXT(run))),
                     0);
    assert_int_equal(db_commit(a), 0);
    claim(b, "o2", &d2);
    assert_int_equal(d2.attempt, 2);
    assert_int_equal(db_begin_platform(a, true), 0);
    assert_int_equal(wf__finish(a, &d1, "o1", json_integer(1), NULL, clock_now_ms()), 1);
    assert_int_equal(db_commit(a), 0);
    s = step_status(a, run, 2);
    assert_string_equal(s, "running");
    free(s);

    /* o2 is stopping: the attempt is given back and does not count */
    assert_int_equal(db_begin_platform(b, true), 0);
    assert_int_equal(wf__release(b, &d2, "o2", clock_now_ms()), 0);
    assert_int_equal(db_commit(b), 0);
    s = step_status(a, run, 2);
    assert_string_equal(s, "ready");
    free(s);
    int64_t max = 0;
    assert_int_equal(db_begin_platform(a, false), 0);
    assert_int_equal(db_query_one_int(a, &max, "SELECT max_attempts FROM wf_steps WHERE run_id = $1 AND idx = 2",
                                      DB_ARGS(DB_TEXT(run))),
                     0);
    db_rollback(a);
    assert_int_equal(max, 4);
    /* and the next claim completes the run */
    wf_claim_t d3;
    claim(a, "o1", &d3);
    assert_int_equal(d3.attempt, 3);
    assert_int_equal(db_begin_platform(a, true), 0);
    assert_int_equal(wf__finish(a, &d3, "o1", json_integer(3), NULL, clock_now_ms()), 0);
    assert_int_equal(db_commit(a), 0);
    char *st = NULL;
    assert_int_equal(db_begin_platform(a, false), 0);
    assert_int_equal(db_query_one_text(a, &st, "SELECT status FROM wf_runs WHERE id = $1", DB_ARGS(DB_TEXT(run))), 0);
    db_rollback(a);
    assert_string_equal(st, "completed");
    free(st);
    wf__claim_free(&d1);
    wf__claim_free(&d2);
    wf__claim_free(&d3);
    db_close(b);
    testdb_cleanup(&t, a);
}

static void test_sqlite(void **state)
{
    (void)state;
    run_case(false);
}

static void test_postgres(void **state)
{
    (void)state;
    run_case(true);
}

int main(void)
{
    wf_define(&race_def);
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_sqlite), cmocka_unit_test(test_postgres)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
