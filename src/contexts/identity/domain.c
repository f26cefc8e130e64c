/* domain.c — tenant invariants: slug, plan, status and domain names. */
#include "domain.h"

#include <string.h>

static const char *const plans[] = {"free", "starter", "professional", "enterprise", NULL};
static const char *const statuses[] = {"active", "suspended", NULL};

static bool in(const char *v, const char *const *set)
{
    for (; *set; set++)
        if (strcmp(*set, v) == 0) return true;
    return false;
}

const char *tenant_slug_invalid(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > TENANT_SLUG_MAX) return "slug must be 1 to 63 characters";
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
        if (!ok) return "slug may contain only a-z, 0-9 and '-'";
    }
    if (s[0] == '-' || s[n - 1] == '-') return "slug must not start or end with '-'";
    if (strstr(s, "--")) return "slug must not contain '--'";
    return NULL;
}

const char *tenant_plan_invalid(const char *p)
{
    return in(p, plans) ? NULL : "plan must be one of free, starter, professional, enterprise";
}

const char *tenant_status_invalid(const char *s)
{
    return in(s, statuses) ? NULL : "status must be active or suspended";
}

static bool hostname_ok(const char *h)
{
    size_t n = strlen(h), label = 0;
    if (n == 0 || n > HOSTNAME_MAX) return false;
    for (size_t i = 0; i < n; i++) {
        char c = h[i];
        if (c == '.') {
            if (label == 0 || h[i - 1] == '-') return false;
            label = 0;
            continue;
        }
        bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
        if (!ok || (label == 0 && c == '-') || ++label > 63) return false;
    }
    return label > 0 && h[n - 1] != '-';
}

const char *tenant_domains_invalid(const json_t *d)
{
    if (!json_is_array(d)) return "domains must be an array of host names";
    if (json_array_size(d) > TENANT_DOMAINS_MAX) return "at most 20 domains";
    for (size_t i = 0; i < json_array_size(d); i++) {
        json_t *v = json_array_get(d, i);
        if (!json_is_string(v) || !hostname_ok(json_string_value(v)))
            return "each domain must be a lower-case host name";
        for (size_t k = 0; k < i; k++)
            if (json_equal(v, json_array_get(d, k))) return "domains must be distinct";
    }
    return NULL;
}

json_t *tenant_to_json(const tenant_t *t)
{
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:o, s:s, s:s}", "id", t->id, "name", t->name,
                     "slug", t->slug, "status", t->status, "plan", t->plan, "domains",
                     t->domains ? json_incref(t->domains) : json_array(), "created_at",
                     t->created_at, "updated_at", t->updated_at);
}

/* ---- users ---------------------------------------------------------------- */

const char *user_email_invalid(const char *e)
{
    size_t n = strlen(e);
    if (n < 3 || n > USER_EMAIL_MAX) return "email must be 3 to 254 characters";
    const char *at = strchr(e, '@');
    if (!at || strchr(at + 1, '@')) return "email must contain exactly one '@'";
    size_t local = (size_t)(at - e);
    if (local == 0 || local > 64) return "the part of email before '@' must be 1 to 64 characters";
    const char *dom = at + 1;
    size_t dn = strlen(dom);
    if (dn < 3 || !strchr(dom, '.') || dom[0] == '.' || dom[dn - 1] == '.' || strstr(dom, ".."))
        return "email must have a domain such as example.com";
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)e[i];
        if (c <= 0x20 || c == 0x7f || c == ',' || c == ';' || c == '<' || c == '>' || c == '"' ||
            c == '\\' || c == '(' || c == ')' || c == '[' || c == ']')
            return "email contains a character that is not allowed";
        if (c >= 'A' && c <= 'Z') return "email must be lower case";
    }
    return NULL;
}

bool user_email_normalize(const char *e, char *out, size_t cap)
{
    while (*e == ' ' || *e == '\t')
        e++;
    size_t n = strlen(e);
    while (n > 0 && (e[n - 1] == ' ' || e[n - 1] == '\t'))
        n--;
    if (n + 1 > cap) return false;
    for (size_t i = 0; i < n; i++)
        out[i] = (e[i] >= 'A' && e[i] <= 'Z') ? (char)(e[i] - 'A' + 'a') : e[i];
    out[n] = '\0';
    return true;
}

