/* test_gateway_plans.c — what the gateway knows about tenants (plans.h):
 * plan names, the choice of the effective limit, the tenant -> plan table
 * (its cap, a plan changing, loading changed tenants from SQLite) and the
 * per-tenant request counts (the cap, "anonymous", "other", top-N). */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "db.h"
#include "gateway/plans.h"
#include "migrate.h"
#include "testdb.h"

static void test_plan_names(void **state)
{
    (void)state;
    assert_int_equal(gw_plan_parse("free"), GW_PLAN_FREE);
    assert_int_equal(gw_plan_parse("enterprise"), GW_PLAN_ENTERPRISE);
    assert_int_equal(gw_plan_parse("Enterprise"), GW_PLAN_UNKNOWN);
    assert_int_equal(gw_plan_parse(""), GW_PLAN_UNKNOWN);
    assert_int_equal(gw_plan_parse(NULL), GW_PLAN_UNKNOWN);
    assert_string_equal(gw_plan_name(GW_PLAN_PROFESSIONAL), "professional");
    assert_null(gw_plan_name(GW_PLAN_UNKNOWN));
    assert_null(gw_plan_name(GW_NPLANS));
}

static void test_limit_selection(void **state)
{
    (void)state;
    int64_t limits[GW_NPLANS] = {0};
    limits[GW_PLAN_PROFESSIONAL] = 1000;
    assert_int_equal(gw_plan_limit(limits, GW_PLAN_PROFESSIONAL, 100), 1000);
    /* a plan without a limit of its own, an unknown tenant: the service's */
    assert_int_equal(gw_plan_limit(limits, GW_PLAN_FREE, 100), 100);
    assert_int_equal(gw_plan_limit(limits, GW_PLAN_UNKNOWN, 100), 100);
    /* a plan limit may also be lower than the service's */
    limits[GW_PLAN_FREE] = 10;
    assert_int_equal(gw_plan_limit(limits, GW_PLAN_FREE, 100), 10);
}

static void test_plan_table(void **state)
{
    (void)state;
    gw_plan_table_t *t = gw_plan_table_new(100);
    assert_int_equal(gw_plan_table_get(t, "a"), GW_PLAN_UNKNOWN);
    char id[32];
    for (int i = 0; i < 100; i++) { /* grows past its first size several times */
        snprintf(id, sizeof id, "tenant-%d", i);
        assert_int_equal(gw_plan_table_set(t, id, (gw_plan_t)(i % GW_NPLANS)), 0);
    }
    for (int i = 0; i < 100; i++) {
        snprintf(id, sizeof id, "tenant-%d", i);
        assert_int_equal(gw_plan_table_get(t, id), i % GW_NPLANS);
    }
    /* full: a new tenant is refused, a known one still changes */
    assert_int_equal(gw_plan_table_set(t, "one-too-many", GW_PLAN_ENTERPRISE), -1);
    assert_int_equal(gw_plan_table_get(t, "one-too-many"), GW_PLAN_UNKNOWN);
    assert_int_equal(gw_plan_table_set(t, "tenant-0", GW_PLAN_ENTERPRISE), 0);
    assert_int_equal(gw_plan_table_get(t, "tenant-0"), GW_PLAN_ENTERPRISE);
    /* a plan this build does not know makes the tenant's plan unknown again */
    assert_int_equal(gw_plan_table_set(t, "tenant-0", GW_PLAN_UNKNOWN), 0);
    assert_int_equal(gw_plan_table_get(t, "tenant-0"), GW_PLAN_UNKNOWN);
    assert_int_equal(gw_plan_table_count(t), 100);
    gw_plan_table_free(t);
}

/* load_on: the table from the tenants table, all and then only the changed
 * ones, on one backend (the SQL differs: text times on SQLite, timestamptz
 * under row-level security on PostgreSQL). */
static void load_on(bool pg)
{
    testdb_t tdb;
    if (!testdb_prepare(&tdb, pg, "gwplans", "p.db")) {
        print_message("BIZOSAAS_TEST_PG_URL not set: PostgreSQL case skipped\n");
        return;
    }
    db_t *db = testdb_open(&tdb);
    assert_true(migrate_apply(db) > 0);
    assert_int_equal(db_begin_platform(db, true), 0);
    assert_int_equal(db_exec(db, NULL,
                             "INSERT INTO tenants (id, name, slug, plan, updated_at) VALUES "
                             "('t1', 'a', 'a', 'professional', '2026-01-01T00:00:00.000Z'), "
                             "('t2', 'b', 'b', 'free', '2026-01-02T00:00:00.000Z'), "
                             "('t3', 'c', 'c', 'gold', '2026-01-03T00:00:00.000Z')",
                             DB_NOARGS),
                     0);
    assert_int_equal(db_commit(db), 0);
    gw_plan_table_t *t = gw_plan_table_new(10);
    assert_int_equal(db_begin_platform(db, false), 0);
    assert_int_equal(gw_plan_table_load(t, db, NULL), 3);
    assert_int_equal(db_rollback(db), 0);
    assert_int_equal(gw_plan_table_get(t, "t1"), GW_PLAN_PROFESSIONAL);
    assert_int_equal(gw_plan_table_get(t, "t2"), GW_PLAN_FREE);
    assert_int_equal(gw_plan_table_get(t, "t3"), GW_PLAN_UNKNOWN);
    /* only the tenants changed since: t1 is not read again */
    assert_int_equal(db_begin_platform(db, true), 0);
    assert_int_equal(db_exec(db, NULL,
                             "UPDATE tenants SET plan = 'enterprise', updated_at = "
                             "'2026-02-01T00:00:00.000Z' WHERE id = 't2'",
                             DB_NOARGS),
                     0);
    assert_int_equal(
        db_exec(db, NULL, "UPDATE tenants SET plan = 'starter' WHERE id = 't1'", DB_NOARGS), 0);
    assert_int_equal(db_commit(db), 0);
    assert_int_equal(db_begin_platform(db, false), 0);
    assert_int_equal(gw_plan_table_load(t, db, "2026-01-15T00:00:00.000Z"), 1);
    assert_int_equal(db_rollback(db), 0);
    assert_int_equal(gw_plan_table_get(t, "t2"), GW_PLAN_ENTERPRISE);
    assert_int_equal(gw_plan_table_get(t, "t1"), GW_PLAN_PROFESSIONAL);
    /* a tenant transaction sees no other tenant on PostgreSQL: the loader
     * needs the caller's platform scope (checked here so that a change of
     * scope in the monitor cannot pass unnoticed) */
    if (pg) {
        gw_plan_table_t *t2 = gw_plan_table_new(10);
        assert_int_equal(db_begin(db, "t3", false), 0);
        assert_int_equal(gw_plan_table_load(t2, db, NULL), 1);
        assert_int_equal(db_rollback(db), 0);
        gw_plan_table_free(t2);
    }
    gw_plan_table_free(t);
    testdb_cleanup(&tdb, db);
}

