/* test_identity_admin.c — `bizosaas admin …` (identity_admin_main) against
 * a fresh SQLite database: seed-demo prints working logins and can be run
 * again, create-tenant, create-user, reset-password and unlock-user change
 * what they say, and bad usage exits 2. Also identity_start: the demo seed
 * on an empty database only, and the purge of expired token rows. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "contexts/identity/identity.h"
#include "contexts/identity/passwords.h"
#include "db.h"
#include "http.h"
#include "log.h"

typedef struct fx {
    char dir[64], url[128], data[128];
    config_t cfg;
    db_t *db;
} fx_t;

static int setup(void **state)
{
    fx_t *f = calloc(1, sizeof *f);
    strcpy(f->dir, "/tmp/bz_test_idadmin_XXXXXX");
    if (!mkdtemp(f->dir)) return -1;
    snprintf(f->url, sizeof f->url, "BIZOSAAS_DATABASE_URL=sqlite:%s/db.sqlite", f->dir);
    snprintf(f->data, sizeof f->data, "BIZOSAAS_DATA_DIR=%s/data", f->dir);
    char *env[] = {f->url, f->data, NULL};
    char err[256];
    if (config_load(&f->cfg, NULL, env, err, sizeof err) < 0) return -1;
    log_set_level(LOG_ERROR);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx_t *f = *state;
    db_close(f->db);
    config_cleanup(&f->cfg);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", f->dir);
    if (system(cmd) != 0) return -1;
    free(f);
    return 0;
}

/* run: identity_admin_main with args, stdout captured into out. */
static int run(fx_t *f, char *out, size_t cap, int n, ...)
{
    char *argv[16] = {"bizosaas", "admin"};
    va_list ap;
    va_start(ap, n);
    for (int i = 0; i < n; i++)
        argv[2 + i] = va_arg(ap, char *);
    va_end(ap);
    char path[128];
    snprintf(path, sizeof path, "%s/stdout", f->dir);
    fflush(stdout);
    int saved = dup(1);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    dup2(fd, 1);
    close(fd);
    int rc = identity_admin_main(2 + n, argv, &f->cfg);
    fflush(stdout);
    dup2(saved, 1);
    close(saved);
    FILE *fp = fopen(path, "r");
    size_t got = fread(out, 1, cap - 1, fp);
    out[got] = '\0';
    fclose(fp);
    return rc;
}

static db_t *db_of(fx_t *f)
{
    if (!f->db) {
        char err[256];
        assert_int_equal(db_open(f->cfg.database_url, NULL, &f->db, err, sizeof err), 0);
    }
    return f->db;
}

static char *hash_of(fx_t *f, const char *email)
{
    char *h = NULL;
    assert_int_equal(db_query_one_text(db_of(f), &h,
                                       "SELECT password_hash FROM users WHERE email = $1",
                                       DB_ARGS(DB_TEXT(email))),
                     0);
    return h;
}

static void test_seed_demo(void **state)
{
    fx_t *f = *state;
    char out[4096], pw[32];
    assert_int_equal(run(f, out, sizeof out, 1, "seed-demo"), 0);
    const char *line = strstr(out, "admin@demo.bizosaas.local");
    assert_non_null(line);
    assert_int_equal(sscanf(strstr(out, "client@demo.bizosaas.local"), "%*s %*s %31s", pw), 1);
    assert_int_equal(strlen(pw), 20);
    const char *emails[] = {"superadmin@demo.bizosaas.local", "admin@demo.bizosaas.local",
                            "manager@demo.bizosaas.local", "client@demo.bizosaas.local"};
    for (int i = 0; i < 4; i++) {
        char *h = hash_of(f, emails[i]);
        assert_true(pw_verify(h, pw));
        free(h);
    }
    int64_t n = 0;
    assert_int_equal(db_query_one_int(db_of(f), &n,
                                      "SELECT count(*) FROM tenants WHERE slug = 'demo'",
                                      DB_NOARGS),
                     0);
    assert_int_equal(n, 1);
    /* again: same tenant, a new password */
    char pw2[32];
    assert_int_equal(run(f, out, sizeof out, 1, "seed-demo"), 0);
    assert_int_equal(sscanf(strstr(out, "client@demo.bizosaas.local"), "%*s %*s %31s", pw2), 1);
    assert_string_not_equal(pw, pw2);
    char *h = hash_of(f, "client@demo.bizosaas.local");
    assert_true(pw_verify(h, pw2));
    assert_false(pw_verify(h, pw));
    free(h);
    assert_int_equal(db_query_one_int(db_of(f), &n, "SELECT count(*) FROM users", DB_NOARGS), 0);
    assert_int_equal(n, 4);
}

