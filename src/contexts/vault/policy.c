/* policy.c — vault paths and policies: role → path prefix → capabilities.
 *
 * The table below is the whole policy. A prefix may contain "{tenant}",
 * replaced by the caller's tenant id, and "*", which matches one path
 * segment. A policy applies to a path when the path starts with the
 * expanded prefix (an empty prefix matches everything). The capabilities of
 * a caller on a path are the union over every policy of every role it has.
 *
 * Tenant isolation is decided before policies: a caller without a platform
 * role that names "tenant/{another}/…" gets ERR_NOT_FOUND — the same answer
 * as for a path that does not exist, so tenant ids cannot be probed.
 */
#include <stdio.h>
#include <string.h>

#include "auth.h"
#include "err.h"
#include "vault_internal.h"

typedef struct policy {
    unsigned roles;
    const char *prefix;
    unsigned caps;
} policy_t;

static const policy_t policies[] = {
    {ROLE_SUPER_ADMIN, "", VCAP_ALL},
    {ROLE_SERVICE, "tenant/*/", VCAP_READ | VCAP_LIST},
    {ROLE_TENANT_ADMIN, "tenant/{tenant}/", VCAP_ALL},
    {ROLE_MANAGER, "tenant/{tenant}/", VCAP_READ | VCAP_LIST},
    /* client: no access */
};

bool vault__is_platform(const vault_caller_t *c)
{
    return (c->roles & (ROLE_SUPER_ADMIN | ROLE_SERVICE)) != 0;
}

int vault__path_check(arena_t *a, const char *raw, bool allow_empty, vault_path_t *out)
{
    memset(out, 0, sizeof *out);
    if (!raw) raw = "";
    size_t n = strlen(raw);
    if (n && raw[0] == '/') {
        raw++;
        n--;
    }
    if (n && raw[n - 1] == '/') n--;
    if (n == 0 && !allow_empty) return ERR_VALIDATION;
    if (n > VAULT_MAX_PATH) return ERR_VALIDATION;
    const char *seg = raw;
    for (size_t i = 0; i <= n; i++) {
        if (i < n && ((unsigned char)raw[i] < 0x21 || raw[i] == 0x7f)) return ERR_VALIDATION;
        if (i == n || raw[i] == '/') {
            size_t sl = (size_t)(raw + i - seg);
            if (n && (sl == 0 || (sl == 1 && seg[0] == '.') ||
                      (sl == 2 && seg[0] == '.' && seg[1] == '.')))
                return ERR_VALIDATION;
            seg = raw + i + 1;
        }
    }
    out->path = arena_strndup(a, raw, n);
    /* storage tenant */
    if (strncmp(out->path, "tenant/", 7) == 0 || strcmp(out->path, "tenant") == 0) {
        const char *t = out->path[6] ? out->path + 7 : "";
        size_t tl = strcspn(t, "/");
        if (tl == 0) {
            out->tenant[0] = '\0'; /* "tenant" or "tenant/": a list prefix */
            return allow_empty ? 0 : ERR_VALIDATION;
        }
        if (tl >= sizeof out->tenant || t[0] == '_') return ERR_VALIDATION;
        memcpy(out->tenant, t, tl);
        out->tenant[tl] = '\0';
        /* a secret lives below its tenant segment */
        if (!t[tl] && !allow_empty) return ERR_VALIDATION;
    } else if (n) {
        snprintf(out->tenant, sizeof out->tenant, "%s", VAULT_PLATFORM_TENANT);
    } /* else "": the root list prefix spans every storage tenant */
    return 0;
}

/* prefix_matches: path starts with the expanded policy prefix. */
static bool prefix_matches(const char *prefix, const char *tenant, const char *path)
{
    const char *p = prefix, *s = path;
    while (*p) {
        if (strncmp(p, "{tenant}", 8) == 0) {
            size_t tl = strlen(tenant);
            if (tl == 0 || strncmp(s, tenant, tl) != 0) return false;
            s += tl;
            p += 8;
        } else if (*p == '*') {
            size_t sl = strcspn(s, "/");
            if (sl == 0) return false;
            s += sl;
            p++;
        } else {
            if (*s != *p) {
                /* the path names the prefix itself without its final '/' */
                return *p == '/' && p[1] == '\0' && *s == '\0';
            }
            s++;
            p++;
        }
    }
    return true;
}

unsigned vault__caps(const vault_caller_t *c, const char *path)
{
    unsigned caps = 0;
    for (size_t i = 0; i < sizeof policies / sizeof policies[0]; i++)
        if ((policies[i].roles & c->roles) && prefix_matches(policies[i].prefix, c->tenant_id, path))
            caps |= policies[i].caps;
    return caps;
}

int vault__authorize(const vault_caller_t *c, const vault_path_t *p, unsigned cap)
{
    if (!vault__is_platform(c) && p->tenant[0] &&
        strcmp(p->tenant, VAULT_PLATFORM_TENANT) != 0 && strcmp(p->tenant, c->tenant_id) != 0)
        return ERR_NOT_FOUND;
    return (vault__caps(c, p->path) & cap) == cap ? 0 : ERR_FORBIDDEN;
}
