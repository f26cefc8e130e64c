/* test_cms.c — the CMS's domain pieces below HTTP: cms_form_submit (the
 * function the contact flow calls) against a real database on SQLite and
 * PostgreSQL, image sniffing, and the router's RT_FALLBACK rule the
 * marketing site relies on. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "contexts/cms/cms.h"
#include "contexts/cms/internal.h"
#include "err.h"
#include "http.h"
#include "migrate.h"
#include "router.h"
#include "testdb.h"

static const char form_json[] =
    "{\"slug\":\"contact\",\"title\":\"Contact\",\"fields\":["
    "{\"name\":\"name\",\"type\":\"text\",\"required\":true,\"max_length\":10},"
    "{\"name\":\"email\",\"type\":\"email\",\"required\":true},"
    "{\"name\":\"budget\",\"type\":\"number\"},"
    "{\"name\":\"services\",\"type\":\"select\",\"multiple\":true,\"choices\":[\"seo\",\"ppc\"]}]}";

static void form_submit_case(bool pg)
{
    testdb_t t;
    if (!testdb_prepare(&t, pg, "cms", "cms.db")) {
        skip();
        return;
    }
    db_t *db = testdb_open(&t);
    assert_true(migrate_apply(db) >= 0);
    const char *tenant = "tenant-cms-1", *other = "tenant-cms-2";
    arena_t *a = arena_new();
    json_t *out = NULL;
    const char *why = NULL;

    assert_int_equal(db_begin(db, tenant, true), 0);
    json_t *form = cms__own(a, json_loads(form_json, 0, NULL));
    assert_int_equal(cms__form_put(db, tenant, NULL, form, true, a, &out, &why), 0);

    json_t *ok = cms__own(a, json_pack("{s:s, s:s, s:s, s:[s,s]}", "name", " Ann ", "email",
                                       "ann@example.com", "budget", "2500", "services", "seo", "ppc"));
    assert_int_equal(cms_form_submit(db, tenant, "contact", ok, "127.0.0.1", a, &out), 0);
    json_t *data = json_object_get(out, "data");
    assert_string_equal(json_string_value(json_object_get(data, "name")), "Ann");
    assert_int_equal(json_integer_value(json_object_get(data, "budget")), 2500);
    assert_int_equal(json_array_size(json_object_get(data, "services")), 2);

    json_t *bad = cms__own(a, json_pack("{s:s, s:s, s:s, s:i}", "name", "far too long a name", "email",
                                        "x@", "services", "tv", "unknown", 1));
    assert_int_equal(cms_form_submit(db, tenant, "contact", bad, NULL, a, &out), ERR_VALIDATION);
    json_t *errors = json_object_get(out, "errors");
    assert_int_equal(json_object_size(errors), 4);
    assert_non_null(json_object_get(errors, "name"));
    assert_non_null(json_object_get(errors, "email"));
    assert_non_null(json_object_get(errors, "services"));
    assert_non_null(json_object_get(errors, "unknown"));
    assert_non_null(json_string_value(json_object_get(out, "message")));
    assert_int_equal(cms_form_submit(db, tenant, "nope", ok, NULL, a, &out), ERR_NOT_FOUND);
    assert_int_equal(db_commit(db), 0);

    /* another tenant has no such form, and does not see the submission */
    assert_int_equal(db_begin(db, other, true), 0);
    assert_int_equal(cms_form_submit(db, other, "contact", ok, NULL, a, &out), ERR_NOT_FOUND);
    int64_t n = -1;
    assert_int_equal(db_query_one_int(db, &n, "SELECT count(*) FROM cms_submissions", DB_NOARGS), 0);
    if (pg) assert_int_equal(n, 0); /* row-level security */
    db_rollback(db);

    assert_int_equal(db_begin(db, tenant, false), 0);
    json_t *items = cms__own(a, json_array());
    bool more = true;
    assert_int_equal(cms__submission_list(db, tenant, "contact", NULL, 10, a, items, &more), 0);
    assert_int_equal(json_array_size(items), 1);
    assert_false(more);
    db_rollback(db);
    arena_free(a);
    testdb_cleanup(&t, db);
}

