/* test_identity_domain.c — identity's invariants without I/O: e-mail
 * addresses, roles and who may assign them, the refresh-token family rule
 * (rotation, reuse, revocation, expiry), API-key scopes, tenant fields. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "contexts/identity/domain.h"

static void test_email(void **state)
{
    (void)state;
    assert_null(user_email_invalid("ada@example.com"));
    assert_null(user_email_invalid("a.b+tag@sub.example.co"));
    const char *bad[] = {"",
                         "ab",
                         "no-at.example.com",
                         "a@@example.com",
                         "a@b@example.com",
                         "@example.com",
                         "a@example",
                         "a@.example.com",
                         "a@example.com.",
                         "a@ex..ample.com",
                         "a b@example.com",
                         "a@example.com\n",
                         "Ada@example.com",
                         "a<b>@example.com",
                         "\"q\"@example.com"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_non_null(user_email_invalid(bad[i]));
    char local[80];
    memset(local, 'a', 65);
    strcpy(local + 65, "@example.com");
    assert_non_null(user_email_invalid(local)); /* local part over 64 */
    char out[64];
    assert_true(user_email_normalize("  Ada@Example.COM\t", out, sizeof out));
    assert_string_equal(out, "ada@example.com");
    assert_false(user_email_normalize("ada@example.com", out, 5));
}

static void test_roles(void **state)
{
    (void)state;
    unsigned r = 0;
    json_t *j = json_pack("[s, s]", "manager", "client");
    assert_null(user_roles_parse(j, &r));
    assert_int_equal(r, ROLE_MANAGER | ROLE_CLIENT);
    json_decref(j);
    const char *bad[] = {"[]", "[\"owner\"]", "[\"service\"]", "[1]", "\"manager\"", "{}"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        j = json_loads(bad[i], JSON_DECODE_ANY, NULL);
        assert_non_null(user_roles_parse(j, &r));
        json_decref(j);
    }
    j = user_roles_json(ROLE_TENANT_ADMIN | ROLE_CLIENT);
    char *s = json_dumps(j, JSON_COMPACT);
    assert_string_equal(s, "[\"tenant_admin\",\"client\"]");
    assert_int_equal(user_roles_from_text(s), ROLE_TENANT_ADMIN | ROLE_CLIENT);
    free(s);
    json_decref(j);
    assert_int_equal(user_roles_from_text("not json"), 0);
    assert_int_equal(user_roles_from_text(NULL), 0);

    /* who may give which roles */
    assert_true(roles_may_assign(ROLE_SUPER_ADMIN, ROLE_SUPER_ADMIN));
    assert_false(roles_may_assign(ROLE_SUPER_ADMIN, ROLE_SERVICE));
    assert_true(roles_may_assign(ROLE_TENANT_ADMIN, ROLE_TENANT_ADMIN | ROLE_MANAGER));
    assert_false(roles_may_assign(ROLE_TENANT_ADMIN, ROLE_SUPER_ADMIN));
    assert_false(roles_may_assign(ROLE_MANAGER, ROLE_TENANT_ADMIN));
    assert_false(roles_may_assign(ROLE_MANAGER, ROLE_CLIENT));
    assert_false(roles_may_assign(ROLE_CLIENT, ROLE_CLIENT));
}

static void test_refresh_family_rule(void **state)
{
    (void)state;
    int64_t now = 1000;
    refresh_state_t fresh = {.expires_at = 2000};
    assert_int_equal(refresh_decide(&fresh, now), REFRESH_OK);
    refresh_state_t used = {.expires_at = 2000, .used = true};
    assert_int_equal(refresh_decide(&used, now), REFRESH_REUSED);
    /* a replay after expiry still signals theft */
    assert_int_equal(refresh_decide(&used, 5000), REFRESH_REUSED);
    refresh_state_t expired = {.expires_at = 1000};
    assert_int_equal(refresh_decide(&expired, now), REFRESH_EXPIRED);
    /* a revoked family stays revoked, whatever else is true */
    refresh_state_t revoked = {.expires_at = 2000, .used = true, .revoked = true};
    assert_int_equal(refresh_decide(&revoked, now), REFRESH_REVOKED);
    refresh_state_t revoked_fresh = {.expires_at = 2000, .revoked = true};
    assert_int_equal(refresh_decide(&revoked_fresh, now), REFRESH_REVOKED);
}

static void test_scopes(void **state)
{
    (void)state;
    json_t *s = json_pack("[s, s]", "leads.*", "users.view");
    assert_null(scopes_invalid(s));
    assert_true(scopes_permit(s, "leads.view"));
    assert_true(scopes_permit(s, "leads.notes.edit"));
    assert_true(scopes_permit(s, "users.view"));
    assert_true(scopes_permit(s, NULL));
    assert_false(scopes_permit(s, "users.create"));
    assert_false(scopes_permit(s, "leadsx.view"));
    assert_false(scopes_permit(s, "leads"));
    json_decref(s);
    s = json_pack("[s]", "*");
    assert_null(scopes_invalid(s));
    assert_true(scopes_permit(s, "anything.at.all"));
    json_decref(s);
    const char *bad[] = {"[]",        "[\"\"]", "[\"Leads.view\"]", "[\"a*\"]", "[\"*.view\"]",
                         "[\"a b\"]", "[1]",    "[\"x\", \"x\"]",   "\"*\""};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        json_t *j = json_loads(bad[i], JSON_DECODE_ANY, NULL);
        assert_non_null(scopes_invalid(j));
        json_decref(j);
    }
}

static void test_tenant_fields(void **state)
{
    (void)state;
    assert_null(tenant_slug_invalid("demo"));
    assert_null(tenant_slug_invalid("ada-co-1a2b3c"));
    assert_non_null(tenant_slug_invalid("-demo"));
    assert_non_null(tenant_slug_invalid("de--mo"));
    assert_non_null(tenant_slug_invalid("Demo"));
    json_t *d = json_pack("[s, s]", "localhost", "shop.example.com");
    assert_null(tenant_domains_invalid(d));
    json_decref(d);
    d = json_pack("[s]", "Bad_Host");
    assert_non_null(tenant_domains_invalid(d));
    json_decref(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_email),
        cmocka_unit_test(test_roles),
        cmocka_unit_test(test_refresh_family_rule),
        cmocka_unit_test(test_scopes),
        cmocka_unit_test(test_tenant_fields),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
