/* test_migrate.c — embedded migrations: apply, idempotence, status, a
 * failing migration rolled back, concurrent migrators, and the two
 * backends' schemas kept in step.
 *
 * Cases run on SQLite (a fresh temp file) and, when BIZOSAAS_TEST_PG_URL is
 * set, on PostgreSQL (a fresh schema on the search_path); otherwise the
 * PostgreSQL variants call skip(). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "db.h"
#include "db_internal.h"
#include "err.h"
#include "log.h"
#include "migrate.h"
#include "testdb.h"

typedef struct fixture {
    db_backend_t backend;
    db_t *db;
    testdb_t t;
} fixture_t;

static db_backend_t k_sqlite = DB_SQLITE;
static db_backend_t k_postgres = DB_POSTGRES;

static int setup(void **state)
{
    fixture_t *f = calloc(1, sizeof *f);
    f->backend = *(db_backend_t *)*state;
    *state = f;
    if (testdb_prepare(&f->t, f->backend == DB_POSTGRES, "migrate", "m.db"))
        f->db = testdb_open(&f->t);
    return 0;
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

static bool table_exists(db_t *db, const char *name)
{
    const char *sql = db_backend(db) == DB_POSTGRES
                          ? "SELECT count(*) FROM information_schema.tables WHERE table_schema = "
                            "current_schema() "
                            "AND table_name = $1"
                          : "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = $1";
    int64_t n = -1;
    assert_int_equal(db_query_one_int(db, &n, sql, DB_ARGS(DB_TEXT(name))), 0);
    return n == 1;
}

/* ---- cases -------------------------------------------------------------- */

static void test_embedded_lists_match(void **state)
{
    (void)state;
    size_t ns, np;
    const migration_t *s = migrate_list(DB_SQLITE, &ns);
    const migration_t *p = migrate_list(DB_POSTGRES, &np);
    assert_true(ns >= 2);
    assert_int_equal(ns, np);
    for (size_t i = 0; i < ns; i++) {
        assert_int_equal(s[i].version, (int)i + 1); /* numbered 1..n without gaps */
        assert_int_equal(s[i].version, p[i].version);
        assert_string_equal(s[i].name, p[i].name);
        assert_true(strlen(s[i].sql) > 0 && strlen(p[i].sql) > 0);
    }
    assert_string_equal(s[0].name, "0001_init");
    assert_string_equal(s[1].name, "0002_idempotency");
}

static void test_apply_fresh_and_again(void **state)
{
    db_t *db = get(state)->db;
    size_t n;
    migrate_list(db_backend(db), &n);
    assert_int_equal(migrate_pending(db), (int)n);
    assert_false(table_exists(db, "schema_migrations")); /* pending does not create it */

    assert_int_equal(migrate_apply(db), (int)n);
    assert_int_equal(migrate_pending(db), 0);
    const char *tables[] = {"schema_migrations", "tenants", "users", "outbox", "idempotency_keys"};
    for (size_t i = 0; i < sizeof tables / sizeof tables[0]; i++)
        assert_true(table_exists(db, tables[i]));
    assert_false(db_in_tx(db));

    /* Idempotent: nothing left to apply. */
    assert_int_equal(migrate_apply(db), 0);
    int64_t rows = 0;
    assert_int_equal(
        db_query_one_int(db, &rows, "SELECT count(*) FROM schema_migrations", DB_NOARGS), 0);
    assert_int_equal(rows, (int64_t)n);

    /* Status: one line per migration, applied with an RFC 3339 UTC time. */
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    assert_int_equal(migrate_status(db, out), 0);
    fclose(out);
    const char *line = text;
    for (size_t i = 0; i < n; i++) {
        int version = 0;
        char name[64], word[16], at[32];
        assert_int_equal(sscanf(line, "%d %63s %15s %31s", &version, name, word, at), 4);
        assert_int_equal(version, (int)i + 1);
        char prefix[16];
        snprintf(prefix, sizeof prefix, "%04d ", version); /* zero-padded */
        assert_int_equal(strncmp(line, prefix, strlen(prefix)), 0);
        assert_string_equal(word, "applied");
        assert_int_equal(strlen(at), 20);
        assert_int_equal(at[10], 'T');
        assert_int_equal(at[19], 'Z');
        line = strchr(line, '\n');
        assert_non_null(line);
        line++;
    }
    assert_string_equal(line, "");
    free(text);
}

static void test_status_pending(void **state)
{
    db_t *db = get(state)->db;
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    assert_int_equal(migrate_status(db, out), 0);
    fclose(out);
    assert_non_null(strstr(text, "0001 0001_init pending\n"));
    assert_non_null(strstr(text, "0002 0002_idempotency pending\n"));
    free(text);
}

