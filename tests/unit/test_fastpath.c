/* test_fastpath.c — the pieces behind cheap authenticated reads:
 * http_json's own serializer gives exactly jansson's bytes; SQLite's
 * data-version fingerprint changes with every commit from any connection
 * and with nothing else; a no-wait reader fails at once on a lock; the
 * PostgreSQL one-round-trip BEGIN sets the tenant (and quotes it). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "http.h"
#include "testdb.h"

/* same_as_jansson: http_json(j) == json_dumps(j, COMPACT | REAL_PRECISION(9)). */
static void same_as_jansson(json_t *j)
{
    char *want = json_dumps(j, JSON_COMPACT | JSON_REAL_PRECISION(9));
    http_res_t res;
    http_res_init(&res);
    http_json(&res, 200, json_incref(j));
    assert_non_null(want);
    assert_string_equal(res.body.p ? res.body.p : "", want);
    free(want);
    http_res_cleanup(&res);
    json_decref(j);
}

static void json_out_matches_jansson(void **state)
{
    (void)state;
    same_as_jansson(json_object());
    same_as_jansson(json_array());
    same_as_jansson(
        json_pack("{s:s, s:i, s:b, s:b, s:n}", "a", "b", "n", -42, "t", 1, "f", 0, "z"));
    same_as_jansson(json_pack("{s:s}", "esc",
                              "quote \" backslash \\ slash / nl \n tab \t "
                              "cr \r bs \b ff \f bell \a esc \x1b del \x7f"));
    same_as_jansson(
        json_pack("{s:s}", "utf8", "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \xe2\x80\xa8"));
    same_as_jansson(json_pack("[f, f, f, f, f, f, f, f, f]", 0.0, 1.0, -2.5, 1e20, 1e-5,
                              123456789.0, 1234567891.0, 3.14159265358979, -0.0));
    same_as_jansson(json_pack("[I, I]", (json_int_t)INT64_MAX, (json_int_t)INT64_MIN));
    same_as_jansson(json_pack("{s:[{s:[]}, {}, [[[]]]], s:{s:{s:{}}}}", "x", "y", "p", "q", "r"));
    /* a key with a NUL inside */
    json_t *o = json_object();
    json_object_setn_new(o, "a\0b", 3, json_string("v"));
    same_as_jansson(o);
    /* a key order that is not sorted stays in insertion order */
    same_as_jansson(json_pack("{s:i, s:i, s:i}", "zeta", 1, "alpha", 2, "mid", 3));
}

static void json_out_deep_and_scalar(void **state)
{
    (void)state;
    /* deeper than our limit: jansson's path, same bytes */
    json_t *deep = json_array();
    for (int i = 0; i < 400; i++)
        deep = json_pack("[o]", deep);
    same_as_jansson(deep);
    /* a scalar at the top: json_dumps gives nothing, so neither do we */
    http_res_t res;
    http_res_init(&res);
    http_json(&res, 200, json_string("x"));
    assert_int_equal(res.body.n, 0);
    http_res_cleanup(&res);
}

static void error_envelope_unchanged(void **state)
{
    (void)state;
    http_res_t res;
    http_res_init(&res);
    res.request_id = "rid-1";
    assert_int_equal(http_error(&res, ERR_NOT_FOUND, "no \"thing\" %d", 7), ERR_NOT_FOUND);
    assert_int_equal(res.status, 404);
    assert_string_equal(res.body.p, "{\"error\":{\"code\":\"not_found\",\"message\":\"no "
                                    "\\\"thing\\\" 7\",\"request_id\":\"rid-1\"}}");
    http_res_cleanup(&res);
}

/* ---- the SQLite data-version fingerprint ---- */

static db_t *open_url(const char *url, bool no_wait)
{
    char err[512];
    db_t *db = NULL;
    db_options_t opt = {.connect_timeout_ms = 2000, .no_wait = no_wait};
    if (db_open(url, &opt, &db, err, sizeof err) != 0) fail_msg("db_open: %s", err);
    return db;
}

