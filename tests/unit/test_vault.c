/* test_vault.c — the vault's crypto, storage, master key handling, rotation,
 * policies and audit chain, on SQLite always and on PostgreSQL when
 * BIZOSAAS_TEST_PG_URL is set (a fresh schema per case; skipped otherwise). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "auth.h"
#include "config.h"
#include "contexts/vault/vault_internal.h"
#include "db.h"
#include "err.h"
#include "log.h"
#include "migrate.h"
#include "testdb.h"

#define A "018f0000-0000-7000-8000-00000000000a"
#define B "018f0000-0000-7000-8000-00000000000b"
#define KEY1 "1111111111111111111111111111111111111111111111111111111111111111"
#define KEY2 "2222222222222222222222222222222222222222222222222222222222222222"

typedef struct fixture {
    db_t *db;
    bool pg;
    testdb_t t;
    config_t cfg;
    bool have_cfg;
} fixture_t;

/* load_cfg: a config for the fixture, with master_key (NULL: key file). */
static void load_cfg(fixture_t *f, const char *master_key)
{
    if (f->have_cfg) config_cleanup(&f->cfg);
    char dd[128], du[1100], mk[128];
    snprintf(dd, sizeof dd, "BIZOSAAS_DATA_DIR=%s", f->t.dir);
    snprintf(du, sizeof du, "BIZOSAAS_DATABASE_URL=%s", f->t.url);
    snprintf(mk, sizeof mk, "BIZOSAAS_MASTER_KEY=%s", master_key ? master_key : "");
    char *env[] = {dd, du, mk, NULL};
    char err[256];
    assert_int_equal(config_load(&f->cfg, NULL, env, err, sizeof err), 0);
    f->have_cfg = true;
}

static int setup_common(fixture_t *f)
{
    if (!testdb_prepare(&f->t, f->pg, "vault", "t.db")) return 0;
    f->db = testdb_open(&f->t);
    log_set_level(LOG_OFF);
    assert_true(migrate_apply(f->db) > 0);
    load_cfg(f, KEY1);
    assert_int_equal(vault_start(&f->cfg, f->db), 0);
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
    vault_stop();
    testdb_cleanup(&f->t, f->db);
    if (f->have_cfg) config_cleanup(&f->cfg);
    free(f);
    return 0;
}

static fixture_t *get(void **state)
{
    fixture_t *f = *state;
    if (!f->db) skip();
    return f;
}

static int put(db_t *db, const char *tenant, const char *path, const char *json, int64_t *v)
{
    int rc = db_begin(db, tenant, true);
    if (rc == 0) rc = vault_secret_write(db, tenant, path, "test", json, v);
    if (rc == 0) return db_commit(db);
    db_rollback(db);
    return rc;
}

static int get_secret(db_t *db, const char *tenant, const char *path, char **out)
{
    int rc = db_begin(db, tenant, true);
    if (rc < 0) return rc;
    rc = vault_secret_read(db, tenant, path, "test", out);
    /* commit even after a failed read: the audit entry is part of it */
    int crc = db_commit(db);
    return rc < 0 ? rc : crc;
}

static void expect_secret(db_t *db, const char *tenant, const char *path, const char *want)
{
    char *s = NULL;
    int rc = get_secret(db, tenant, path, &s);
    if (rc != 0) fail_msg("read %s/%s: %d", tenant, path, rc);
    assert_string_equal(s, want);
    vault_secret_free(s);
}

