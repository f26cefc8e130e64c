/* http.c — identity's tenant routes under /api/v1/auth/tenants, and the
 * registration of the context's other route tables (http_auth.c,
 * http_admin.c). */
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "err.h"
#include "http.h"
#include "identity.h"
#include "internal.h"
#include "repo.h"

#define PAGE_DEFAULT 50
#define PAGE_MAX 200

/* scope_of: platform scope (NULL) for super_admin and service tokens. */
static const char *scope_of(const http_req_t *req)
{
    if (req->auth.roles & (ROLE_SUPER_ADMIN | ROLE_SERVICE)) return NULL;
    return req->auth.tenant_id;
}

static int read_input(http_req_t *req, http_res_t *res, bool create, tenant_input_t *in)
{
    int rc;
    json_t *body = http_body_json(req, res, &rc);
    if (!body) return rc;
    static const char *const allowed[] = {"name", "slug", "plan", "status", "domains", NULL};
    if ((rc = json_reject_unknown(res, body, allowed)) < 0) return rc;
    memset(in, 0, sizeof *in);
    if ((rc = json_field_str(res, body, "name", create, TENANT_NAME_MAX, &in->name)) < 0) return rc;
    if ((rc = json_field_str(res, body, "slug", create, TENANT_SLUG_MAX, &in->slug)) < 0) return rc;
    if ((rc = json_field_str(res, body, "plan", false, 32, &in->plan)) < 0) return rc;
    if ((rc = json_field_str(res, body, "status", false, 32, &in->status)) < 0) return rc;
    json_t *d = json_object_get(body, "domains");
    if (d && !json_is_null(d)) in->domains = d;
    if (!create && !in->name && !in->slug && !in->plan && !in->status && !in->domains)
        return http_error(res, ERR_VALIDATION, "nothing to update");
    return 0;
}

static void (*g_plan_hook)(const char *tenant_id, const char *plan);

void identity_on_plan_change(void (*fn)(const char *tenant_id, const char *plan))
{
    g_plan_hook = fn;
}

typedef struct plan_change {
    const char *tenant_id, *plan; /* in the request's arena */
} plan_change_t;

static void plan_changed(void *arg)
{
    plan_change_t *pc = arg;
    g_plan_hook(pc->tenant_id, pc->plan);
}

/* report_plan: tells the hook about t's plan once the request committed. */
static void report_plan(http_req_t *req, const tenant_t *t)
{
    if (!g_plan_hook) return;
    plan_change_t *pc = arena_alloc(req->arena, sizeof *pc);
    pc->tenant_id = arena_strdup(req->arena, t->id);
    pc->plan = arena_strdup(req->arena, t->plan);
    http_after_commit(req, plan_changed, pc);
}

static int tenant_create(http_req_t *req, http_res_t *res)
{
    tenant_input_t in;
    int rc = read_input(req, res, true, &in);
    if (rc < 0) return rc;
    tenant_t t;
    const char *why = NULL;
    rc = idn_tenant_create(req->db, req->arena, &in, &t, &why);
    if (rc < 0) return http_error(res, rc, "%s", why ? why : err_message(rc));
    report_plan(req, &t);
    return http_json(res, 201, tenant_to_json(&t));
}

static int tenant_get(http_req_t *req, http_res_t *res)
{
    tenant_t t;
    const char *id = http_param(req, "id");
    int rc = repo_tenant_get(req->db, req->arena, scope_of(req), id, &t);
    if (rc == ERR_NOT_FOUND) return http_error(res, rc, "tenant not found");
    if (rc < 0) return http_error(res, rc, NULL);
    return http_json(res, 200, tenant_to_json(&t));
}

static int tenant_list(http_req_t *req, http_res_t *res)
{
    int64_t limit = PAGE_DEFAULT;
    const char *l = http_query(req, "limit");
    if (l) {
        char *end;
        limit = strtoll(l, &end, 10);
        if (!*l || *end || limit < 1 || limit > PAGE_MAX)
            return http_error(res, ERR_VALIDATION, "limit must be an integer from 1 to %d",
                              PAGE_MAX);
    }
    const char *cursor = http_query(req, "cursor");
    json_t *items = json_array();
    bool more = false;
    int rc = repo_tenant_list(req->db, req->arena, scope_of(req), cursor, (int)limit, items, &more);
    if (rc < 0) {
        json_decref(items);
        return http_error(res, rc, NULL);
    }
    json_t *last =
        json_array_size(items) ? json_array_get(items, json_array_size(items) - 1) : NULL;
    json_t *next = more && last ? json_incref(json_object_get(last, "id")) : json_null();
    return http_json(res, 200, json_pack("{s:o, s:o}", "items", items, "next_cursor", next));
}

static int tenant_update(http_req_t *req, http_res_t *res)
{
    tenant_input_t in;
    int rc = read_input(req, res, false, &in);
    if (rc < 0) return rc;
    tenant_t t;
    const char *why = NULL;
    rc = idn_tenant_update(req->db, req->arena, http_param(req, "id"), &in, &t, req->auth.user_id,
                           req->remote_addr, &why);
    if (rc == ERR_NOT_FOUND) return http_error(res, rc, "tenant not found");
    if (rc < 0) return http_error(res, rc, "%s", why ? why : err_message(rc));
    if (in.plan) report_plan(req, &t);
    return http_json(res, 200, tenant_to_json(&t));
}

static const route_t routes[] = {
    {"POST", "/api/v1/auth/tenants", "platform.tenants", "Create a tenant (super_admin)",
     tenant_create, RT_PLATFORM},
    {"GET", "/api/v1/auth/tenants", "tenant.view", "List tenants (own tenant unless super_admin)",
     tenant_list, RT_PLATFORM},
    {"GET", "/api/v1/auth/tenants/{id}", "tenant.view",
     "Get a tenant (another tenant's is 404 unless super_admin)", tenant_get, RT_PLATFORM},
    {"PATCH", "/api/v1/auth/tenants/{id}", "platform.tenants",
     "Update a tenant's name, plan, status or domains (super_admin)", tenant_update, RT_PLATFORM},
};

void identity_register(router_t *r)
{
    router_add(r, routes, sizeof routes / sizeof routes[0]);
    idn__routes_auth(r);
    idn__routes_admin(r);
}
