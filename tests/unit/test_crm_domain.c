/* test_crm_domain.c — the CRM's pure rules: the lead score (table-driven
 * from REQUIREMENTS' rule, every threshold, cap and edge), the status
 * machine, validation against the field tables, phone normal forms, and the
 * RFC 4180 CSV reader and writer. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "contexts/crm/csv.h"
#include "contexts/crm/domain.h"
#include "err.h"

static const struct score_case {
    const char *lead; /* JSON */
    int size, budget, services, phone, website, message, total;
} score_cases[] = {
    {"{}", 0, 0, 0, 0, 0, 0, 0},
    /* company size: size / 50, integer division, at most 20 */
    {"{\"company_size\":49}", 0, 0, 0, 0, 0, 0, 0},
    {"{\"company_size\":50}", 1, 0, 0, 0, 0, 0, 1},
    {"{\"company_size\":99}", 1, 0, 0, 0, 0, 0, 1},
    {"{\"company_size\":999}", 19, 0, 0, 0, 0, 0, 19},
    {"{\"company_size\":1000}", 20, 0, 0, 0, 0, 0, 20},
    {"{\"company_size\":1049}", 20, 0, 0, 0, 0, 0, 20},
    {"{\"company_size\":10000000}", 20, 0, 0, 0, 0, 0, 20},
    {"{\"company_size\":null}", 0, 0, 0, 0, 0, 0, 0},
    /* budget thresholds */
    {"{\"budget\":999}", 0, 0, 0, 0, 0, 0, 0},
    {"{\"budget\":1000}", 0, 15, 0, 0, 0, 0, 15},
    {"{\"budget\":4999}", 0, 15, 0, 0, 0, 0, 15},
    {"{\"budget\":5000}", 0, 20, 0, 0, 0, 0, 20},
    {"{\"budget\":9999}", 0, 20, 0, 0, 0, 0, 20},
    {"{\"budget\":10000}", 0, 25, 0, 0, 0, 0, 25},
    {"{\"budget\":999999999}", 0, 25, 0, 0, 0, 0, 25},
    /* services: 5 each, at most 20 */
    {"{\"services\":[]}", 0, 0, 0, 0, 0, 0, 0},
    {"{\"services\":[\"a\"]}", 0, 0, 5, 0, 0, 0, 5},
    {"{\"services\":[\"a\",\"b\",\"c\"]}", 0, 0, 15, 0, 0, 0, 15},
    {"{\"services\":[\"a\",\"b\",\"c\",\"d\"]}", 0, 0, 20, 0, 0, 0, 20},
    {"{\"services\":[\"a\",\"b\",\"c\",\"d\",\"e\",\"f\"]}", 0, 0, 20, 0, 0, 0, 20},
    /* phone and website: present or not */
    {"{\"phone\":\"+1 555 0100 100\"}", 0, 0, 0, 10, 0, 0, 10},
    {"{\"phone\":\"\"}", 0, 0, 0, 0, 0, 0, 0},
    {"{\"website\":\"example.com\"}", 0, 0, 0, 0, 10, 0, 10},
    {"{\"website\":null}", 0, 0, 0, 0, 0, 0, 0},
    /* message: longer than 100 characters (code points, not bytes) */
    {"{\"message\":\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"}",
     0, 0, 0, 0, 0, 0, 0}, /* exactly 100 */
    {"{\"message\":\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"}",
     0, 0, 0, 0, 0, 15, 15}, /* 101 */
    /* 60 two-byte characters: 120 bytes but 60 characters */
    {"{\"message\":\"ééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééé\"}", 0, 0, 0, 0, 0, 0, 0},
    /* everything at its maximum: exactly 100, the cap holds */
    {"{\"company_size\":5000,\"budget\":20000,\"services\":[\"a\",\"b\",\"c\",\"d\",\"e\"],"
     "\"phone\":\"5550100100\",\"website\":\"x.io\",\"message\":\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"}",
     20, 25, 20, 10, 10, 15, 100},
    /* a typical mixed lead */
    {"{\"company_size\":120,\"budget\":6000,\"services\":[\"seo\"],\"phone\":\"+49 30 5550 1234\"}",
     2, 20, 5, 10, 0, 0, 37},
};