static void test_crypto_round_trip(void **state)
{
    (void)state;
    unsigned char k[32], k2[32];
    randombytes_buf(k, sizeof k);
    randombytes_buf(k2, sizeof k2);
    const char *plain = "{\"api_key\":\"sk_live_abc\"}";
    char *ct = vault__seal(k, A, "tenant/a/x", 3, plain, strlen(plain));
    assert_null(strstr(ct, "sk_live"));
    char *out = NULL;
    size_t len = 0;
    assert_int_equal(vault__open(k, A, "tenant/a/x", 3, ct, &out, &len), 0);
    assert_int_equal(len, strlen(plain));
    assert_string_equal(out, plain);
    vault_secret_free(out);
    /* bound to its key, tenant, path and version */
    assert_int_equal(vault__open(k2, A, "tenant/a/x", 3, ct, &out, &len), ERR_INTERNAL);
    assert_int_equal(vault__open(k, B, "tenant/a/x", 3, ct, &out, &len), ERR_INTERNAL);
    assert_int_equal(vault__open(k, A, "tenant/a/y", 3, ct, &out, &len), ERR_INTERNAL);
    assert_int_equal(vault__open(k, A, "tenant/a/x", 4, ct, &out, &len), ERR_INTERNAL);
    /* a flipped character does not open */
    ct[strlen(ct) / 2] = ct[strlen(ct) / 2] == 'A' ? 'B' : 'A';
    assert_int_equal(vault__open(k, A, "tenant/a/x", 3, ct, &out, &len), ERR_INTERNAL);
    free(ct);
    /* key wrapping and the key check */
    char *w = vault__wrap(k, A, k2);
    unsigned char back[32];
    assert_int_equal(vault__unwrap(k, A, w, back), 0);
    assert_memory_equal(back, k2, 32);
    assert_int_equal(vault__unwrap(k2, A, w, back), ERR_INTERNAL);
    assert_int_equal(vault__unwrap(k, B, w, back), ERR_INTERNAL);
    free(w);
    char *check = vault__key_check_new(k);
    assert_true(vault__key_check_ok(k, check));
    assert_false(vault__key_check_ok(k2, check));
    free(check);
}

static void test_ciphertext_is_not_plaintext(void **state)
{
    fixture_t *f = get(state);
    int64_t v = 0;
    assert_int_equal(put(f->db, A, "integrations/stripe", "{\"secret\":\"PLAINTEXT-MARKER-42\"}", &v), 0);
    assert_int_equal(v, 1);
    expect_secret(f->db, A, "integrations/stripe", "{\"secret\":\"PLAINTEXT-MARKER-42\"}");
    /* no column of any vault table holds the value or an unwrapped key */
    assert_int_equal(db_begin_platform(f->db, false), 0);
    db_res_t *r;
    assert_int_equal(db_query(f->db, &r, "SELECT ciphertext FROM vault_versions", DB_NOARGS), 0);
    int rows = 0;
    while (db_res_next(r) == 1) {
        rows++;
        assert_null(strstr(db_res_text(r, 0), "PLAINTEXT"));
        assert_null(strstr(db_res_text(r, 0), "secret"));
    }
    db_res_free(r);
    assert_int_equal(rows, 1);
    char *wrapped = NULL;
    assert_int_equal(db_query_one_text(f->db, &wrapped, "SELECT wrapped FROM vault_keys WHERE tenant_id = $1",
                                       DB_ARGS(DB_TEXT(A))), 0);
    assert_true(strlen(wrapped) > 64);
    free(wrapped);
    db_rollback(f->db);
}

