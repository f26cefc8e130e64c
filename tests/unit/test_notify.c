/* test_notify.c — notify_send: validation writes nothing; a sent
 * notification is stored with its addressees; another tenant's transaction
 * never sees it (row-level security on PostgreSQL). SQLite always,
 * PostgreSQL when BIZOSAAS_TEST_PG_URL is set. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "auth.h"
#include "contexts/notify/notify.h"
#include "db.h"
#include "err.h"
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

static int setup(void **state, bool pg)
{
    fixture_t *f = calloc(1, sizeof *f);
    f->pg = pg;
    *state = f;
    if (!testdb_prepare(&f->t, pg, "ntf", "t.db")) return 0;
    f->db = testdb_open(&f->t);
    log_set_level(LOG_ERROR);
    assert_true(migrate_apply(f->db) > 0);
    return 0;
}
static int setup_sqlite(void **state) { return setup(state, false); }
static int setup_pg(void **state) { return setup(state, true); }

static int teardown(void **state)
{
    fixture_t *f = *state;
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

static int64_t count(db_t *db, const char *tenant)
{
    int64_t n = -1;
    assert_int_equal(db_begin(db, tenant, false), 0);
    assert_int_equal(db_query_one_int(db, &n, "SELECT COUNT(*) FROM notifications", DB_NOARGS), 0);
    assert_int_equal(db_commit(db), 0);
    return n;
}

static void test_bad_arguments_write_nothing(void **state)
{
    fixture_t *f = get(state);
    assert_int_equal(db_begin(f->db, A, true), 0);
    /* nobody addressed */
    assert_int_equal(notify_send(f->db, A, 0, NULL, "k", "t", "", NULL, NULL), ERR_VALIDATION);
    /* empty title, over-long kind, data that is not an object (stolen either way) */
    assert_int_equal(notify_send(f->db, A, ROLE_MANAGER, NULL, "k", "", "", NULL, NULL),
                     ERR_VALIDATION);
    char kind[NOTIFY_MAX_KIND + 2];
    memset(kind, 'k', sizeof kind - 1);
    kind[sizeof kind - 1] = '\0';
    assert_int_equal(notify_send(f->db, A, ROLE_MANAGER, NULL, kind, "t", "", NULL, NULL),
                     ERR_VALIDATION);
    assert_int_equal(notify_send(f->db, A, ROLE_MANAGER, NULL, "k", "t", "", json_array(), NULL),
                     ERR_VALIDATION);
    assert_int_equal(db_commit(f->db), 0);
    assert_int_equal(count(f->db, A), 0);
}

static void test_stored_and_isolated(void **state)
{
    fixture_t *f = get(state);
    char id[37] = "";
    assert_int_equal(db_begin(f->db, A, true), 0);
    assert_int_equal(notify_send(f->db, A, ROLE_MANAGER | ROLE_TENANT_ADMIN, NULL,
                                 "high_value_lead", "High-value lead", "score 90",
                                 json_pack("{s:s}", "lead_id", "L1"), id),
                     0);
    assert_int_equal(notify_send(f->db, A, 0, "user-1", "note", "For one user", NULL, NULL, NULL),
                     0);
    assert_int_equal(db_commit(f->db), 0);
    assert_int_equal(strlen(id), 36);

    assert_int_equal(count(f->db, A), 2);
    assert_int_equal(db_begin(f->db, A, false), 0);
    db_res_t *r = NULL;
    assert_int_equal(db_query(f->db, &r,
                              "SELECT roles, kind, data, seq FROM notifications WHERE id = $1",
                              DB_ARGS(DB_TEXT(id))),
                     0);
    assert_int_equal(db_res_next(r), 1);
    assert_int_equal(db_res_int(r, 0), ROLE_MANAGER | ROLE_TENANT_ADMIN);
    assert_string_equal(db_res_text(r, 1), "high_value_lead");
    assert_string_equal(db_res_text(r, 2), "{\"lead_id\":\"L1\"}");
    assert_true(db_res_int(r, 3) >= 1);
    db_res_free(r);
    assert_int_equal(db_commit(f->db), 0);

    /* RLS on PostgreSQL: tenant B's transaction sees none of A's rows.
     * (SQLite has no RLS; the routes filter on the tenant, tested over HTTP.) */
    if (f->pg) assert_int_equal(count(f->db, B), 0);
}

#define BOTH(fn)                                                                                   \
    cmocka_unit_test_setup_teardown(fn, setup_sqlite, teardown),                                   \
        cmocka_unit_test_setup_teardown(fn, setup_pg, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        BOTH(test_bad_arguments_write_nothing),
        BOTH(test_stored_and_isolated),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