static void test_score_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof score_cases / sizeof score_cases[0]; i++) {
        const struct score_case *c = &score_cases[i];
        json_t *lead = json_loads(c->lead, 0, NULL);
        assert_non_null(lead);
        crm_score_t s = crm_score_lead(lead);
        if (s.company_size != c->size || s.budget != c->budget || s.services != c->services ||
            s.phone != c->phone || s.website != c->website || s.message != c->message ||
            s.total != c->total)
            fail_msg("case %zu (%s): got %d/%d/%d/%d/%d/%d = %d", i, c->lead, s.company_size,
                     s.budget, s.services, s.phone, s.website, s.message, s.total);
        json_decref(lead);
    }
}

static void test_score_json_and_priority(void **state)
{
    (void)state;
    crm_score_t s = {.company_size = 1, .budget = 15, .services = 5, .phone = 10, .total = 31};
    json_t *j = crm_score_json(&s);
    assert_int_equal(json_integer_value(json_object_get(j, "total")), 31);
    assert_int_equal(json_integer_value(json_object_get(j, "budget")), 15);
    json_decref(j);
    assert_string_equal(crm_priority(81), "high");
    assert_string_equal(crm_priority(80), "medium");
    assert_string_equal(crm_priority(50), "medium");
    assert_string_equal(crm_priority(49), "low");
}

static void test_status_machine(void **state)
{
    (void)state;
    static const struct { const char *from, *to; bool ok; } moves[] = {
        {"new", "contacted", true},       {"new", "lost", true},
        {"new", "qualified", false},      {"new", "converted", false},
        {"contacted", "qualified", true}, {"contacted", "lost", true},
        {"contacted", "new", false},      {"qualified", "converted", true},
        {"qualified", "lost", true},      {"qualified", "contacted", false},
        {"lost", "new", true},            {"lost", "qualified", false},
        {"converted", "lost", false},     {"converted", "new", false},
        {"new", "new", true},             {"converted", "converted", true},
        {"new", "bogus", false},          {"bogus", "new", false},
    };
    for (size_t i = 0; i < sizeof moves / sizeof moves[0]; i++)
        if (crm_status_can_move(moves[i].from, moves[i].to) != moves[i].ok)
            fail_msg("%s -> %s should be %s", moves[i].from, moves[i].to, moves[i].ok ? "allowed" : "refused");
    json_t *next = crm_status_next("qualified");
    assert_int_equal(json_array_size(next), 2);
    json_decref(next);
}

static int validate(const crm_entity_t *e, const char *text, unsigned mode, json_t **out, char *why)
{
    json_t *in = json_loads(text, 0, NULL);
    assert_non_null(in);
    int rc = crm_validate(e, in, mode, out, why, 256);
    json_decref(in);
    return rc;
}