static void test_versions(void **state)
{
    fixture_t *f = get(state);
    db_t *db = f->db;
    arena_t *a = arena_new();
    vault_path_t p;
    assert_int_equal(vault__path_check(a, "tenant/" A "/db", false, &p), 0);
    vault_version_info_t info;
    char *plain;
    size_t len;
    assert_int_equal(db_begin(db, A, true), 0);
    assert_int_equal(vault__kv_write(db, a, &p, "{\"v\":1}", 7, 0, &info), 0);
    assert_int_equal(vault__kv_write(db, a, &p, "{\"v\":2}", 7, 0, &info), ERR_CONFLICT);
    assert_int_equal(vault__kv_write(db, a, &p, "{\"v\":2}", 7, 1, &info), 0);
    assert_int_equal(info.version, 2);
    assert_int_equal(vault__kv_write(db, a, &p, "{\"v\":3}", 7, -1, &info), 0);
    assert_int_equal(vault__kv_read(db, a, &p, 0, &plain, &len, &info), 0);
    assert_string_equal(plain, "{\"v\":3}");
    vault_secret_free(plain);
    assert_int_equal(vault__kv_read(db, a, &p, 1, &plain, &len, &info), 0);
    assert_string_equal(plain, "{\"v\":1}");
    vault_secret_free(plain);
    /* soft delete, undelete, destroy */
    int64_t v3 = 3, v1 = 1;
    assert_int_equal(vault__kv_versions_op(db, &p, "delete", NULL, 0), 0);
    assert_int_equal(vault__kv_read(db, a, &p, 0, &plain, &len, &info), ERR_NOT_FOUND);
    assert_non_null(info.deleted_at);
    assert_int_equal(vault__kv_versions_op(db, &p, "undelete", &v3, 1), 0);
    assert_int_equal(vault__kv_read(db, a, &p, 0, &plain, &len, &info), 0);
    vault_secret_free(plain);
    assert_int_equal(vault__kv_versions_op(db, &p, "destroy", &v1, 1), 0);
    assert_int_equal(vault__kv_read(db, a, &p, 1, &plain, &len, &info), ERR_NOT_FOUND);
    assert_true(info.destroyed);
    assert_int_equal(vault__kv_versions_op(db, &p, "undelete", &v1, 1), 0); /* destroyed stays gone */
    assert_int_equal(vault__kv_read(db, a, &p, 1, &plain, &len, &info), ERR_NOT_FOUND);
    /* cas_required and max_versions */
    assert_int_equal(vault__kv_metadata_set(db, &p, 2, 1), 0);
    assert_int_equal(vault__kv_write(db, a, &p, "{\"v\":4}", 7, -1, &info), ERR_PRECONDITION);
    assert_int_equal(vault__kv_write(db, a, &p, "{\"v\":4}", 7, 3, &info), 0);
    json_t *meta;
    assert_int_equal(vault__kv_metadata(db, a, &p, &meta), 0);
    assert_int_equal(json_integer_value(json_object_get(meta, "current_version")), 4);
    assert_int_equal(json_integer_value(json_object_get(meta, "oldest_version")), 3);
    assert_int_equal(json_object_size(json_object_get(meta, "versions")), 2);
    assert_true(json_is_true(json_object_get(meta, "cas_required")));
    json_decref(meta);
    assert_int_equal(vault__kv_metadata_delete(db, &p), 0);
    assert_int_equal(vault__kv_exists(db, &p), 0);
    assert_int_equal(vault__kv_metadata_delete(db, &p), ERR_NOT_FOUND);
    assert_int_equal(db_commit(db), 0);
    arena_free(a);
}

static void test_wrong_master_key_refused(void **state)
{
    fixture_t *f = get(state);
    /* before any secret exists, any key is accepted (nothing to protect) */
    vault_stop();
    load_cfg(f, KEY2);
    assert_int_equal(vault_start(&f->cfg, f->db), 0);
    vault_stop();
    load_cfg(f, KEY1);
    assert_int_equal(vault_start(&f->cfg, f->db), 0);
    assert_int_equal(put(f->db, A, "x", "{\"a\":1}", NULL), 0);
    vault_stop();
    load_cfg(f, KEY2);
    assert_int_equal(vault_start(&f->cfg, f->db), ERR_CONFIG);
    load_cfg(f, "abc"); /* malformed */
    assert_int_equal(vault_start(&f->cfg, f->db), ERR_CONFIG);
    load_cfg(f, KEY1);
    assert_int_equal(vault_start(&f->cfg, f->db), 0);
    expect_secret(f->db, A, "x", "{\"a\":1}");
}

