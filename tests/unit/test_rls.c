/* test_rls.c — PostgreSQL row-level security isolates tenants even when a
 * query forgets its tenant filter.
 *
 * Needs BIZOSAAS_TEST_PG_URL (an ordinary role: NOSUPERUSER NOBYPASSRLS)
 * and BIZOSAAS_TEST_PG_ADMIN_URL (a superuser, for the role check); each
 * case skips without them. Every case migrates a fresh schema, put first on
 * the search_path through the URL, with tenants A and B and their users. */
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
#include "log.h"
#include "migrate.h"

#define A "018f0000-0000-7000-8000-00000000000a"
#define B "018f0000-0000-7000-8000-00000000000b"

typedef struct fixture {
    db_t *db;
    char url[1024];
    char schema[64];
} fixture_t;

static int g_case;

static const char *k_insert_user = "INSERT INTO users (tenant_id, id, email) VALUES ($1, $2, $3)";

static void add_user(db_t *db, const char *tenant, const char *id, const char *email)
{
    assert_int_equal(db_begin(db, tenant, true), 0);
    assert_int_equal(
        db_exec(db, NULL, k_insert_user, DB_ARGS(DB_TEXT(tenant), DB_TEXT(id), DB_TEXT(email))), 0);
    assert_int_equal(db_commit(db), 0);
}

static int setup(void **state)
{
    fixture_t *f = calloc(1, sizeof *f);
    *state = f;
    const char *base = getenv("BIZOSAAS_TEST_PG_URL");
    if (!base || !*base) return 0;
    char err[512], sql[160];
    char *url = f->url;
    snprintf(f->schema, sizeof f->schema, "bz_test_rls_%d_%d", (int)getpid(), ++g_case);
    db_t *db;
    assert_int_equal(db_open(base, NULL, &db, err, sizeof err), 0);
    snprintf(sql, sizeof sql, "CREATE SCHEMA %s", f->schema);
    assert_int_equal(db_exec(db, NULL, sql, DB_NOARGS), 0);
    db_close(db);
    int n = snprintf(url, sizeof f->url, "%s%coptions=-csearch_path%%3D%s", base,
                     strchr(base, '?') ? '&' : '?', f->schema);
    assert_true(n > 0 && (size_t)n < sizeof f->url);
    if (db_open(url, NULL, &f->db, err, sizeof err) != 0) fail_msg("db_open: %s", err);
    db = f->db;
    log_set_level(LOG_WARN);
    assert_true(migrate_apply(db) > 0);
    log_set_level(LOG_INFO);

    /* Creating tenants is a platform operation. */
    assert_int_equal(db_begin_platform(db, true), 0);
    const char *tins = "INSERT INTO tenants (id, name, slug) VALUES ($1, $2, $3)";
    assert_int_equal(
        db_exec(db, NULL, tins, DB_ARGS(DB_TEXT(A), DB_TEXT("Tenant A"), DB_TEXT("a"))), 0);
    assert_int_equal(
        db_exec(db, NULL, tins, DB_ARGS(DB_TEXT(B), DB_TEXT("Tenant B"), DB_TEXT("b"))), 0);
    assert_int_equal(db_commit(db), 0);
    add_user(db, A, "ua1", "a1@example.com");
    add_user(db, A, "ua2", "a2@example.com");
    add_user(db, B, "ub1", "b1@example.com");
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    if (f->db) {
        char sql[160];
        snprintf(sql, sizeof sql, "DROP SCHEMA %s CASCADE", f->schema);
        db_rollback(f->db);
        assert_int_equal(db_exec(f->db, NULL, sql, DB_NOARGS), 0);
        db_close(f->db);
    }
    free(f);
    return 0;
}

static db_t *get(void **state)
{
    fixture_t *f = *state;
    if (!f->db) skip();
    return f->db;
}

/* visible: the rows of an unfiltered "SELECT <col> FROM <table>", joined
 * with ',' in order ("" when none). The caller frees the string. */
static char *visible(db_t *db, const char *sql)
{
    db_res_t *r;
    int rc = db_query(db, &r, sql, DB_NOARGS);
    if (rc != 0) fail_msg("query failed (%d): %s", rc, db_errmsg(db));
    char *out = calloc(1, 1024);
    while ((rc = db_res_next(r)) == 1) {
        if (*out) strcat(out, ",");
        strncat(out, db_res_text(r, 0), 1000 - strlen(out));
    }
    assert_int_equal(rc, 0);
    db_res_free(r);
    return out;
}

static void expect_visible(db_t *db, const char *sql, const char *want)
{
    char *got = visible(db, sql);
    assert_string_equal(got, want);
    free(got);
}