static void test_tenant_user_password_unlock(void **state)
{
    fx_t *f = *state;
    char out[4096];
    assert_int_equal(
        run(f, out, sizeof out, 5, "create-tenant", "--name", "Acme", "--slug", "acme"), 0);
    assert_non_null(strstr(out, "created tenant acme"));
    assert_int_equal(
        run(f, out, sizeof out, 5, "create-tenant", "--name", "Acme", "--slug", "acme"), 1);
    assert_int_equal(run(f, out, sizeof out, 9, "create-user", "--tenant", "acme", "--email",
                         "Boss@Acme.test", "--role", "tenant_admin", "--password",
                         "initial passphrase 1"),
                     0);
    char *h = hash_of(f, "boss@acme.test");
    assert_true(pw_verify(h, "initial passphrase 1"));
    free(h);
    char *roles = NULL;
    assert_int_equal(db_query_one_text(db_of(f), &roles,
                                       "SELECT roles FROM users WHERE email = 'boss@acme.test'",
                                       DB_NOARGS),
                     0);
    assert_string_equal(roles, "[\"tenant_admin\"]");
    free(roles);
    /* a weak password or an unknown role is refused */
    assert_int_equal(run(f, out, sizeof out, 9, "create-user", "--tenant", "acme", "--email",
                         "x@acme.test", "--role", "manager", "--password", "password123"),
                     1);
    assert_int_equal(run(f, out, sizeof out, 7, "create-user", "--tenant", "acme", "--email",
                         "y@acme.test", "--role", "owner"),
                     1);
    /* reset without --password generates and prints one */
    assert_int_equal(run(f, out, sizeof out, 5, "reset-password", "--tenant", "acme", "--email",
                         "boss@acme.test"),
                     0);
    char pw[32];
    assert_int_equal(sscanf(strstr(out, "password: "), "password: %31s", pw), 1);
    h = hash_of(f, "boss@acme.test");
    assert_true(pw_verify(h, pw));
    assert_false(pw_verify(h, "initial passphrase 1"));
    free(h);
    /* unlock removes the lockout row */
    assert_int_equal(
        db_exec(db_of(f), NULL,
                "INSERT INTO login_throttle (key, failures, window_start, locked_until) "
                "VALUES ('email:boss@acme.test', 5, 1, 9999999999)",
                DB_NOARGS),
        0);
    assert_int_equal(run(f, out, sizeof out, 3, "unlock-user", "--email", "BOSS@acme.test"), 0);
    int64_t n = -1;
    assert_int_equal(
        db_query_one_int(db_of(f), &n, "SELECT count(*) FROM login_throttle", DB_NOARGS), 0);
    assert_int_equal(n, 0);
}

static void test_usage(void **state)
{
    fx_t *f = *state;
    char out[4096];
    assert_int_equal(run(f, out, sizeof out, 0), 2);
    assert_int_equal(run(f, out, sizeof out, 1, "frobnicate"), 2);
    assert_int_equal(run(f, out, sizeof out, 3, "create-tenant", "--name", "x"), 2);
    assert_int_equal(run(f, out, sizeof out, 1, "--help"), 0);
    assert_non_null(strstr(out, "seed-demo"));
}

static void test_start_seeds_once_and_purges(void **state)
{
    fx_t *f = *state;
    char out[4096];
    /* migrations applied through the CLI path */
    assert_int_equal(run(f, out, sizeof out, 3, "unlock-user", "--email", "nobody@example.com"), 0);
    db_t *db = db_of(f);
    auth_config_t auth = {.secret = (const unsigned char *)"0123456789abcdef0123456789abcdef",
                          .secret_len = 32};
    identity_configure(&f->cfg, &auth);
    int64_t now = (int64_t)time(NULL);
    assert_int_equal(db_exec(db, NULL,
                             "INSERT INTO revoked_tokens (tenant_id, jti, expires_at) VALUES "
                             "('t', 'old', $1), ('t', 'live', $2)",
                             DB_ARGS(DB_INT(now - 10), DB_INT(now + 3600))),
                     0);
    assert_int_equal(
        db_exec(db, NULL,
                "INSERT INTO login_throttle (key, failures, window_start, locked_until) "
                "VALUES ('email:old@x.test', 3, $1, 0), ('email:locked@x.test', 5, $1, $2)",
                DB_ARGS(DB_INT(now - 100000), DB_INT(now + 600))),
        0);
    assert_int_equal(identity_start(db), 0);
    char *s = NULL;
    assert_int_equal(
        db_query_one_text(db, &s, "SELECT group_concat(jti) FROM revoked_tokens", DB_NOARGS), 0);
    assert_string_equal(s, "live");
    free(s);
    assert_int_equal(
        db_query_one_text(db, &s, "SELECT group_concat(key) FROM login_throttle", DB_NOARGS), 0);
    assert_string_equal(s, "email:locked@x.test");
    free(s);
    int64_t n = 0;
    assert_int_equal(db_query_one_int(db, &n, "SELECT count(*) FROM users", DB_NOARGS), 0);
    assert_int_equal(n, 4); /* seeded: the database had no tenant */
    /* the logins went to DATA_DIR/demo-logins.txt (made when missing), mode 0600 */
    char path[160];
    snprintf(path, sizeof path, "%s/data/demo-logins.txt", f->dir);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(identity_start(db), 0);
    assert_int_equal(db_query_one_int(db, &n, "SELECT count(*) FROM users", DB_NOARGS), 0);
    assert_int_equal(n, 4); /* not again */
    http_set_request_hook(NULL);
}

int main(void)
{
    if (sodium_init() < 0) return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_seed_demo, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tenant_user_password_unlock, setup, teardown),
        cmocka_unit_test_setup_teardown(test_usage, setup, teardown),
        cmocka_unit_test_setup_teardown(test_start_seeds_once_and_purges, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