static void test_rotation_keeps_secrets_readable(void **state)
{
    fixture_t *f = get(state);
    const char *tenants[] = {A, B, "018f0000-0000-7000-8000-00000000000c"};
    for (int i = 0; i < 3; i++) {
        char json[64];
        snprintf(json, sizeof json, "{\"n\":%d}", i);
        assert_int_equal(put(f->db, tenants[i], "k1", json, NULL), 0);
        assert_int_equal(put(f->db, tenants[i], "k2", json, NULL), 0);
    }
    unsigned char k2[32];
    size_t bin;
    assert_int_equal(sodium_hex2bin(k2, 32, KEY2, 64, NULL, &bin, NULL), 0);
    assert_int_equal(vault_rotate_master_key(f->db, k2), 0);
    /* a fresh process with the new key reads everything; the old key is refused */
    vault_stop();
    load_cfg(f, KEY1);
    assert_int_equal(vault_start(&f->cfg, f->db), ERR_CONFIG);
    load_cfg(f, KEY2);
    assert_int_equal(vault_start(&f->cfg, f->db), 0);
    for (int i = 0; i < 3; i++) {
        char json[64];
        snprintf(json, sizeof json, "{\"n\":%d}", i);
        expect_secret(f->db, tenants[i], "k1", json);
        expect_secret(f->db, tenants[i], "k2", json);
    }
}

static void test_rotation_with_key_file_via_admin(void **state)
{
    fixture_t *f = get(state);
    vault_stop();
    load_cfg(f, NULL); /* key file mode: generated on first start */
    assert_int_equal(vault_start(&f->cfg, f->db), 0);
    char path[128];
    snprintf(path, sizeof path, "%s/master.key", f->t.dir);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(put(f->db, A, "svc", "{\"t\":\"x\"}", NULL), 0);
    FILE *fp = fopen(path, "r");
    char before[80] = {0}, after[80] = {0};
    assert_non_null(fgets(before, sizeof before, fp));
    fclose(fp);
    vault_stop();
    char *argv[] = {"bizosaas", "admin", "rotate-master-key", NULL};
    int saved = dup(1);
    assert_true(freopen("/dev/null", "w", stdout) != NULL);
    int code = vault_admin_main(3, argv, &f->cfg);
    fflush(stdout);
    dup2(saved, 1);
    close(saved);
    assert_int_equal(code, 0);
    fp = fopen(path, "r");
    assert_non_null(fgets(after, sizeof after, fp));
    fclose(fp);
    assert_string_not_equal(before, after);
    assert_int_equal(vault_start(&f->cfg, f->db), 0);
    expect_secret(f->db, A, "svc", "{\"t\":\"x\"}");
    char *bad[] = {"bizosaas", "admin", "no-such-command", NULL};
    assert_int_equal(vault_admin_main(3, bad, &f->cfg), 2);
}