static void test_failure_rolls_back(void **state)
{
    db_t *db = get(state)->db;
    migration_t list[] = {
        {1, "0001_a", "CREATE TABLE fm_a (x TEXT);"},
        {2, "0002_b",
         "CREATE TABLE fm_b (x TEXT); INSERT INTO fm_b VALUES ('kept?'); INSERT INTO no_such "
         "VALUES (1);"},
        {3, "0003_c", "CREATE TABLE fm_c (x TEXT);"},
    };
    log_set_level(LOG_OFF); /* the failure is logged as an error by design */
    int rc = migrate__apply_list(db, list, 3);
    log_set_level(LOG_INFO);
    assert_true(rc < 0);
    assert_false(db_in_tx(db));
    assert_true(table_exists(db, "fm_a"));
    assert_false(table_exists(db, "fm_b")); /* the DDL was rolled back with it */
    assert_false(table_exists(db, "fm_c")); /* later migrations are not attempted */
    int64_t v = 0;
    assert_int_equal(
        db_query_one_int(db, &v, "SELECT max(version) FROM schema_migrations", DB_NOARGS), 0);
    assert_int_equal(v, 1);

    /* Once fixed, the rest applies. */
    list[1].sql = "CREATE TABLE fm_b (x TEXT);";
    assert_int_equal(migrate__apply_list(db, list, 3), 2);
    assert_true(table_exists(db, "fm_b"));
    assert_true(table_exists(db, "fm_c"));
}

typedef struct racer {
    const char *url;
    int result;
} racer_t;

static void *race(void *arg)
{
    racer_t *r = arg;
    db_t *db;
    char err[256];
    r->result = db_open(r->url, NULL, &db, err, sizeof err);
    if (r->result == 0) {
        r->result = migrate_apply(db);
        db_close(db);
    }
    return NULL;
}

static void test_concurrent_migrators(void **state)
{
    fixture_t *f = get(state);
    size_t n;
    migrate_list(f->backend, &n);
    racer_t r[3] = {{f->t.url, -100}, {f->t.url, -100}, {f->t.url, -100}};
    pthread_t t[3];
    log_set_level(LOG_WARN);
    for (int i = 0; i < 3; i++)
        assert_int_equal(pthread_create(&t[i], NULL, race, &r[i]), 0);
    for (int i = 0; i < 3; i++)
        pthread_join(t[i], NULL);
    log_set_level(LOG_INFO);
    /* Every migrator succeeds and each migration is applied exactly once. */
    int total = 0;
    for (int i = 0; i < 3; i++) {
        assert_true(r[i].result >= 0);
        total += r[i].result;
    }
    assert_int_equal(total, (int)n);
    assert_int_equal(migrate_pending(f->db), 0);
}

