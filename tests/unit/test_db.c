/* test_db.c — the storage API (src/store/db.h) on both backends.
 *
 * Every case runs on SQLite (a fresh temp file per case) and, when
 * BIZOSAAS_TEST_PG_URL is set, on PostgreSQL (a fresh schema per case, put
 * first on the search_path through the URL so it survives reconnects);
 * otherwise the PostgreSQL variants call skip(). The reconnect case also
 * needs BIZOSAAS_TEST_PG_ADMIN_URL (a superuser, to kill the backend). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "db.h"
#include "db_internal.h"
#include "err.h"
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
    /* "sub/": a missing parent directory is created by db_open */
    if (!testdb_prepare(&f->t, f->backend == DB_POSTGRES, "db", "sub/test.db")) return 0;
    f->db = testdb_open(&f->t);
    assert_int_equal(
        db_exec(f->db, NULL,
                "CREATE TABLE items (id TEXT PRIMARY KEY, n BIGINT, flag BOOLEAN, note TEXT)",
                DB_NOARGS),
        0);
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

static void insert_item(db_t *db, const char *id, int64_t n)
{
    assert_int_equal(db_exec(db, NULL, "INSERT INTO items (id, n) VALUES ($1, $2)",
                             DB_ARGS(DB_TEXT(id), DB_INT(n))),
                     0);
}

static int64_t count_items(db_t *db)
{
    int64_t n = -1;
    assert_int_equal(db_query_one_int(db, &n, "SELECT count(*) FROM items", DB_NOARGS), 0);
    return n;
}

/* ---- cases -------------------------------------------------------------- */

static void test_params(void **state)
{
    fixture_t *f = get(state);
    db_t *db = f->db;
    /* $2 before $1, a NULL, a bool. */
    int64_t affected = -1;
    assert_int_equal(db_exec(db, &affected,
                             "INSERT INTO items (id, n, note, flag) VALUES ($2, $1, $3, $4)",
                             DB_ARGS(DB_INT(42), DB_TEXT("a"), DB_NULL, DB_BOOL(true))),
                     0);
    assert_int_equal(affected, 1);
    db_res_t *r;
    assert_int_equal(db_query(db, &r, "SELECT n, note, id, flag FROM items WHERE id = $1",
                              DB_ARGS(DB_TEXT("a"))),
                     0);
    assert_int_equal(db_res_next(r), 1);
    assert_int_equal(db_res_int(r, 0), 42);
    assert_true(db_res_isnull(r, 1));
    assert_null(db_res_text(r, 1));
    assert_string_equal(db_res_text(r, 2), "a");
    assert_int_equal(db_res_len(r, 2), 1);
    assert_int_equal(db_res_int(r, 3), 1);
    assert_false(db_res_isnull(r, 3));
    assert_int_equal(db_res_next(r), 0);
    db_res_free(r);

    /* int64 extremes survive the round trip. */
    const int64_t vals[] = {INT64_MAX, INT64_MIN, -1, (int64_t)1 << 40, 0};
    for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++) {
        char id[16];
        snprintf(id, sizeof id, "i%zu", i);
        const char *idp = id;
        assert_int_equal(db_exec(db, NULL, "INSERT INTO items (id, n, flag) VALUES ($1, $2, $3)",
                                 DB_ARGS(DB_TEXT(idp), DB_INT(vals[i]), DB_BOOL(false))),
                         0);
        int64_t got = 7;
        assert_int_equal(
            db_query_one_int(db, &got, "SELECT n FROM items WHERE id = $1", DB_ARGS(DB_TEXT(idp))),
            0);
        assert_true(got == vals[i]);
        assert_int_equal(db_query_one_int(db, &got, "SELECT flag FROM items WHERE id = $1",
                                          DB_ARGS(DB_TEXT(idp))),
                         0);
        assert_int_equal(got, 0);
    }

    /* A placeholder used twice, and "$1" inside a string literal left alone. */
    assert_int_equal(db_query(db, &r,
                              "SELECT '$1 stays', CAST($1 AS TEXT) || '-' || CAST($1 AS TEXT)",
                              DB_ARGS(DB_TEXT("x"))),
                     0);
    assert_int_equal(db_res_next(r), 1);
    assert_string_equal(db_res_text(r, 0), "$1 stays");
    assert_string_equal(db_res_text(r, 1), "x-x");
    db_res_free(r);

    /* A length-bounded text view is bound by its length only. */
    const char *word = "abcdef";
    char *s = NULL;
    assert_int_equal(
        db_query_one_text(db, &s, "SELECT CAST($1 AS TEXT)", DB_ARGS(DB_TEXTN(word, 3))), 0);
    assert_string_equal(s, "abc");
    free(s);

    /* DB_TEXT(NULL) binds SQL NULL. */
    const char *none = NULL;
    assert_int_equal(db_query(db, &r, "SELECT CAST($1 AS TEXT) IS NULL", DB_ARGS(DB_TEXT(none))),
                     0);
    assert_int_equal(db_res_next(r), 1);
    assert_int_equal(db_res_int(r, 0), 1);
    db_res_free(r);

    /* Too few parameters is an error, not a silent NULL. */
    assert_true(
        db_query(db, &r, "SELECT CAST($1 AS TEXT), CAST($2 AS TEXT)", DB_ARGS(DB_TEXT("x"))) < 0);
    assert_null(r);
    assert_true(strlen(db_errmsg(db)) > 0);
}