static void test_policies(void **state)
{
    (void)state;
    arena_t *a = arena_new();
    vault_path_t own, other, plat;
    assert_int_equal(vault__path_check(a, "tenant/" A "/x", false, &own), 0);
    assert_int_equal(vault__path_check(a, "tenant/" B "/x", false, &other), 0);
    assert_int_equal(vault__path_check(a, "platform/smtp", false, &plat), 0);
    assert_string_equal(plat.tenant, VAULT_PLATFORM_TENANT);
    vault_caller_t admin = {"u", A, ROLE_TENANT_ADMIN}, manager = {"u", A, ROLE_MANAGER},
                   client = {"u", A, ROLE_CLIENT}, super = {"u", "", ROLE_SUPER_ADMIN},
                   service = {"s", "", ROLE_SERVICE};
    assert_int_equal(vault__authorize(&admin, &own, VCAP_CREATE), 0);
    assert_int_equal(vault__authorize(&admin, &other, VCAP_READ), ERR_NOT_FOUND);
    assert_int_equal(vault__authorize(&admin, &plat, VCAP_READ), ERR_FORBIDDEN);
    assert_int_equal(vault__authorize(&manager, &own, VCAP_READ), 0);
    assert_int_equal(vault__authorize(&manager, &own, VCAP_UPDATE), ERR_FORBIDDEN);
    assert_int_equal(vault__authorize(&client, &own, VCAP_READ), ERR_FORBIDDEN);
    assert_int_equal(vault__authorize(&super, &other, VCAP_DELETE), 0);
    assert_int_equal(vault__authorize(&super, &plat, VCAP_CREATE), 0);
    assert_int_equal(vault__authorize(&service, &other, VCAP_READ), 0);
    assert_int_equal(vault__authorize(&service, &other, VCAP_CREATE), ERR_FORBIDDEN);
    assert_int_equal(vault__authorize(&service, &plat, VCAP_READ), ERR_FORBIDDEN);
    /* malformed paths */
    vault_path_t p;
    const char *bad[] = {"", "/", "a//b", "a/../b", "./a", ("tenant/" A), "tenant//x", "tenant/_platform/x",
                         "a b", "a\tb"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (vault__path_check(a, bad[i], false, &p) != ERR_VALIDATION) fail_msg("accepted \"%s\"", bad[i]);
    arena_free(a);
}

static int64_t exec_count(db_t *db, const char *sql)
{
    int64_t n = 0;
    assert_int_equal(db_begin_platform(db, true), 0);
    assert_int_equal(db_exec(db, &n, sql, DB_NOARGS), 0);
    assert_int_equal(db_commit(db), 0);
    return n;
}

static void test_audit_chain_detects_tampering(void **state)
{
    fixture_t *f = get(state);
    db_t *db = f->db;
    for (int i = 0; i < 4; i++) assert_int_equal(put(f->db, A, "a", "{\"x\":\"VALUE-NEVER-LOGGED\"}", NULL), 0);
    char *s;
    assert_int_equal(get_secret(db, A, "a", &s), 0);
    vault_secret_free(s);
    assert_int_equal(get_secret(db, B, "missing", &s), ERR_NOT_FOUND);
    FILE *devnull = fopen("/dev/null", "w");
    assert_int_equal(vault_audit_verify(db, devnull), 0);
    /* entries never contain values */
    assert_int_equal(db_begin_platform(db, false), 0);
    int64_t n = -1;
    assert_int_equal(db_query_one_int(db, &n, "SELECT count(*) FROM vault_audit WHERE path LIKE '%VALUE%' "
                                      "OR result LIKE '%VALUE%' OR actor LIKE '%VALUE%'", DB_NOARGS), 0);
    assert_int_equal(n, 0);
    assert_int_equal(db_query_one_int(db, &n, "SELECT count(*) FROM vault_audit WHERE tenant_id = $1",
                                      DB_ARGS(DB_TEXT(A))), 0);
    assert_int_equal(n, 5);
    db_rollback(db);
    /* altered entry */
    assert_int_equal(exec_count(db, "UPDATE vault_audit SET result = 'ok' WHERE seq = 1 AND tenant_id = '" B "'"), 1);
    assert_int_equal(vault_audit_verify(db, devnull), ERR_CONFLICT);
    assert_int_equal(exec_count(db, "UPDATE vault_audit SET result = 'not_found' WHERE seq = 1 AND tenant_id = '" B "'"), 1);
    assert_int_equal(vault_audit_verify(db, devnull), 0);
    /* removed entry in the middle */
    assert_int_equal(exec_count(db, "DELETE FROM vault_audit WHERE seq = 2 AND tenant_id = '" A "'"), 1);
    assert_int_equal(vault_audit_verify(db, devnull), ERR_CONFLICT);
    fclose(devnull);
}

static void test_audit_detects_removed_last_entry(void **state)
{
    fixture_t *f = get(state);
    assert_int_equal(put(f->db, A, "a", "{}", NULL), 0);
    assert_int_equal(put(f->db, A, "a", "{}", NULL), 0);
    assert_int_equal(vault_audit_verify(f->db, NULL), 0);
    assert_int_equal(exec_count(f->db, "DELETE FROM vault_audit WHERE seq = 2"), 1);
    assert_int_equal(vault_audit_verify(f->db, NULL), ERR_CONFLICT);
}

#define BOTH(fn)                                                                                   \
    cmocka_unit_test_setup_teardown(fn, setup_sqlite, teardown),                                   \
        cmocka_unit_test_setup_teardown(fn, setup_pg, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_crypto_round_trip),
        cmocka_unit_test(test_policies),
        BOTH(test_ciphertext_is_not_plaintext),
        BOTH(test_versions),
        BOTH(test_wrong_master_key_refused),
        BOTH(test_rotation_keeps_secrets_readable),
        BOTH(test_rotation_with_key_file_via_admin),
        BOTH(test_audit_chain_detects_tampering),
        BOTH(test_audit_detects_removed_last_entry),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
