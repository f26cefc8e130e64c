/* test_router.c — pattern matching, 404/405 with Allow, HEAD, params and
 * percent-decoding, specificity, and the JSON route listing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "err.h"
#include "router.h"

static int h(http_req_t *req, http_res_t *res)
{
    (void)req;
    (void)res;
    return 0;
}

static const route_t routes[] = {
    {"GET", "/api/v1/crm/leads", "leads.view", "list", h, 0},
    {"POST", "/api/v1/crm/leads", "leads.create", "create", h, 0},
    {"GET", "/api/v1/crm/leads/{id}", "leads.view", "get", h, 0},
    {"DELETE", "/api/v1/crm/leads/{id}", "leads.delete", "delete", h, 0},
    {"GET", "/api/v1/crm/leads/export", "leads.view", "export", h, 0},
    {"GET", "/api/brain/{service}/{path...}", NULL, "proxy", h, 0},
    {"GET", "/livez", NULL, "live", h, RT_PUBLIC},
};

static router_t *mk(void)
{
    router_t *r = router_new();
    router_add(r, routes, sizeof routes / sizeof routes[0]);
    return r;
}

static int match(router_t *r, arena_t *a, const char *m, const char *p, router_match_t *out,
                 char *allow)
{
    return router_match(r, str_of(m), str_of(p), a, out, allow, 96);
}

static void test_literal_and_params(void **state)
{
    (void)state;
    router_t *r = mk();
    arena_t *a = arena_new();
    router_match_t m;
    char allow[96];
    assert_int_equal(match(r, a, "GET", "/api/v1/crm/leads", &m, allow), 0);
    assert_string_equal(m.route->summary, "list");
    assert_int_equal(match(r, a, "GET", "/api/v1/crm/leads/abc", &m, allow), 0);
    assert_string_equal(m.route->summary, "get");
    assert_int_equal(m.nparams, 1);
    assert_string_equal(m.names[0], "id");
    assert_string_equal(m.values[0], "abc");
    /* a literal segment wins over a parameter */
    assert_int_equal(match(r, a, "GET", "/api/v1/crm/leads/export", &m, allow), 0);
    assert_string_equal(m.route->summary, "export");
    /* percent-decoding of parameters */
    assert_int_equal(match(r, a, "GET", "/api/v1/crm/leads/a%20b", &m, allow), 0);
    assert_string_equal(m.values[0], "a b");
    /* a malformed escape is a bad request, a NUL escape too */
    assert_int_equal(match(r, a, "GET", "/api/v1/crm/leads/a%2", &m, allow), ERR_BAD_REQUEST);
    assert_int_equal(match(r, a, "GET", "/api/v1/crm/leads/a%00", &m, allow), ERR_BAD_REQUEST);
    arena_free(a);
    router_free(r);
}

static void test_not_found_and_allow(void **state)
{
    (void)state;
    router_t *r = mk();
    arena_t *a = arena_new();
    router_match_t m;
    char allow[96];
    assert_int_equal(match(r, a, "GET", "/api/v1/crm", &m, allow), ERR_NOT_FOUND);
    assert_int_equal(match(r, a, "GET", "/api/v1/crm/leads/x/y", &m, allow), ERR_NOT_FOUND);
    assert_int_equal(match(r, a, "GET", "/api/v1/crm/leads/", &m, allow), ERR_NOT_FOUND);
    assert_int_equal(match(r, a, "GET", "", &m, allow), ERR_NOT_FOUND);
    assert_int_equal(match(r, a, "PUT", "/api/v1/crm/leads/1", &m, allow), ERR_METHOD_NOT_ALLOWED);
    assert_string_equal(allow, "GET, HEAD, DELETE");
    assert_int_equal(match(r, a, "PATCH", "/api/v1/crm/leads", &m, allow), ERR_METHOD_NOT_ALLOWED);
    assert_string_equal(allow, "GET, HEAD, POST");
    /* HEAD follows GET */
    assert_int_equal(match(r, a, "HEAD", "/livez", &m, allow), 0);
    assert_string_equal(m.route->summary, "live");
    arena_free(a);
    router_free(r);
}

static void test_rest_param(void **state)
{
    (void)state;
    router_t *r = mk();
    arena_t *a = arena_new();
    router_match_t m;
    char allow[96];
    assert_int_equal(match(r, a, "GET", "/api/brain/django-crm/leads/1/notes", &m, allow), 0);
    assert_int_equal(m.nparams, 2);
    assert_string_equal(m.values[0], "django-crm");
    assert_string_equal(m.names[1], "path");
    assert_string_equal(m.values[1], "leads/1/notes");
    assert_int_equal(match(r, a, "GET", "/api/brain/vault", &m, allow), 0);
    assert_string_equal(m.values[1], "");
    arena_free(a);
    router_free(r);
}

static void test_json_listing(void **state)
{
    (void)state;
    router_t *r = mk();
    json_t *j = router_to_json(r);
    assert_int_equal(json_array_size(j), sizeof routes / sizeof routes[0]);
    /* sorted by pattern then method */
    json_t *first = json_array_get(j, 0);
    assert_string_equal(json_string_value(json_object_get(first, "pattern")),
                        "/api/brain/{service}/{path...}");
    bool saw_public = false;
    for (size_t i = 0; i < json_array_size(j); i++) {
        json_t *e = json_array_get(j, i);
        if (!strcmp(json_string_value(json_object_get(e, "pattern")), "/livez")) {
            saw_public = json_is_true(json_object_get(e, "public"));
            assert_true(json_is_null(json_object_get(e, "permission")));
        }
    }
    assert_true(saw_public);
    json_decref(j);
    router_free(r);
}

static void test_url_decode(void **state)
{
    (void)state;
    arena_t *a = arena_new();
    assert_string_equal(url_decode(a, "a+b%41", 6, true), "a bA");
    assert_string_equal(url_decode(a, "a+b%41", 6, false), "a+bA");
    assert_null(url_decode(a, "%4", 2, false));
    assert_null(url_decode(a, "%zz", 3, false));
    assert_null(url_decode(a, "%", 1, false));
    arena_free(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_literal_and_params), cmocka_unit_test(test_not_found_and_allow),
        cmocka_unit_test(test_rest_param),         cmocka_unit_test(test_json_listing),
        cmocka_unit_test(test_url_decode),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