const char *user_roles_parse(const json_t *roles, unsigned *out)
{
    *out = 0;
    if (!json_is_array(roles) || json_array_size(roles) == 0 || json_array_size(roles) > 4)
        return "roles must be a non-empty array of role names";
    size_t i;
    const json_t *v;
    json_array_foreach(roles, i, v)
    {
        if (!json_is_string(v)) return "roles must be a non-empty array of role names";
        int bit = auth_role_parse(json_string_value(v), json_string_length(v));
        if (bit == 0 || bit == ROLE_SERVICE)
            return "each role must be super_admin, tenant_admin, manager or client";
        *out |= (unsigned)bit;
    }
    return NULL;
}

json_t *user_roles_json(unsigned bits)
{
    json_t *a = json_array();
    for (unsigned b = 1; b <= ROLE_SERVICE; b <<= 1)
        if ((bits & b) && auth_role_name(b))
            json_array_append_new(a, json_string(auth_role_name(b)));
    return a;
}

unsigned user_roles_from_text(const char *text)
{
    json_t *a = text ? json_loads(text, 0, NULL) : NULL;
    unsigned bits = 0;
    size_t i;
    json_t *v;
    if (json_is_array(a)) {
        json_array_foreach(a, i, v)
        {
            if (json_is_string(v))
                bits |= (unsigned)auth_role_parse(json_string_value(v), json_string_length(v));
        }
    }
    json_decref(a);
    return bits;
}

bool roles_may_assign(unsigned actor, unsigned target)
{
    if (actor & ROLE_SUPER_ADMIN) return (target & ROLE_SERVICE) == 0;
    if (actor & ROLE_TENANT_ADMIN) return (target & ~USER_ROLES_TENANT) == 0;
    return false;
}

json_t *user_to_json(const user_t *u)
{
    json_t *j = json_pack("{s:s, s:s, s:s, s:s, s:o, s:b, s:b, s:b}", "id", u->id, "tenant_id",
                          u->tenant_id, "email", u->email, "name", u->name ? u->name : "", "roles",
                          user_roles_json(u->roles), "active", u->active, "verified", u->verified,
                          "totp_enabled", u->totp_enabled);
    if (u->created_at) json_object_set_new(j, "created_at", json_string(u->created_at));
    if (u->updated_at) json_object_set_new(j, "updated_at", json_string(u->updated_at));
    json_object_set_new(j, "last_login_at",
                        u->last_login_at ? json_string(u->last_login_at) : json_null());
    return j;
}

/* ---- refresh-token families ------------------------------------------------ */

enum refresh_verdict refresh_decide(const refresh_state_t *s, int64_t now)
{
    if (s->revoked) return REFRESH_REVOKED;
    if (s->used) return REFRESH_REUSED;
    if (now >= s->expires_at) return REFRESH_EXPIRED;
    return REFRESH_OK;
}

/* ---- API keys ---------------------------------------------------------------- */

static bool scope_ok(const char *s, size_t n)
{
    if (n == 0 || n > 63) return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '*'))
            return false;
        /* '*' only as the whole pattern or as the last segment ("x.*") */
        if (c == '*' && !(i == n - 1 && (n == 1 || s[i - 1] == '.'))) return false;
    }
    return true;
}

const char *scopes_invalid(const json_t *scopes)
{
    if (!json_is_array(scopes) || json_array_size(scopes) == 0 ||
        json_array_size(scopes) > APIKEY_SCOPES_MAX)
        return "scopes must be an array of 1 to 32 permission patterns";
    for (size_t i = 0; i < json_array_size(scopes); i++) {
        json_t *v = json_array_get(scopes, i);
        if (!json_is_string(v) || !scope_ok(json_string_value(v), json_string_length(v)))
            return "each scope must be a permission pattern such as leads.view, leads.* or *";
        for (size_t k = 0; k < i; k++)
            if (json_equal(v, json_array_get(scopes, k))) return "scopes must be distinct";
    }
    return NULL;
}

static bool pattern_matches(const char *pattern, const char *perm)
{
    if (strcmp(pattern, "*") == 0) return true;
    size_t pn = strlen(pattern);
    if (pn >= 2 && pattern[pn - 2] == '.' && pattern[pn - 1] == '*')
        return strncmp(pattern, perm, pn - 1) == 0 && perm[pn - 1] != '\0';
    return strcmp(pattern, perm) == 0;
}

bool scopes_permit(const json_t *scopes, const char *permission)
{
    if (!permission || !*permission) return true;
    size_t i;
    const json_t *v;
    json_array_foreach(scopes, i, v)
    {
        if (json_is_string(v) && pattern_matches(json_string_value(v), permission)) return true;
    }
    return false;
}