static void test_plan_table_load_sqlite(void **state)
{
    (void)state;
    load_on(false);
}

static void test_plan_table_load_postgres(void **state)
{
    (void)state;
    load_on(true);
}

static void test_distribution(void **state)
{
    (void)state;
    gw_dist_t *d = gw_dist_new(3);
    for (int i = 0; i < 5; i++)
        gw_dist_count(d, "b");
    for (int i = 0; i < 3; i++)
        gw_dist_count(d, "a");
    gw_dist_count(d, "c");
    gw_dist_count(d, NULL);
    gw_dist_count(d, NULL);
    /* beyond the cap of 3 tenants: counted under "other" */
    gw_dist_count(d, "d");
    gw_dist_count(d, "e");
    gw_dist_count(d, "c"); /* a counted tenant still counts */
    json_t *j = gw_dist_json(d, 100);
    assert_int_equal(json_object_size(j), 5);
    assert_int_equal(json_integer_value(json_object_get(j, "b")), 5);
    assert_int_equal(json_integer_value(json_object_get(j, "a")), 3);
    assert_int_equal(json_integer_value(json_object_get(j, "c")), 2);
    assert_int_equal(json_integer_value(json_object_get(j, "anonymous")), 2);
    assert_int_equal(json_integer_value(json_object_get(j, "other")), 2);
    assert_null(json_object_get(j, "d"));
    json_decref(j);
    /* top 1: the busiest tenant; the rest under "other" */
    j = gw_dist_json(d, 1);
    assert_int_equal(json_object_size(j), 3);
    assert_int_equal(json_integer_value(json_object_get(j, "b")), 5);
    assert_int_equal(json_integer_value(json_object_get(j, "other")), 2 + 3 + 2);
    /* sorted by count: the first key is the busiest */
    void *it = json_object_iter(j);
    assert_string_equal(json_object_iter_key(it), "b");
    json_decref(j);
    /* top 0: only the sums */
    j = gw_dist_json(d, 0);
    assert_int_equal(json_object_size(j), 2);
    json_decref(j);
    gw_dist_free(d);

    /* nothing counted: an empty object */
    d = gw_dist_new(10);
    j = gw_dist_json(d, 10);
    assert_int_equal(json_object_size(j), 0);
    json_decref(j);
    gw_dist_free(d);
}

/* Threads counting at once (like I/O threads) lose no request, also when
 * they meet on a stripe and when a stripe's table grows meanwhile. */
#define DIST_THREADS 4
#define DIST_PER_THREAD 20000
#define DIST_TENANTS 200

static void *count_many(void *arg)
{
    gw_dist_t *d = arg;
    char id[32];
    for (int i = 0; i < DIST_PER_THREAD; i++) {
        snprintf(id, sizeof id, "t%d", i % DIST_TENANTS);
        gw_dist_count(d, i % 10 == 0 ? NULL : id);
    }
    return NULL;
}

static void test_distribution_threads(void **state)
{
    (void)state;
    gw_dist_t *d = gw_dist_new(GW_DIST_MAX_TENANTS);
    pthread_t th[DIST_THREADS];
    for (int i = 0; i < DIST_THREADS; i++)
        assert_int_equal(pthread_create(&th[i], NULL, count_many, d), 0);
    for (int i = 0; i < DIST_THREADS; i++)
        pthread_join(th[i], NULL);
    json_t *j = gw_dist_json(d, DIST_TENANTS);
    json_int_t total = 0;
    const char *k;
    json_t *v;
    json_object_foreach(j, k, v) total += json_integer_value(v);
    assert_int_equal(total, DIST_THREADS * DIST_PER_THREAD);
    assert_int_equal(json_integer_value(json_object_get(j, "anonymous")),
                     DIST_THREADS * DIST_PER_THREAD / 10);
    assert_null(json_object_get(j, "other"));
    assert_int_equal(json_object_size(j), 1 + (DIST_TENANTS - DIST_TENANTS / 10));
    json_decref(j);
    gw_dist_free(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plan_names),
        cmocka_unit_test(test_limit_selection),
        cmocka_unit_test(test_plan_table),
        cmocka_unit_test(test_plan_table_load_sqlite),
        cmocka_unit_test(test_plan_table_load_postgres),
        cmocka_unit_test(test_distribution),
        cmocka_unit_test(test_distribution_threads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