static void test_validation(void **state)
{
    (void)state;
    char why[256];
    json_t *out;
    assert_int_equal(validate(&crm_lead_entity, "{\"name\":\" Ann \",\"email\":\"Ann@Example.COM\","
                              "\"website\":\"\",\"services\":[\" seo \"]}", CRM_V_CREATE, &out, why), 0);
    assert_string_equal(json_string_value(json_object_get(out, "name")), "Ann");
    assert_string_equal(json_string_value(json_object_get(out, "email")), "ann@example.com");
    assert_true(json_is_null(json_object_get(out, "website")));
    assert_string_equal(json_string_value(json_array_get(json_object_get(out, "services"), 0)), "seo");
    json_decref(out);
    static const struct { const char *in, *field; } bad[] = {
        {"{}", "name"},
        {"{\"name\":\"\"}", "name"},
        {"{\"name\":\"a\",\"bogus\":1}", "bogus"},
        {"{\"name\":\"a\",\"score\":99}", "score"},
        {"{\"name\":\"a\",\"phone_norm\":\"1\"}", "phone_norm"},
        {"{\"name\":\"a\",\"email\":\"not-an-email\"}", "email"},
        {"{\"name\":\"a\",\"phone\":\"12\"}", "phone"},
        {"{\"name\":\"a\",\"phone\":\"call me\"}", "phone"},
        {"{\"name\":\"a\",\"website\":\"javascript:alert(1)\"}", "website"},
        {"{\"name\":\"a\",\"company_size\":-1}", "company_size"},
        {"{\"name\":\"a\",\"budget\":\"lots\"}", "budget"},
        {"{\"name\":\"a\",\"services\":[\"x\",\"x\"]}", "services"},
        {"{\"name\":\"a\",\"services\":\"seo\"}", "services"},
        {"{\"name\":\"a\",\"status\":\"won\"}", "status"},
        {"{\"name\":\"a\",\"owner_id\":\"ABC\"}", "owner_id"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (validate(&crm_lead_entity, bad[i].in, CRM_V_CREATE, &out, why) != ERR_VALIDATION)
            fail_msg("accepted %s", bad[i].in);
        if (!strstr(why, bad[i].field)) fail_msg("%s: message '%s' does not name %s", bad[i].in, why, bad[i].field);
        assert_null(out);
    }
    /* updates: at least one field; text mode parses numbers and lists */
    assert_int_equal(validate(&crm_lead_entity, "{}", 0, &out, why), ERR_VALIDATION);
    assert_int_equal(validate(&crm_lead_entity, "{\"name\":\"b\",\"budget\":\" 5000 \",\"services\":\"a; b;\"}",
                              CRM_V_CREATE | CRM_V_TEXT, &out, why), 0);
    assert_int_equal(json_integer_value(json_object_get(out, "budget")), 5000);
    assert_int_equal(json_array_size(json_object_get(out, "services")), 2);
    json_decref(out);
    assert_int_equal(validate(&crm_lead_entity, "{\"name\":\"b\",\"budget\":\"5k\"}", CRM_V_CREATE | CRM_V_TEXT, &out, why),
                     ERR_VALIDATION);
    /* deals and activities */
    assert_int_equal(validate(&crm_deal_entity, "{\"name\":\"d\",\"currency\":\"usd\"}", CRM_V_CREATE, &out, why), ERR_VALIDATION);
    assert_int_equal(validate(&crm_deal_entity, "{\"name\":\"d\",\"expected_close\":\"2026-02-30\"}", CRM_V_CREATE, &out, why), ERR_VALIDATION);
    assert_int_equal(validate(&crm_deal_entity, "{\"name\":\"d\",\"expected_close\":\"2028-02-29\",\"currency\":\"EUR\",\"probability\":100}",
                              CRM_V_CREATE, &out, why), 0);
    json_decref(out);
    assert_int_equal(validate(&crm_deal_entity, "{\"name\":\"d\",\"probability\":101}", CRM_V_CREATE, &out, why), ERR_VALIDATION);
    assert_int_equal(validate(&crm_activity_entity, "{\"kind\":\"task\",\"subject\":\"s\",\"due_at\":\"2026-03-01T10:00:00+02:00\"}",
                              CRM_V_CREATE, &out, why), 0);
    assert_string_equal(json_string_value(json_object_get(out, "due_at")), "2026-03-01T08:00:00.000Z");
    json_decref(out);
    assert_int_equal(validate(&crm_activity_entity, "{\"kind\":\"fax\",\"subject\":\"s\"}", CRM_V_CREATE, &out, why), ERR_VALIDATION);
    assert_int_equal(validate(&crm_activity_entity, "{\"kind\":\"task\",\"subject\":\"s\",\"due_at\":\"tomorrow\"}", CRM_V_CREATE, &out, why),
                     ERR_VALIDATION);
}

static void test_phone_norm(void **state)
{
    (void)state;
    char out[32];
    assert_true(crm_phone_norm("+1 (415) 555-0101", out, sizeof out));
    assert_string_equal(out, "+14155550101");
    assert_true(crm_phone_norm(" 415.555.0101", out, sizeof out));
    assert_string_equal(out, "4155550101");
    assert_false(crm_phone_norm("555-01", out, sizeof out));
    assert_string_equal(out, "");
    assert_false(crm_phone_norm("1234567890123", out, 8));
}

/* records: parses text and returns the records joined as "a|b;c|d;" with
 * errors as "!line;" */
static char *records(const char *text, size_t n)
{
    csv_reader_t r;
    csv_init(&r, text, n);
    buf_t b;
    buf_init(&b);
    int rc;
    while ((rc = csv_next(&r)) != 0) {
        if (rc < 0) {
            buf_printf(&b, "!%zu;", r.record_line);
            continue;
        }
        for (size_t i = 0; i < r.nfields; i++)
            buf_printf(&b, "%s%s", i ? "|" : "", csv_field(&r, i, NULL));
        buf_printf(&b, "@%zu;", r.record_line);
    }
    csv_cleanup(&r);
    size_t len;
    char *s = buf_release(&b, &len);
    if (len == 0) {
        free(s);
        return strdup("");
    }
    return s;
}

static void test_csv_reader(void **state)
{
    (void)state;
    static const struct { const char *in, *want; } cases[] = {
        {"a,b\r\nc,d\r\n", "a|b@1;c|d@2;"},
        {"a,b\nc,d", "a|b@1;c|d@2;"},
        {"a,b\rc,d\r", "a|b@1;c|d@2;"},
        {"\"a,1\",\"say \"\"hi\"\"\"\n", "a,1|say \"hi\"@1;"},
        {"\"multi\r\nline\",x\ny,z\n", "multi\r\nline|x@1;y|z@3;"},
        {",,\n", "||@1;"},
        {"\"\"\n", "@1;"},
        {"a\n\n\nb\n", "a@1;b@4;"},
        {"\xEF\xBB\xBFh1,h2\n", "h1|h2@1;"},
        {"a\"b,c\nd,e\n", "!1;d|e@2;"},
        {"\"a\"x,c\nd,e\n", "!1;d|e@2;"},
        {"ok\n\"never closed,\nx\n", "ok@1;!2;"},
        {"", ""},
        {"lone", "lone@1;"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *got = records(cases[i].in, strlen(cases[i].in));
        if (strcmp(got, cases[i].want)) fail_msg("case %zu: got '%s', want '%s'", i, got, cases[i].want);
        free(got);
    }
    /* an embedded NUL is refused */
    char *got = records("a\0b\nc\n", 6);
    assert_string_equal(got, "!1;c@2;");
    free(got);
}

static void test_csv_writer(void **state)
{
    (void)state;
    static const struct { const char *in, *want; } cases[] = {
        {"plain", "plain"},        {"a,b", "\"a,b\""},         {"say \"x\"", "\"say \"\"x\"\"\""},
        {"two\nlines", "\"two\nlines\""}, {"=1+1", "\"'=1+1\""}, {"@SUM(A1)", "\"'@SUM(A1)\""},
        {"+1 415 555 0101", "+1 415 555 0101"}, {"+cmd|x", "\"'+cmd|x\""}, {" pad", "\" pad\""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        buf_t b;
        buf_init(&b);
        csv_write_field(&b, cases[i].in);
        if (strcmp(b.p ? b.p : "", cases[i].want)) fail_msg("case %zu: got %s", i, b.p);
        /* and every written field reads back (apostrophe aside) */
        char *back = records(b.p, b.n);
        assert_non_null(strstr(back, "@1;"));
        free(back);
        buf_cleanup(&b);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_score_table),  cmocka_unit_test(test_score_json_and_priority),
        cmocka_unit_test(test_status_machine), cmocka_unit_test(test_validation),
        cmocka_unit_test(test_phone_norm),   cmocka_unit_test(test_csv_reader),
        cmocka_unit_test(test_csv_writer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
