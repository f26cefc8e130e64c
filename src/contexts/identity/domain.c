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
                     t->domains ? json_incref(t->domains) : json_array(), "created_at", t->created_at,
                     "updated_at", t->updated_at);
}