static void test_unique_violation(void **state)
{
    db_t *db = get(state)->db;
    insert_item(db, "dup", 1);
    assert_int_equal(db_exec(db, NULL, "INSERT INTO items (id, n) VALUES ($1, $2)",
                             DB_ARGS(DB_TEXT("dup"), DB_INT(2))),
                     ERR_EXISTS);
    /* Outside a transaction the connection carries on. */
    assert_int_equal(count_items(db), 1);

    /* Inside one, the failure dooms the transaction on both backends. */
    assert_int_equal(db_begin(db, "t1", true), 0);
    insert_item(db, "x", 1);
    db_res_t *r;
    assert_int_equal(db_query(db, &r, "INSERT INTO items (id, n) VALUES ($1, 2) RETURNING id",
                              DB_ARGS(DB_TEXT("dup"))),
                     ERR_EXISTS);
    assert_true(db_in_tx(db));
    int64_t n;
    assert_int_equal(db_query_one_int(db, &n, "SELECT count(*) FROM items", DB_NOARGS), ERR_DB);
    assert_int_equal(db_commit(db), ERR_DB);
    assert_false(db_in_tx(db));
    assert_int_equal(count_items(db), 1); /* "x" was rolled back */
}

static void test_transactions(void **state)
{
    db_t *db = get(state)->db;
    assert_false(db_in_tx(db));
    assert_int_equal(db_rollback(db), 0); /* no transaction: a no-op */

    assert_int_equal(db_begin(db, "t1", true), 0);
    assert_true(db_in_tx(db));
    assert_true(db_begin(db, "t1", true) < 0); /* no nesting */
    insert_item(db, "r", 1);
    assert_int_equal(count_items(db), 1);
    assert_int_equal(db_rollback(db), 0);
    assert_false(db_in_tx(db));
    assert_int_equal(count_items(db), 0);

    assert_int_equal(db_begin_platform(db, true), 0);
    insert_item(db, "c", 1);
    assert_int_equal(db_commit(db), 0);
    assert_false(db_in_tx(db));
    assert_int_equal(count_items(db), 1);

    assert_int_equal(db_begin(db, NULL, false), 0); /* read transaction, no tenant */
    assert_int_equal(count_items(db), 1);
    assert_int_equal(db_commit(db), 0);
    assert_true(db_commit(db) < 0); /* nothing to commit */
}

