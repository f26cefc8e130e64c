/* test_config.c — defaults, INI file, environment precedence, and the
 * errors that name the offending key. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "err.h"

static char *write_ini(const char *text)
{
    char *path = strdup("/tmp/bz-config-XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    return path;
}

static void test_defaults(void **state)
{
    (void)state;
    config_t c;
    char err[256];
    char *env[] = {"PATH=/bin", NULL};
    assert_int_equal(config_load(&c, NULL, env, err, sizeof err), 0);
    assert_string_equal(c.listen_host, "127.0.0.1");
    assert_int_equal(c.listen_port, 8001);
    assert_string_equal(c.database_url, "sqlite:./data/bizosaas.db");
    assert_int_equal(c.max_body_bytes, 1048576);
    assert_int_equal(c.max_request_line, 8192);
    assert_int_equal(c.max_header_bytes, 16384);
    assert_int_equal(c.max_headers, 100);
    assert_int_equal(c.header_timeout_ms, 10000);
    assert_int_equal(c.idle_timeout_ms, 60000);
    assert_true(c.access_log);
    assert_true(config_is_dev(&c));
    config_cleanup(&c);
}

static void test_ini_and_env_precedence(void **state)
{
    (void)state;
    char *ini = write_ini("# comment\n; other comment\n[bizosaas]\nlisten = 0.0.0.0:9000\n"
                          "threads = 3\nmax_body_bytes = 2048\naccess_log = off\n"
                          "database_url = \"sqlite:/tmp/x.db\"\n");
    config_t c;
    char err[256];
    char *env[] = {"BIZOSAAS_THREADS=5", "OTHER=1", NULL};
    assert_int_equal(config_load(&c, ini, env, err, sizeof err), 0);
    assert_string_equal(c.listen_host, "0.0.0.0");
    assert_int_equal(c.listen_port, 9000);
    assert_int_equal(c.threads, 5); /* env wins */
    assert_int_equal(c.max_body_bytes, 2048);
    assert_false(c.access_log);
    assert_string_equal(c.database_url, "sqlite:/tmp/x.db");
    config_cleanup(&c);
    unlink(ini);
    free(ini);
}

static void expect_error(const char *ini_text, char **env, const char *needle)
{
    char *ini = ini_text ? write_ini(ini_text) : NULL;
    config_t c;
    char err[512] = {0};
    assert_int_equal(config_load(&c, ini, env, err, sizeof err), ERR_CONFIG);
    if (!strstr(err, needle)) fail_msg("error \"%s\" does not name \"%s\"", err, needle);
    config_cleanup(&c);
    if (ini) {
        unlink(ini);
        free(ini);
    }
}

static void test_errors_name_the_key(void **state)
{
    (void)state;
    char *e1[] = {"BIZOSAAS_THREADS=abc", NULL};
    expect_error(NULL, e1, "BIZOSAAS_THREADS");
    char *e2[] = {"BIZOSAAS_MAX_BODY_BYTES=-1", NULL};
    expect_error(NULL, e2, "BIZOSAAS_MAX_BODY_BYTES");
    char *e3[] = {"BIZOSAAS_NO_SUCH_THING=1", NULL};
    expect_error(NULL, e3, "BIZOSAAS_NO_SUCH_THING");
    char *e4[] = {"BIZOSAAS_LISTEN=nohostport", NULL};
    expect_error(NULL, e4, "BIZOSAAS_LISTEN");
    char *e5[] = {"BIZOSAAS_LOG_LEVEL=loud", NULL};
    expect_error(NULL, e5, "BIZOSAAS_LOG_LEVEL");
    char *e6[] = {"BIZOSAAS_ACCESS_LOG=maybe", NULL};
    expect_error(NULL, e6, "BIZOSAAS_ACCESS_LOG");
    char *e7[] = {"BIZOSAAS_ENV=staging", NULL};
    expect_error(NULL, e7, "BIZOSAAS_ENV");
    char *none[] = {NULL};
    expect_error("bogus_key = 1\n", none, "bogus_key");
    expect_error("THREADS = 1\n", none, "THREADS"); /* INI keys are lower case */
    expect_error("threads = 1x\n", none, "BIZOSAAS_THREADS");
    expect_error("[other]\nx = 1\n", none, "[other]");
    expect_error("[service.crm]\nbogus = 1\n", none, "bogus");
    expect_error("[service.crm]\ntarget = a\ntarget = b\n", none, "twice");
    expect_error("[service.a]\n[service.a]\n", none, "twice");
    expect_error("[service.]\n", none, "needs a name");
    expect_error("[service.crm]\nrate_limit_per_min.gold = 5\n", none, "rate_limit_per_min.gold");
    expect_error("gateway_plan_refresh_ms = 99\n", none, "BIZOSAAS_GATEWAY_PLAN_REFRESH_MS");
    expect_error("just a line\n", none, ":1");
}

static void test_service_sections(void **state)
{
    (void)state;
    char *ini = write_ini("listen = 127.0.0.1:9001\n[service.django-crm]\ntarget = "
                          "http://10.0.0.5:8003/api/v1/crm\nrate_limit_per_min = 50\n"
                          "rate_limit_per_min.enterprise = 500\n"
                          "[service.vault]\nenabled = false\n[bizosaas]\nthreads = 2\n"
                          "gateway_plan_refresh_ms = 250\n");
    config_t c;
    char err[256];
    char *env[] = {NULL};
    assert_int_equal(config_load(&c, ini, env, err, sizeof err), 0);
    assert_int_equal(c.nservices, 2);
    assert_string_equal(c.services[0].name, "django-crm");
    assert_int_equal(c.services[0].n, 3);
    assert_string_equal(c.services[0].keys[2], "rate_limit_per_min.enterprise");
    assert_string_equal(c.services[0].values[2], "500");
    assert_int_equal(c.gateway_plan_refresh_ms, 250);
    assert_string_equal(c.services[0].keys[0], "target");
    assert_string_equal(c.services[0].values[0], "http://10.0.0.5:8003/api/v1/crm");
    assert_string_equal(c.services[1].name, "vault");
    assert_string_equal(c.services[1].values[0], "false");
    assert_int_equal(c.threads, 2); /* back in the main section */
    config_cleanup(&c);
    unlink(ini);
    free(ini);
}

static void test_help_lists_every_variable(void **state)
{
    (void)state;
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    config_print_help(f);
    fclose(f);
    const char *vars[] = {"BIZOSAAS_LISTEN", "BIZOSAAS_THREADS", "BIZOSAAS_DATABASE_URL",
                          "BIZOSAAS_MAX_CONNECTIONS", "BIZOSAAS_MAX_BODY_BYTES",
                          "BIZOSAAS_HEADER_TIMEOUT_MS", "BIZOSAAS_IDLE_TIMEOUT_MS",
                          "BIZOSAAS_LOG_LEVEL", "BIZOSAAS_JWT_SECRET", NULL};
    for (const char **v = vars; *v; v++)
        if (!strstr(buf, *v)) fail_msg("--help does not list %s", *v);
    assert_non_null(strstr(buf, "default: 127.0.0.1:8001"));
    free(buf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_ini_and_env_precedence),
        cmocka_unit_test(test_errors_name_the_key),
        cmocka_unit_test(test_service_sections),
        cmocka_unit_test(test_help_lists_every_variable),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
