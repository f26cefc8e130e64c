/* test_wf_schedule.c — the schedule firing pass on a real database (SQLite,
 * and PostgreSQL with BIZOSAAS_TEST_PG_URL), driven with a synthetic clock:
 * missed firings fire once and continue from now, the overlap policies
 * skip / queue / allow, and one run per slot. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "contexts/workflows/cron.h"
#include "contexts/workflows/wf_internal.h"
#include "db.h"
#include "err.h"
#include "migrate.h"
#include "testdb.h"

#define T "tenant-sched"
#define HOUR 3600000LL

static db_t *setup_db(testdb_t *t, bool pg)
{
    if (!testdb_prepare(t, pg, "wfsched", "wf.db")) return NULL;
    db_t *db = testdb_open(t);
    assert_true(migrate_apply(db) >= 0);
    return db;
}

static void add_schedule(db_t *db, const char *id, const char *wf, const char *cron,
                         const char *overlap, int64_t next, const char *last_run)
{
    assert_int_equal(db_begin_platform(db, true), 0);
    assert_int_equal(db_exec(db, NULL,
                             "INSERT INTO wf_schedules (tenant_id, id, workflow, cron, timezone, "
                             "input, overlap, next_fire_ms, last_run_id, created_ms) VALUES ($1, $2, "
                             "$3, $4, 'UTC', '{\"ms\":1}', $5, $6, $7, 0)",
                             DB_ARGS(DB_TEXT(T), DB_TEXT(id), DB_TEXT(wf), DB_TEXT(cron),
                                     DB_TEXT(overlap), DB_INT(next), DB_TEXT(last_run))),
                     0);
    assert_int_equal(db_commit(db), 0);
}

static int64_t q_int(db_t *db, const char *sql, const char *arg)
{
    int64_t v = -1;
    assert_int_equal(db_begin_platform(db, false), 0);
    assert_int_equal(db_query_one_int(db, &v, sql, DB_ARGS(DB_TEXT(arg))), 0);
    db_rollback(db);
    return v;
}

static int64_t runs_of(db_t *db, const char *sched)
{
    return q_int(db, "SELECT count(*) FROM wf_runs WHERE schedule_id = $1", sched);
}

static int64_t next_of(db_t *db, const char *sched)
{
    return q_int(db, "SELECT next_fire_ms FROM wf_schedules WHERE id = $1", sched);
}

/* a run that is still active, for the overlap cases */
static void active_run(db_t *db, char id[37])
{
    bool existed;
    assert_int_equal(db_begin_platform(db, true), 0);
    assert_int_equal(wf_run_start(db, T, "delay", NULL, NULL, NULL, id, &existed), 0);
    assert_int_equal(db_commit(db), 0);
}

static void run_case(bool pg)
{
    testdb_t t;
    db_t *db = setup_db(&t, pg);
    if (!db) {
        testdb_cleanup(&t, NULL);
        skip();
    }
    /* "now" is 2026-01-01T10:20:00Z; the hourly schedule last fired at
     * 07:00 and missed 08:00, 09:00 and 10:00 while the platform was down */
    int64_t now = 1767261600000LL + 20 * 60000; /* 2026-01-01T10:20:00Z */
    add_schedule(db, "missed", "delay", "0 * * * *", "allow", now - 140 * 60000, NULL);
    assert_int_equal(wf__schedule_pass(db, now), 0);
    assert_int_equal(runs_of(db, "missed"), 1); /* once, not three times */
    assert_int_equal(next_of(db, "missed"), now + 40 * 60000); /* 11:00 */
    assert_int_equal(wf__schedule_pass(db, now + 1000), 0);
    assert_int_equal(runs_of(db, "missed"), 1); /* not due again */
    /* the slot's idempotency key: a second process firing the same slot
     * (same next_fire) gets the same run */
    assert_int_equal(q_int(db, "SELECT count(*) FROM wf_runs WHERE idem_key LIKE $1", "schedule:missed:%"), 1);

    char busy[37];
    active_run(db, busy);
    /* skip: the firing is dropped, next moves on */
    add_schedule(db, "skip", "delay", "*/5 * * * *", "skip", now - 1000, busy);
    /* queue: the firing waits, next stays due */
    add_schedule(db, "queue", "delay", "*/5 * * * *", "queue", now - 1000, busy);
    /* allow: fires anyway */
    add_schedule(db, "allow", "delay", "*/5 * * * *", "allow", now - 1000, busy);
    assert_int_equal(wf__schedule_pass(db, now), 0);
    assert_int_equal(runs_of(db, "skip"), 0);
    assert_int_equal(next_of(db, "skip"), now + 5 * 60000);
    assert_int_equal(runs_of(db, "queue"), 0);
    assert_int_equal(next_of(db, "queue"), now - 1000);
    assert_int_equal(runs_of(db, "allow"), 1);
    assert_int_equal(next_of(db, "allow"), now + 5 * 60000);
    /* the previous run ends: the queued firing starts at the next pass */
    assert_int_equal(db_begin_platform(db, true), 0);
    assert_int_equal(db_exec(db, NULL, "UPDATE wf_runs SET status = 'completed' WHERE id = $1",
                             DB_ARGS(DB_TEXT(busy))),
                     0);
    assert_int_equal(db_commit(db), 0);
    assert_int_equal(wf__schedule_pass(db, now + 2000), 0);
    assert_int_equal(runs_of(db, "queue"), 1);
    assert_int_equal(next_of(db, "queue"), now + 5 * 60000);
    assert_int_equal(runs_of(db, "skip"), 0);
    testdb_cleanup(&t, db);
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
    wf__builtin_register();
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_sqlite), cmocka_unit_test(test_postgres)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