static void test_results(void **state)
{
    db_t *db = get(state)->db;
    for (int i = 0; i < 5; i++) {
        char id[16];
        snprintf(id, sizeof id, "r%d", i);
        insert_item(db, id, i * 10);
    }
    const char *sql = "SELECT id, n FROM items ORDER BY n";
    db_res_t *r;
    assert_int_equal(db_query(db, &r, sql, DB_NOARGS), 0);
    assert_int_equal(db_res_ncols(r), 2);
    assert_string_equal(db_res_colname(r, 0), "id");
    assert_string_equal(db_res_colname(r, 1), "n");
    int rows = 0;
    while (db_res_next(r) == 1) {
        char want[16];
        snprintf(want, sizeof want, "r%d", rows);
        assert_string_equal(db_res_text(r, 0), want);
        assert_int_equal(db_res_int(r, 1), rows * 10);
        if (rows == 1) {
            /* The same SQL again while this result is open (nested loop). */
            db_res_t *r2;
            assert_int_equal(db_query(db, &r2, sql, DB_NOARGS), 0);
            int inner = 0;
            while (db_res_next(r2) == 1)
                inner++;
            assert_int_equal(inner, 5);
            db_res_free(r2);
        }
        rows++;
    }
    assert_int_equal(rows, 5);
    assert_int_equal(db_res_next(r), 0); /* stays at the end */
    db_res_free(r);

    /* An empty result still needs freeing and yields no row. */
    assert_int_equal(db_query(db, &r, "SELECT id FROM items WHERE n < $1", DB_ARGS(DB_INT(-1))), 0);
    assert_int_equal(db_res_next(r), 0);
    db_res_free(r);

    /* More distinct statements than the SQLite statement cache holds, then
     * the first ones again: eviction must not change results. */
    for (int round = 0; round < 2; round++) {
        for (int k = 0; k < 100; k++) {
            char q[96];
            snprintf(q, sizeof q, "SELECT n + %d FROM items WHERE id = $1", k);
            const char *qp = q;
            int64_t v = -1;
            assert_int_equal(db_query_one_int(db, &v, qp, DB_ARGS(DB_TEXT("r3"))), 0);
            assert_int_equal(v, 30 + k);
        }
    }

    int64_t affected = -1;
    assert_int_equal(db_exec(db, &affected, "UPDATE items SET note = $1", DB_ARGS(DB_TEXT("all"))),
                     0);
    assert_int_equal(affected, 5);
    assert_int_equal(db_exec(db, &affected, "CREATE TABLE other (x TEXT)", DB_NOARGS), 0);
    assert_int_equal(affected, 0);
}

static void test_query_one(void **state)
{
    db_t *db = get(state)->db;
    insert_item(db, "one", 7);
    char *s = (char *)"junk";
    assert_int_equal(
        db_query_one_text(db, &s, "SELECT id FROM items WHERE n = $1", DB_ARGS(DB_INT(7))), 0);
    assert_string_equal(s, "one");
    free(s);
    assert_int_equal(
        db_query_one_text(db, &s, "SELECT id FROM items WHERE n = $1", DB_ARGS(DB_INT(8))),
        ERR_NOT_FOUND);
    assert_null(s);
    int64_t v = 5;
    assert_int_equal(
        db_query_one_int(db, &v, "SELECT note FROM items WHERE id = $1", DB_ARGS(DB_TEXT("one"))),
        ERR_NOT_FOUND);
    assert_int_equal(v, 0);
}

static void test_statements_and_scripts(void **state)
{
    db_t *db = get(state)->db;
    /* One statement per db_exec: parameters and several statements do not mix. */
    assert_true(db_exec(db, NULL,
                        "INSERT INTO items (id) VALUES ('a'); INSERT INTO items (id) VALUES ('b')",
                        DB_NOARGS) < 0);
    assert_int_equal(db_exec_script(db, "CREATE TABLE s1 (x TEXT); INSERT INTO s1 VALUES ('q'); "
                                        "INSERT INTO s1 VALUES ('r');"),
                     0);
    int64_t n;
    assert_int_equal(db_query_one_int(db, &n, "SELECT count(*) FROM s1", DB_NOARGS), 0);
    assert_int_equal(n, 2);
    assert_true(db_exec_script(db, "INSERT INTO s1 VALUES ('z'); SELECT * FROM no_such_table;") <
                0);
    assert_true(strstr(db_errmsg(db), "no_such_table") != NULL);
    assert_true(db_exec(db, NULL, "SELEKT 1", DB_NOARGS) < 0);
    assert_int_equal(db_ping(db), 0);
    /* The fixture connects as an ordinary role (BIZOSAAS_TEST_PG_URL). */
    char err[64] = "x";
    assert_int_equal(db_check_role(db, err, sizeof err), 0);
    assert_string_equal(err, "");
}