static void data_version_follows_commits(void **state)
{
    (void)state;
    testdb_t t;
    testdb_prepare(&t, false, "fastpath", "v.db");
    db_t *a = testdb_open(&t), *b = open_url(t.url, true);
    assert_int_equal(db_exec(a, NULL, "CREATE TABLE kv (k TEXT PRIMARY KEY, v TEXT)", DB_NOARGS),
                     0);
    int64_t n = 0;
    assert_int_equal(db_query_one_int(b, &n, "SELECT count(*) FROM kv", DB_NOARGS), 0);

    db_version_t v1, v2, v3;
    assert_true(db_data_version(b, &v1));
    /* reads change nothing */
    assert_int_equal(db_begin(b, NULL, false), 0);
    assert_int_equal(db_query_one_int(b, &n, "SELECT count(*) FROM kv", DB_NOARGS), 0);
    assert_int_equal(db_commit(b), 0);
    assert_true(db_data_version(b, &v2));
    assert_memory_equal(&v1, &v2, sizeof v1);
    /* a rolled-back write changes nothing */
    assert_int_equal(db_begin(a, NULL, true), 0);
    assert_int_equal(db_exec(a, NULL, "INSERT INTO kv VALUES ('x', '1')", DB_NOARGS), 0);
    assert_int_equal(db_rollback(a), 0);
    assert_true(db_data_version(b, &v2));
    assert_memory_equal(&v1, &v2, sizeof v1);
    /* a commit on another connection changes it, seen without reading */
    assert_int_equal(db_exec(a, NULL, "INSERT INTO kv VALUES ('x', '1')", DB_NOARGS), 0);
    assert_true(db_data_version(b, &v2));
    assert_memory_not_equal(&v1, &v2, sizeof v1);
    /* and so does the next one, even a same-size update */
    assert_int_equal(db_exec(a, NULL, "UPDATE kv SET v = '2' WHERE k = 'x'", DB_NOARGS), 0);
    assert_true(db_data_version(b, &v3));
    assert_memory_not_equal(&v2, &v3, sizeof v2);
    /* a checkpoint that resets the WAL: the next commit still changes it */
    assert_int_equal(db_exec_script(a, "PRAGMA wal_checkpoint(TRUNCATE)"), 0);
    assert_true(db_data_version(b, &v2));
    assert_int_equal(db_exec(a, NULL, "UPDATE kv SET v = '3' WHERE k = 'x'", DB_NOARGS), 0);
    assert_true(db_data_version(b, &v1));
    assert_memory_not_equal(&v1, &v2, sizeof v1);
    assert_memory_not_equal(&v1, &v3, sizeof v1);
    db_close(b);
    testdb_cleanup(&t, a);
}

static void data_version_absent_in_memory(void **state)
{
    (void)state;
    db_t *m = open_url("sqlite::memory:", false);
    assert_int_equal(db_exec(m, NULL, "CREATE TABLE t (x)", DB_NOARGS), 0);
    db_version_t v;
    assert_false(db_data_version(m, &v));
    db_close(m);
}

static void no_wait_reader_fails_fast_on_a_lock(void **state)
{
    (void)state;
    testdb_t t;
    testdb_prepare(&t, false, "fastpath", "w.db");
    db_t *a = testdb_open(&t), *r = open_url(t.url, true);
    assert_int_equal(db_exec(a, NULL, "CREATE TABLE kv (k TEXT)", DB_NOARGS), 0);
    /* a writer holds the write lock: the reader still reads (WAL) ... */
    assert_int_equal(db_begin(a, NULL, true), 0);
    assert_int_equal(db_exec(a, NULL, "INSERT INTO kv VALUES ('x')", DB_NOARGS), 0);
    int64_t n = -1;
    assert_int_equal(db_query_one_int(r, &n, "SELECT count(*) FROM kv", DB_NOARGS), 0);
    assert_int_equal(n, 0);
    /* ... and a write from it fails at once instead of waiting */
    assert_int_equal(db_begin(r, NULL, true), ERR_CONFLICT);
    assert_int_equal(db_commit(a), 0);
    db_close(r);
    testdb_cleanup(&t, a);
}

/* ---- PostgreSQL: BEGIN with the tenant in one round trip ---- */

static void pg_begin_sets_and_quotes_the_tenant(void **state)
{
    (void)state;
    testdb_t t;
    if (!testdb_prepare(&t, true, "fastpath", NULL)) {
        testdb_cleanup(&t, NULL);
        skip();
    }
    db_t *db = testdb_open(&t);
    db_version_t v;
    assert_false(db_data_version(db, &v));
    const char *tenants[] = {"t-1", "it's; DROP TABLE x; --", "back\\slash"};
    for (size_t i = 0; i < sizeof tenants / sizeof tenants[0]; i++) {
        assert_int_equal(db_begin(db, tenants[i], false), 0);
        char *got = NULL;
        assert_int_equal(db_query_one_text(db, &got,
                                           "SELECT current_setting('app.current_tenant_id')",
                                           DB_NOARGS),
                         0);
        assert_string_equal(got, tenants[i]);
        free(got);
        assert_int_equal(
            db_query_one_text(db, &got, "SELECT current_setting('app.platform')", DB_NOARGS), 0);
        assert_string_equal(got, "");
        free(got);
        assert_int_equal(db_commit(db), 0);
    }
    assert_int_equal(db_begin_platform(db, false), 0);
    char *got = NULL;
    assert_int_equal(
        db_query_one_text(db, &got, "SELECT current_setting('app.platform')", DB_NOARGS), 0);
    assert_string_equal(got, "on");
    free(got);
    assert_int_equal(db_commit(db), 0);
    /* transaction-local: gone after the commit */
    assert_int_equal(
        db_query_one_text(db, &got, "SELECT current_setting('app.current_tenant_id')", DB_NOARGS),
        0);
    assert_string_equal(got, "");
    free(got);
    testdb_cleanup(&t, db);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(json_out_matches_jansson),
        cmocka_unit_test(json_out_deep_and_scalar),
        cmocka_unit_test(error_envelope_unchanged),
        cmocka_unit_test(data_version_follows_commits),
        cmocka_unit_test(data_version_absent_in_memory),
        cmocka_unit_test(no_wait_reader_fails_fast_on_a_lock),
        cmocka_unit_test(pg_begin_sets_and_quotes_the_tenant),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
