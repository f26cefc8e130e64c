/* test_idem.c — Idempotency-Key claims on both backends: first claim runs,
 * a concurrent retry is 409, a different request is 422, a stored response
 * is replayed, a failed request releases the key, and expired or stale keys
 * are taken over. PostgreSQL cases run when BIZOSAAS_TEST_PG_URL is set. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "err.h"
#include "idem.h"
#include "ids.h"
#include "migrate.h"

static db_t *open_backend(bool pg, char *path)
{
    db_t *db = NULL;
    char err[256], url[300];
    /* generous: SCRAM authentication is slow under valgrind */
    db_options_t o = {.connect_timeout_ms = 30000};
    if (pg) {
        const char *u = getenv("BIZOSAAS_TEST_PG_URL");
        if (!u || !*u) return NULL;
        snprintf(url, sizeof url, "%s", u);
    } else {
        snprintf(path, 64, "/tmp/bz-idem-XXXXXX");
        int fd = mkstemp(path);
        close(fd);
        snprintf(url, sizeof url, "sqlite:%s", path);
    }
    if (db_open(url, &o, &db, err, sizeof err) < 0) fail_msg("db_open: %s", err);
    if (migrate_apply(db) < 0) fail_msg("migrate: %s", db_errmsg(db));
    return db;
}

static void run(bool pg)
{
    char path[64] = {0};
    db_t *db = open_backend(pg, path);
    if (!db) {
        skip();
        return;
    }
    char tenant[40], key[40];
    id_uuidv7(tenant);
    id_uuidv7(key);
    int64_t now = (int64_t)time(NULL);
    http_res_t res;
    http_res_init(&res);

    assert_int_equal(idem_claim(db, tenant, key, "h1", 86400, now, &res), 0);
    /* still running: a retry is told to wait */
    assert_int_equal(idem_claim(db, tenant, key, "h1", 86400, now, &res),
                     ERR_IDEMPOTENCY_IN_PROGRESS);
    /* another request under the same key */
    assert_int_equal(idem_claim(db, tenant, key, "h2", 86400, now, &res), ERR_IDEMPOTENCY_MISMATCH);
    /* the same key in another tenant is independent */
    char other[40];
    id_uuidv7(other);
    assert_int_equal(idem_claim(db, other, key, "h1", 86400, now, &res), 0);

    /* the handler's transaction stores the response and commits */
    http_res_t done;
    http_res_init(&done);
    done.status = 201;
    buf_append_str(&done.body, "{\"id\":\"x\"}");
    assert_int_equal(db_begin(db, tenant, true), 0);
    assert_int_equal(idem_store(db, tenant, key, &done), 0);
    assert_int_equal(db_commit(db), 0);
    http_res_cleanup(&done);

    assert_int_equal(idem_claim(db, tenant, key, "h1", 86400, now, &res), 1);
    assert_int_equal(res.status, 201);
    assert_string_equal(res.body.p, "{\"id\":\"x\"}");
    assert_non_null(strstr(res.headers.p, "Idempotent-Replayed: true"));
    assert_int_equal(idem_claim(db, tenant, key, "h2", 86400, now, &res), ERR_IDEMPOTENCY_MISMATCH);

    /* after the TTL the key is forgotten and may be claimed anew */
    assert_int_equal(idem_claim(db, tenant, key, "h3", 60, now + 86400 + 5, &res), 0);

    /* a failed request releases its claim */
    assert_int_equal(idem_release(db, tenant, key), 0);
    assert_int_equal(idem_claim(db, tenant, key, "h4", 86400, now, &res), 0);

    /* a 'running' claim whose process died is taken over after IDEM_STALE_S */
    assert_int_equal(idem_claim(db, tenant, key, "h5", 86400, now + IDEM_STALE_S + 5, &res), 0);

    http_res_cleanup(&res);
    db_close(db);
    if (*path) unlink(path);
}

static void test_sqlite(void **state)
{
    (void)state;
    run(false);
}

static void test_postgres(void **state)
{
    (void)state;
    run(true);
}

static void test_key_rules(void **state)
{
    (void)state;
    assert_true(idem_key_ok("abc-123"));
    assert_false(idem_key_ok(""));
    assert_false(idem_key_ok("has space"));
    char long_key[300];
    memset(long_key, 'a', sizeof long_key - 1);
    long_key[sizeof long_key - 1] = '\0';
    assert_false(idem_key_ok(long_key));
    long_key[IDEM_KEY_MAX] = '\0';
    assert_true(idem_key_ok(long_key));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_key_rules),
        cmocka_unit_test(test_sqlite),
        cmocka_unit_test(test_postgres),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
