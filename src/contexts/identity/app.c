/* app.c — identity use cases: create and update tenants. */
#include "app.h"

#include <string.h>

#include "clock.h"
#include "err.h"
#include "ids.h"
#include "repo.h"

static int check(const tenant_input_t *in, const char **why)
{
    if (in->slug && (*why = tenant_slug_invalid(in->slug))) return ERR_VALIDATION;
    if (in->plan && (*why = tenant_plan_invalid(in->plan))) return ERR_VALIDATION;
    if (in->status && (*why = tenant_status_invalid(in->status))) return ERR_VALIDATION;
    if (in->domains && (*why = tenant_domains_invalid(in->domains))) return ERR_VALIDATION;
    return 0;
}

int idn_tenant_create(db_t *db, arena_t *a, const tenant_input_t *in, tenant_t *out,
                      const char **why)
{
    int rc = check(in, why);
    if (rc < 0) return rc;
    char *id = arena_alloc(a, 40);
    id_uuidv7(id);
    char *now = arena_alloc(a, 32);
    clock_rfc3339(clock_now_ms(), now);
    *out = (tenant_t){
        .id = id,
        .name = in->name,
        .slug = in->slug,
        .status = in->status ? in->status : "active",
        .plan = in->plan ? in->plan : "free",
        .domains = in->domains,
        .created_at = now,
        .updated_at = now,
    };
    json_t *empty = NULL;
    if (!out->domains) out->domains = empty = json_array();
    rc = repo_tenant_insert(db, out);
    if (rc == ERR_EXISTS) *why = "a tenant with this slug already exists";
    if (empty) {
        out->domains = NULL;
        json_decref(empty);
    }
    return rc;
}

int idn_tenant_update(db_t *db, arena_t *a, const char *id, const tenant_input_t *in, tenant_t *out,
                      const char *actor, const char *ip, const char **why)
{
    int rc = check(in, why);
    if (rc < 0) return rc;
    if (in->slug) {
        *why = "slug cannot be changed";
        return ERR_VALIDATION;
    }
    if ((rc = repo_tenant_get(db, a, NULL, id, out)) < 0) return rc;
    if (in->name) out->name = in->name;
    if (in->plan) out->plan = in->plan;
    const char *event = NULL;
    if (in->status && strcmp(in->status, out->status) != 0)
        event = strcmp(in->status, "suspended") == 0 ? "tenant.suspended" : "tenant.activated";
    if (in->status) out->status = in->status;
    if (in->domains) out->domains = in->domains;
    char *now = arena_alloc(a, 32);
    clock_rfc3339(clock_now_ms(), now);
    out->updated_at = now;
    if ((rc = repo_tenant_update(db, out)) < 0) return rc;
    /* suspension ends every session of the tenant at once (the request
     * hook refuses its tokens); it is a security event */
    return event ? idn__audit(db, out->id, event, actor, out->id, ip, NULL) : 0;
}

int idn_tenant_set_require_mfa(db_t *db, const char *tenant_id, bool on, const char *actor,
                               const char *ip)
{
    int rc = repo_tenant_set_require_mfa(db, tenant_id, on);
    if (rc == 0)
        rc = idn__audit(db, tenant_id, "tenant.require_mfa", actor, tenant_id, ip,
                        json_pack("{s:b}", "require_mfa", on));
    return rc;
}