static void test_form_submit_sqlite(void **state)
{
    (void)state;
    form_submit_case(false);
}

static void test_form_submit_postgres(void **state)
{
    (void)state;
    form_submit_case(true);
}

static void test_media_sniff(void **state)
{
    (void)state;
    const char *ext = NULL;
    assert_string_equal(cms__media_sniff((const unsigned char *)"\x89PNG\r\n\x1a\n....", 12, &ext), "image/png");
    assert_string_equal(ext, "png");
    assert_string_equal(cms__media_sniff((const unsigned char *)"\xff\xd8\xff\xe0", 4, &ext), "image/jpeg");
    assert_string_equal(cms__media_sniff((const unsigned char *)"GIF89a..", 8, &ext), "image/gif");
    assert_string_equal(cms__media_sniff((const unsigned char *)"RIFF\0\0\0\0WEBPVP8 ", 16, &ext), "image/webp");
    assert_null(cms__media_sniff((const unsigned char *)"<svg onload=alert(1)>", 21, &ext));
    assert_null(cms__media_sniff((const unsigned char *)"RIFF\0\0\0\0WAVE", 12, &ext));
    assert_null(cms__media_sniff((const unsigned char *)"\x89PN", 3, &ext));
}

static int h(http_req_t *req, http_res_t *res)
{
    (void)req;
    (void)res;
    return 0;
}

static void test_router_fallback(void **state)
{
    (void)state;
    static const route_t routes[] = {
        {"GET", "/livez", NULL, "live", h, RT_PUBLIC},
        {"POST", "/api/login", NULL, "login", h, RT_PUBLIC},
        {"GET", "/", NULL, "home", h, RT_PUBLIC},
        {"GET", "/{path...}", NULL, "site", h, RT_PUBLIC | RT_FALLBACK},
    };
    router_t *r = router_new();
    router_add(r, routes, 4);
    arena_t *a = arena_new();
    router_match_t m;
    char allow[96];
    assert_int_equal(router_match(r, str_of("GET"), str_of("/livez"), a, &m, allow, sizeof allow), 0);
    assert_ptr_equal(m.route, &routes[0]);
    assert_int_equal(router_match(r, str_of("GET"), str_of("/"), a, &m, allow, sizeof allow), 0);
    assert_ptr_equal(m.route, &routes[2]);
    /* a path another route has keeps its 405 instead of becoming a page */
    assert_int_equal(router_match(r, str_of("GET"), str_of("/api/login"), a, &m, allow, sizeof allow),
                     ERR_METHOD_NOT_ALLOWED);
    assert_string_equal(allow, "POST");
    assert_int_equal(router_match(r, str_of("DELETE"), str_of("/livez"), a, &m, allow, sizeof allow),
                     ERR_METHOD_NOT_ALLOWED);
    assert_string_equal(allow, "GET, HEAD");
    /* nobody else has the path: the fallback, with the rest captured */
    assert_int_equal(router_match(r, str_of("GET"), str_of("/blog/post-1"), a, &m, allow, sizeof allow), 0);
    assert_ptr_equal(m.route, &routes[3]);
    assert_string_equal(m.values[0], "blog/post-1");
    assert_int_equal(router_match(r, str_of("HEAD"), str_of("/about"), a, &m, allow, sizeof allow), 0);
    /* other methods on unknown paths stay 404 */
    assert_int_equal(router_match(r, str_of("POST"), str_of("/about"), a, &m, allow, sizeof allow), ERR_NOT_FOUND);
    arena_free(a);
    router_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_form_submit_sqlite),
        cmocka_unit_test(test_form_submit_postgres),
        cmocka_unit_test(test_media_sniff),
        cmocka_unit_test(test_router_fallback),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