/* The two backends' migrations define the same tables and columns. */
static void test_schemas_in_step(void **state)
{
    fixture_t *f = get(state);
    if (f->backend != DB_POSTGRES) skip();
    char dir[] = "/tmp/bz_test_migrate_par_XXXXXX";
    assert_non_null(mkdtemp(dir));
    char url[128], err[256];
    snprintf(url, sizeof url, "sqlite:%s/p.db", dir);
    db_t *lite;
    assert_int_equal(db_open(url, NULL, &lite, err, sizeof err), 0);
    log_set_level(LOG_WARN);
    assert_true(migrate_apply(lite) > 0);
    assert_true(migrate_apply(f->db) > 0);
    log_set_level(LOG_INFO);

    /* The same tables... */
    char *lt = NULL, *pt = NULL;
    assert_int_equal(db_query_one_text(lite, &lt,
                                       "SELECT group_concat(name, ',') FROM (SELECT name FROM "
                                       "sqlite_master WHERE type = 'table' AND name <> "
                                       "'sqlite_sequence' ORDER BY name)",
                                       DB_NOARGS),
                     0);
    assert_int_equal(db_query_one_text(f->db, &pt,
                                       "SELECT string_agg(table_name, ',' ORDER BY table_name "
                                       "COLLATE \"C\") FROM information_schema.tables "
                                       "WHERE table_schema = current_schema()",
                                       DB_NOARGS),
                     0);
    assert_string_equal(lt, pt);
    /* ...with the same columns. */
    for (char *save = NULL, *t = strtok_r(lt, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        const char *table = t;
        char *a = NULL, *b = NULL;
        assert_int_equal(db_query_one_text(lite, &a,
                                           "SELECT group_concat(name, ',') FROM "
                                           "(SELECT name FROM pragma_table_info($1) ORDER BY name)",
                                           DB_ARGS(DB_TEXT(table))),
                         0);
        assert_int_equal(
            db_query_one_text(f->db, &b,
                              "SELECT string_agg(column_name, ',' ORDER BY column_name COLLATE "
                              "\"C\") FROM information_schema.columns "
                              "WHERE table_schema = current_schema() AND table_name = $1",
                              DB_ARGS(DB_TEXT(table))),
            0);
        if (strcmp(a, b) != 0) fail_msg("table %s: sqlite has %s, postgres has %s", table, a, b);
        free(a);
        free(b);
    }
    free(lt);
    free(pt);

    /* Times read back alike: an explicit one, and the column defaults. */
    db_t *both[2] = {lite, f->db};
    char *got[2][2] = {{NULL, NULL}, {NULL, NULL}};
    for (int i = 0; i < 2; i++) {
        assert_int_equal(db_begin_platform(both[i], true), 0);
        assert_int_equal(
            db_exec(both[i], NULL,
                    "INSERT INTO tenants (id, name, slug, created_at) VALUES ($1, $2, $3, $4)",
                    DB_ARGS(DB_TEXT("t1"), DB_TEXT("One"), DB_TEXT("one"),
                            DB_TEXT("2026-01-02T03:04:05.678Z"))),
            0);
        db_res_t *r;
        assert_int_equal(db_query(both[i], &r,
                                  "SELECT created_at, updated_at FROM tenants WHERE id = $1",
                                  DB_ARGS(DB_TEXT("t1"))),
                         0);
        assert_int_equal(db_res_next(r), 1);
        got[i][0] = strdup(db_res_text(r, 0));
        got[i][1] = strdup(db_res_text(r, 1));
        db_res_free(r);
        assert_int_equal(db_commit(both[i]), 0);
    }
    for (int i = 0; i < 2; i++) {
        assert_string_equal(got[i][0], "2026-01-02T03:04:05.678Z");
        /* A default: YYYY-MM-DDTHH:MM:SS.mmmZ on both. */
        assert_int_equal(strlen(got[i][1]), 24);
        assert_int_equal(got[i][1][10], 'T');
        assert_int_equal(got[i][1][19], '.');
        assert_int_equal(got[i][1][23], 'Z');
        free(got[i][0]);
        free(got[i][1]);
    }

    db_close(lite);
    static const char *files[] = {"p.db", "p.db-wal", "p.db-shm"};
    for (size_t i = 0; i < 3; i++) {
        char p[96];
        snprintf(p, sizeof p, "%s/%s", dir, files[i]);
        unlink(p);
    }
    rmdir(dir);
}

/* SQLite: the schema's own guards (PostgreSQL's are in test_rls). */
static void test_sqlite_constraints(void **state)
{
    fixture_t *f = get(state);
    if (f->backend != DB_SQLITE) skip();
    db_t *db = f->db;
    log_set_level(LOG_WARN);
    assert_true(migrate_apply(db) > 0);
    log_set_level(LOG_INFO);
    assert_int_equal(db_exec(db, NULL, "INSERT INTO tenants (id, name, slug) VALUES ($1, $2, $3)",
                             DB_ARGS(DB_TEXT("t1"), DB_TEXT("One"), DB_TEXT("one"))),
                     0);
    /* Foreign keys are enforced. */
    assert_true(db_exec(db, NULL, "INSERT INTO users (tenant_id, id, email) VALUES ($1, $2, $3)",
                        DB_ARGS(DB_TEXT("nope"), DB_TEXT("u1"), DB_TEXT("a@x"))) < 0);
    /* Empty tenant ids and unknown statuses are refused. */
    assert_true(
        db_exec(db, NULL,
                "INSERT INTO outbox (tenant_id, id, aggregate_type, aggregate_id, event_type) "
                "VALUES ('', 'e1', 'a', 'b', 'c')",
                DB_NOARGS) < 0);
    assert_true(db_exec(db, NULL, "UPDATE tenants SET status = 'deleted'", DB_NOARGS) < 0);
    /* STRICT tables refuse a value of the wrong type. */
    assert_true(
        db_exec(db, NULL,
                "INSERT INTO idempotency_keys (tenant_id, key, request_hash, state, status, "
                "expires_at) VALUES ('t1', 'k', 'h', 'running', 'abc', 'x')",
                DB_NOARGS) < 0);
    /* Same email in one tenant: ERR_EXISTS. */
    const char *ins = "INSERT INTO users (tenant_id, id, email) VALUES ($1, $2, $3)";
    assert_int_equal(db_exec(db, NULL, ins, DB_ARGS(DB_TEXT("t1"), DB_TEXT("u1"), DB_TEXT("a@x"))),
                     0);
    assert_int_equal(db_exec(db, NULL, ins, DB_ARGS(DB_TEXT("t1"), DB_TEXT("u2"), DB_TEXT("a@x"))),
                     ERR_EXISTS);
    /* Defaults. */
    int64_t active = -1;
    assert_int_equal(
        db_query_one_int(db, &active, "SELECT active FROM users WHERE id = 'u1'", DB_NOARGS), 0);
    assert_int_equal(active, 1);
}

// clang-format off
#define BOTH(fn) \
    {#fn "/sqlite", fn, setup, teardown, &k_sqlite}, \
    {#fn "/postgres", fn, setup, teardown, &k_postgres}
// clang-format on

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_embedded_lists_match),
        BOTH(test_apply_fresh_and_again),
        BOTH(test_status_pending),
        BOTH(test_failure_rolls_back),
        BOTH(test_concurrent_migrators),
        BOTH(test_schemas_in_step),
        BOTH(test_sqlite_constraints),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