#define USERS "SELECT tenant_id || '/' || id FROM users ORDER BY tenant_id, id"
#define TENANTS "SELECT slug FROM tenants ORDER BY slug"

static void test_tenant_sees_only_its_rows(void **state)
{
    db_t *db = get(state);
    assert_int_equal(db_begin(db, A, false), 0);
    expect_visible(db, USERS, A "/ua1," A "/ua2");
    expect_visible(db, TENANTS, "a");
    /* Even an explicit filter on the other tenant finds nothing. */
    int64_t n = -1;
    assert_int_equal(db_query_one_int(db, &n, "SELECT count(*) FROM users WHERE tenant_id = $1",
                                      DB_ARGS(DB_TEXT(B))),
                     0);
    assert_int_equal(n, 0);
    assert_int_equal(db_commit(db), 0);

    assert_int_equal(db_begin(db, B, false), 0);
    expect_visible(db, USERS, B "/ub1");
    assert_int_equal(db_commit(db), 0);

    assert_int_equal(db_begin_platform(db, false), 0);
    expect_visible(db, USERS, A "/ua1," A "/ua2," B "/ub1");
    expect_visible(db, TENANTS, "a,b");
    assert_int_equal(db_commit(db), 0);
}

static void test_no_tenant_sees_nothing(void **state)
{
    db_t *db = get(state);
    /* A fresh session that never set the tenant: the setting is NULL. */
    db_t *fresh;
    char err[256];
    assert_int_equal(db_open(((fixture_t *)*state)->url, NULL, &fresh, err, sizeof err), 0);
    expect_visible(fresh, USERS, "");
    expect_visible(fresh, TENANTS, "");
    db_close(fresh);
    /* This one has had tenants set before: the setting now reads ''. */
    expect_visible(db, USERS, "");
    assert_int_equal(db_begin(db, NULL, false), 0);
    expect_visible(db, USERS, "");
    expect_visible(db, TENANTS, "");
    expect_visible(db, "SELECT id FROM outbox", "");
    expect_visible(db, "SELECT key FROM idempotency_keys", "");
    assert_int_equal(db_commit(db), 0);
}

static void test_reused_connection_forgets_tenant(void **state)
{
    db_t *db = get(state);
    assert_int_equal(db_begin(db, A, false), 0);
    expect_visible(db, USERS, A "/ua1," A "/ua2");
    assert_int_equal(db_commit(db), 0);
    /* The setting was transaction-local: now it reads as '' — no rows. */
    expect_visible(db, USERS, "");
    assert_int_equal(db_begin(db, NULL, false), 0);
    expect_visible(db, USERS, "");
    assert_int_equal(db_commit(db), 0);

    /* Platform scope does not linger either. */
    assert_int_equal(db_begin_platform(db, false), 0);
    assert_int_equal(db_commit(db), 0);
    assert_int_equal(db_begin(db, B, false), 0);
    expect_visible(db, USERS, B "/ub1");
    assert_int_equal(db_rollback(db), 0);
    expect_visible(db, TENANTS, "");
}

static void test_writes_are_checked(void **state)
{
    db_t *db = get(state);
    /* Inserting a row for B inside A's transaction violates WITH CHECK —
     * and says nothing about whether B's row exists (ub1 does). */
    const char *ids[] = {"ub1", "new"};
    for (int i = 0; i < 2; i++) {
        assert_int_equal(db_begin(db, A, true), 0);
        int rc = db_exec(db, NULL, k_insert_user,
                         DB_ARGS(DB_TEXT(B), DB_TEXT(ids[i]), DB_TEXT("x@example.com")));
        assert_int_equal(rc, ERR_DB);
        assert_non_null(strstr(db_errmsg(db), "row-level security"));
        assert_int_equal(db_rollback(db), 0);
    }

    /* Moving A's row to B is refused too. */
    assert_int_equal(db_begin(db, A, true), 0);
    assert_int_equal(
        db_exec(db, NULL, "UPDATE users SET tenant_id = $1 WHERE id = 'ua1'", DB_ARGS(DB_TEXT(B))),
        ERR_DB);
    assert_int_equal(db_rollback(db), 0);

    /* Unfiltered UPDATE/DELETE in A's transaction touch only A's rows. */
    assert_int_equal(db_begin(db, A, true), 0);
    int64_t affected = -1;
    assert_int_equal(
        db_exec(db, &affected, "UPDATE users SET verified = $1", DB_ARGS(DB_BOOL(true))), 0);
    assert_int_equal(affected, 2);
    assert_int_equal(db_exec(db, &affected, "DELETE FROM users WHERE id = 'ub1'", DB_NOARGS), 0);
    assert_int_equal(affected, 0);
    assert_int_equal(db_commit(db), 0);
    assert_int_equal(db_begin_platform(db, false), 0);
    expect_visible(db, "SELECT id FROM users WHERE verified ORDER BY id", "ua1,ua2");
    expect_visible(db, "SELECT id FROM users WHERE id = 'ub1'", "ub1");
    assert_int_equal(db_commit(db), 0);

    /* Without a tenant nothing can be written. */
    assert_int_equal(db_begin(db, NULL, true), 0);
    assert_int_equal(db_exec(db, NULL, k_insert_user,
                             DB_ARGS(DB_TEXT(A), DB_TEXT("u9"), DB_TEXT("z@example.com"))),
                     ERR_DB);
    assert_int_equal(db_rollback(db), 0);

    /* An empty tenant id is refused even in platform scope. */
    assert_int_equal(db_begin_platform(db, true), 0);
    assert_int_equal(
        db_exec(db, NULL, "INSERT INTO tenants (id, name, slug) VALUES ('', 'x', 'x')", DB_NOARGS),
        ERR_DB);
    assert_int_equal(db_rollback(db), 0);
}

