/* test_crm_app.c — the CRM's public use case crm_lead_create (what the
 * contact flow calls) on SQLite and PostgreSQL: the lead, its score and
 * duplicates come back; LeadCreated and LeadScored are written by the same
 * transaction (a rollback leaves neither lead nor events); bad input is
 * ERR_VALIDATION with a message and writes nothing; another tenant's
 * transaction does not see the lead (row-level security on PostgreSQL, the
 * repository's filter on SQLite). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "contexts/crm/crm.h"
#include "contexts/crm/internal.h"
#include "err.h"
#include "log.h"
#include "migrate.h"
#include "testdb.h"

#define TA "0190a000-0000-7000-8000-00000000000a"
#define TB "0190a000-0000-7000-8000-00000000000b"

typedef struct fixture {
    db_t *db;
    bool pg;
    testdb_t t;
} fixture_t;

static int setup_common(fixture_t *f)
{
    if (!testdb_prepare(&f->t, f->pg, "crm", "t.db")) return 0;
    f->db = testdb_open(&f->t);
    log_set_level(LOG_OFF);
    assert_true(migrate_apply(f->db) > 0);
    return 0;
}

static int setup_sqlite(void **state)
{
    fixture_t *f = calloc(1, sizeof *f);
    *state = f;
    return setup_common(f);
}

static int setup_pg(void **state)
{
    fixture_t *f = calloc(1, sizeof *f);
    f->pg = true;
    *state = f;
    return setup_common(f);
}

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

static int64_t count(db_t *db, const char *tenant, const char *sql)
{
    int64_t n = -1;
    assert_int_equal(db_begin(db, tenant, false), 0);
    assert_int_equal(db_query_one_int(db, &n, sql, DB_ARGS(DB_TEXT(tenant))), 0);
    db_rollback(db);
    return n;
}

static json_t *create(db_t *db, const char *tenant, const char *fields, int want)
{
    json_t *in = json_loads(fields, 0, NULL), *lead = NULL;
    assert_non_null(in);
    assert_int_equal(db_begin(db, tenant, true), 0);
    int rc = crm_lead_create(db, tenant, in, "contact_form", NULL, &lead);
    assert_int_equal(rc, want);
    if (rc == 0)
        assert_int_equal(db_commit(db), 0);
    else
        db_rollback(db);
    json_decref(in);
    return lead;
}

static void test_create_scores_and_raises_events(void **state)
{
    fixture_t *f = get(state);
    json_t *l = create(f->db, TA,
                       "{\"name\":\"Ann\",\"email\":\"ann@example.com\",\"phone\":\"+1 415 555 0101\","
                       "\"budget\":10000,\"services\":[\"seo\",\"ppc\"]}", 0);
    assert_int_equal(json_integer_value(json_object_get(l, "score")), 10 + 25 + 10);
    assert_string_equal(json_string_value(json_object_get(l, "source")), "contact_form");
    assert_string_equal(json_string_value(json_object_get(l, "status")), "new");
    assert_string_equal(json_string_value(json_object_get(l, "priority")), "low");
    assert_int_equal(json_integer_value(json_object_get(json_object_get(l, "score_breakdown"), "budget")), 25);
    assert_int_equal(json_array_size(json_object_get(l, "duplicates")), 0);
    assert_int_equal(count(f->db, TA, "SELECT COUNT(*) FROM outbox WHERE tenant_id = $1 AND "
                                      "event_type IN ('LeadCreated', 'LeadScored')"), 2);
    /* the same e-mail (any case) again: created, flagged */
    json_t *d = create(f->db, TA, "{\"name\":\"Ann 2\",\"email\":\"ANN@example.com\"}", 0);
    json_t *dups = json_object_get(d, "duplicates");
    assert_int_equal(json_array_size(dups), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(dups, 0), "id")),
                        json_string_value(json_object_get(l, "id")));
    assert_string_equal(json_string_value(json_object_get(json_array_get(dups, 0), "match")), "email");
    /* another tenant sees none of it */
    assert_int_equal(count(f->db, TB, "SELECT COUNT(*) FROM crm_leads WHERE tenant_id = $1"), 0);
    json_t *seen = NULL;
    assert_int_equal(db_begin(f->db, TB, false), 0);
    crm_actor_t b = {.tenant = TB, .user = ""};
    assert_int_equal(crm__lead_get(f->db, &b, json_string_value(json_object_get(l, "id")), &seen),
                     ERR_NOT_FOUND);
    db_rollback(f->db);
    json_t *other = create(f->db, TB, "{\"name\":\"Ann\",\"email\":\"ann@example.com\"}", 0);
    assert_int_equal(json_array_size(json_object_get(other, "duplicates")), 0);
    json_decref(other);
    json_decref(d);
    json_decref(l);
}

static void test_validation_and_rollback(void **state)
{
    fixture_t *f = get(state);
    json_t *e = create(f->db, TA, "{\"email\":\"no-name@example.com\"}", ERR_VALIDATION);
    assert_non_null(strstr(json_string_value(json_object_get(e, "error")), "name"));
    json_decref(e);
    e = create(f->db, TA, "{\"name\":\"x\",\"budget\":\"big\"}", ERR_VALIDATION);
    json_decref(e);
    assert_int_equal(count(f->db, TA, "SELECT COUNT(*) FROM crm_leads WHERE tenant_id = $1"), 0);
    /* a rolled-back transaction keeps neither the lead nor its events */
    json_t *in = json_pack("{s:s}", "name", "Gone"), *lead = NULL;
    assert_int_equal(db_begin(f->db, TA, true), 0);
    assert_int_equal(crm_lead_create(f->db, TA, in, NULL, NULL, &lead), 0);
    assert_string_equal(json_string_value(json_object_get(lead, "source")), "api");
    db_rollback(f->db);
    json_decref(lead);
    json_decref(in);
    assert_int_equal(count(f->db, TA, "SELECT COUNT(*) FROM crm_leads WHERE tenant_id = $1"), 0);
    assert_int_equal(count(f->db, TA, "SELECT COUNT(*) FROM outbox WHERE tenant_id = $1"), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_create_scores_and_raises_events, setup_sqlite, teardown),
        cmocka_unit_test_setup_teardown(test_validation_and_rollback, setup_sqlite, teardown),
        cmocka_unit_test_setup_teardown(test_create_scores_and_raises_events, setup_pg, teardown),
        cmocka_unit_test_setup_teardown(test_validation_and_rollback, setup_pg, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