static void test_sqlite_specifics(void **state)
{
    fixture_t *f = get(state);
    if (f->backend != DB_SQLITE) skip();
    /* The parent directory was created private. */
    char p[160];
    snprintf(p, sizeof p, "%s/sub", f->t.dir);
    struct stat st;
    assert_int_equal(stat(p, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0700);

    /* WAL mode and foreign keys are on. */
    char *mode = NULL;
    assert_int_equal(db_query_one_text(f->db, &mode, "PRAGMA journal_mode", DB_NOARGS), 0);
    assert_string_equal(mode, "wal");
    free(mode);
    int64_t fk = 0;
    assert_int_equal(db_query_one_int(f->db, &fk, "PRAGMA foreign_keys", DB_NOARGS), 0);
    assert_int_equal(fk, 1);

    /* A second writer waits out the busy timeout, then gets ERR_CONFLICT. */
    db_t *other;
    char err[256];
    assert_int_equal(
        db_open(f->t.url, &(db_options_t){.connect_timeout_ms = 50}, &other, err, sizeof err), 0);
    assert_int_equal(db_begin(f->db, NULL, true), 0);
    assert_int_equal(db_begin(other, NULL, true), ERR_CONFLICT);
    assert_false(db_in_tx(other));
    assert_int_equal(db_rollback(f->db), 0);
    assert_int_equal(db_begin(other, NULL, true), 0);
    assert_int_equal(db_commit(other), 0);
    db_close(other);

    /* In-memory databases work too. */
    db_t *mem;
    assert_int_equal(db_open("sqlite::memory:", NULL, &mem, err, sizeof err), 0);
    assert_int_equal(db_backend(mem), DB_SQLITE);
    assert_int_equal(db_ping(mem), 0);
    db_close(mem);
}

static void test_reconnect(void **state)
{
    fixture_t *f = get(state);
    if (f->backend != DB_POSTGRES) skip();
    const char *admin_url = getenv("BIZOSAAS_TEST_PG_ADMIN_URL");
    if (!admin_url || !*admin_url) skip();
    db_t *admin;
    char err[512];
    assert_int_equal(db_open(admin_url, testdb_options(), &admin, err, sizeof err), 0);
    db_t *db = f->db;
    insert_item(db, "k", 1);

    for (int round = 0; round < 3; round++) {
        int64_t pid = 0, killed = 0;
        assert_int_equal(db_query_one_int(db, &pid, "SELECT pg_backend_pid()", DB_NOARGS), 0);
        if (round == 2) assert_int_equal(db_begin(db, "t1", true), 0);
        /* The two-argument form waits until the backend has exited. */
        assert_int_equal(db_query_one_int(admin, &killed,
                                          "SELECT pg_terminate_backend(CAST($1 AS INTEGER), 5000)",
                                          DB_ARGS(DB_INT(pid))),
                         0);
        assert_int_equal(killed, 1);
        if (round == 0) {
            assert_int_equal(db_ping(db), 0);
        } else if (round == 1) {
            /* BEGIN is safe to retry: the broken connection is replaced. */
            assert_int_equal(db_begin(db, "t1", false), 0);
            assert_int_equal(count_items(db), 1); /* search_path survived */
            assert_int_equal(db_commit(db), 0);
        } else {
            /* Mid-transaction the loss is reported, and the next begin heals. */
            int64_t n;
            assert_int_equal(db_query_one_int(db, &n, "SELECT count(*) FROM items", DB_NOARGS),
                             ERR_DB_UNAVAILABLE);
            assert_false(db_in_tx(db));
            assert_int_equal(db_commit(db), ERR_DB_UNAVAILABLE);
            assert_int_equal(db_rollback(db), 0);
            assert_int_equal(db_begin(db, "t1", false), 0);
            assert_int_equal(db_commit(db), 0);
        }
        int64_t pid2 = 0;
        assert_int_equal(db_query_one_int(db, &pid2, "SELECT pg_backend_pid()", DB_NOARGS), 0);
        assert_true(pid2 != pid);
    }
    db_close(admin);
}

static void test_pg_times(void **state)
{
    fixture_t *f = get(state);
    if (f->backend != DB_POSTGRES) skip();
    static const struct {
        const char *in, *out;
    } cases[] = {
        {"2026-01-02T03:04:05.678Z", "2026-01-02T03:04:05.678Z"},
        {"2026-01-02T03:04:05.678999Z", "2026-01-02T03:04:05.678Z"}, /* truncated to ms */
        {"2026-01-02 03:04:05+02", "2026-01-02T01:04:05.000Z"},      /* converted to UTC */
        {"2026-01-02T03:04:05.5Z", "2026-01-02T03:04:05.500Z"},
        {"infinity", "infinity"}, /* left alone */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        db_res_t *r;
        assert_int_equal(db_query(f->db, &r,
                                  "SELECT CAST($1 AS timestamptz), CAST($1 AS timestamptz) = $2",
                                  DB_ARGS(DB_TEXT(cases[i].in), DB_TEXT(cases[i].in))),
                         0);
        assert_int_equal(db_res_next(r), 1);
        assert_string_equal(db_res_text(r, 0), cases[i].out);
        assert_int_equal(db_res_len(r, 0), strlen(cases[i].out));
        assert_int_equal(db_res_int(r, 1), 1); /* only the text form changed */
        db_res_free(r);
    }
}

/* ---- URLs and messages (no server needed) --------------------------------- */

static void test_urls(void **state)
{
    (void)state;
    assert_int_equal(db_url_backend("sqlite:./data/x.db"), DB_SQLITE);
    assert_int_equal(db_url_backend("sqlite::memory:"), DB_SQLITE);
    assert_int_equal(db_url_backend("postgres://h/db"), DB_POSTGRES);
    assert_int_equal(db_url_backend("postgresql://h/db"), DB_POSTGRES);
    assert_int_equal(db_url_backend("mysql://h/db"), 0);
    assert_int_equal(db_url_backend(NULL), 0);

    char out[256];
    db__mask_url("postgres://app:s3cret@db:5432/x?sslmode=require&password=other1", out,
                 sizeof out);
    assert_string_equal(out, "postgres://app:***@db:5432/x?sslmode=require&password=***");
    db__mask_url("postgres://app@db/x", out, sizeof out);
    assert_string_equal(out, "postgres://app@db/x");
    db__mask_url("postgres://app:p@ss/w@db/x", out, sizeof out);
    assert_string_equal(out, "postgres://app:***@db/x");

    db_t *db = (db_t *)1;
    char err[512];
    assert_int_equal(db_open("mysql://root:hunter22@h/db", NULL, &db, err, sizeof err), ERR_CONFIG);
    assert_null(db);
    assert_null(strstr(err, "hunter22"));
    assert_non_null(strstr(err, "mysql://root:***@h/db"));

    assert_int_equal(db_open("sqlite:", NULL, &db, err, sizeof err), ERR_CONFIG);

    /* Nothing listens on port 1: the connection is refused at once. */
    assert_int_equal(db_open("postgres://app:s3cretpw@127.0.0.1:1/x", NULL, &db, err, sizeof err),
                     ERR_DB_UNAVAILABLE);
    assert_null(db);
    assert_null(strstr(err, "s3cretpw"));
    assert_non_null(strstr(err, "app:***@127.0.0.1:1/x"));
    assert_int_equal(
        db_open("postgresql://127.0.0.1:1/x?password=s3cretpw", NULL, &db, err, sizeof err),
        ERR_DB_UNAVAILABLE);
    assert_null(strstr(err, "s3cretpw"));
    assert_int_equal(
        db_open("postgres://app:s3cretpw@127.0.0.1:1/x?bogus_option=1", NULL, &db, err, sizeof err),
        ERR_CONFIG);
    assert_null(strstr(err, "s3cretpw"));

    char msg[] = "failed for s3cretpw at s3cretpw.";
    db__scrub(msg, "s3cretpw");
    assert_string_equal(msg, "failed for *** at ***.");
}

/* Each case twice, named by backend. */
// clang-format off
#define BOTH(fn) \
    {#fn "/sqlite", fn, setup, teardown, &k_sqlite}, \
    {#fn "/postgres", fn, setup, teardown, &k_postgres}
// clang-format on

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_urls),
        BOTH(test_params),
        BOTH(test_unique_violation),
        BOTH(test_transactions),
        BOTH(test_results),
        BOTH(test_query_one),
        BOTH(test_statements_and_scripts),
        BOTH(test_sqlite_specifics),
        BOTH(test_reconnect),
        BOTH(test_pg_times),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