static void test_unique_is_per_tenant(void **state)
{
    db_t *db = get(state);
    /* B may use an email A already has, and the same user id. */
    add_user(db, B, "ua1", "a1@example.com");
    /* Within A the email is taken: the conflict is A's own. */
    assert_int_equal(db_begin(db, A, true), 0);
    assert_int_equal(db_exec(db, NULL, k_insert_user,
                             DB_ARGS(DB_TEXT(A), DB_TEXT("ua9"), DB_TEXT("a1@example.com"))),
                     ERR_EXISTS);
    assert_int_equal(db_rollback(db), 0);
    /* b1@example.com exists only in B: A can take it without a conflict. */
    add_user(db, A, "ua3", "b1@example.com");
    assert_int_equal(db_begin(db, A, false), 0);
    expect_visible(db, "SELECT email FROM users ORDER BY email",
                   "a1@example.com,a2@example.com,b1@example.com");
    assert_int_equal(db_commit(db), 0);
}

/* Every table with a tenant_id column (and tenants itself), from every
 * migration, is ENABLEd and FORCEd with a policy; views run as the invoker. */
static void test_every_tenant_table_protected(void **state)
{
    db_t *db = get(state);
    expect_visible(db,
                   "SELECT c.relname FROM pg_class c "
                   "WHERE c.relnamespace = to_regnamespace(current_schema()) AND c.relkind = 'r' "
                   "AND (c.relname = 'tenants' OR EXISTS (SELECT 1 FROM pg_attribute a "
                   "WHERE a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped)) "
                   "AND NOT (c.relrowsecurity AND c.relforcerowsecurity "
                   "AND EXISTS (SELECT 1 FROM pg_policy p WHERE p.polrelid = c.oid)) "
                   "ORDER BY 1",
                   "");
    expect_visible(db,
                   "SELECT c.relname FROM pg_class c "
                   "WHERE c.relnamespace = to_regnamespace(current_schema()) AND c.relkind = 'v' "
                   "AND NOT coalesce('security_invoker=true' = ANY (c.reloptions), false) "
                   "ORDER BY 1",
                   "");
    /* The check itself sees the tables it guards. */
    int64_t n = 0;
    assert_int_equal(db_query_one_int(db, &n,
                                      "SELECT count(*) FROM pg_class WHERE relnamespace = "
                                      "to_regnamespace(current_schema()) AND relkind = 'r' AND "
                                      "relforcerowsecurity",
                                      DB_NOARGS),
                     0);
    assert_true(n >= 4);
}

static void test_check_role(void **state)
{
    db_t *db = get(state);
    char err[1024] = "x";
    assert_int_equal(db_check_role(db, err, sizeof err), 0);
    assert_string_equal(err, "");

    const char *admin_url = getenv("BIZOSAAS_TEST_PG_ADMIN_URL");
    if (!admin_url || !*admin_url) skip();
    db_t *admin;
    assert_int_equal(db_open(admin_url, NULL, &admin, err, sizeof err), 0);
    assert_int_equal(db_check_role(admin, err, sizeof err), ERR_CONFIG);
    assert_non_null(strstr(err, "superuser"));
    assert_non_null(strstr(err, "NOSUPERUSER NOBYPASSRLS"));
    assert_string_equal(db_errmsg(admin), err);
    db_close(admin);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_tenant_sees_only_its_rows, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_tenant_sees_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reused_connection_forgets_tenant, setup, teardown),
        cmocka_unit_test_setup_teardown(test_writes_are_checked, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unique_is_per_tenant, setup, teardown),
        cmocka_unit_test_setup_teardown(test_every_tenant_table_protected, setup, teardown),
        cmocka_unit_test_setup_teardown(test_check_role, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
