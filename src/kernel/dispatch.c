/* dispatch.c — from a complete request to a response: routing,
 * authentication, permission, and running the handler (inline on the I/O
 * thread or on a worker inside one database transaction with the tenant
 * context set, with idempotency keys honoured). */
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "err.h"
#include "idem.h"
#include "ids.h"
#include "log.h"
#include "server_internal.h"

static http_request_hook_fn g_request_hook;
static const http_gateway_ops_t *g_gateway;

void http_set_request_hook(http_request_hook_fn fn) { g_request_hook = fn; }
void http_set_gateway(const http_gateway_ops_t *ops) { g_gateway = ops; }

static bool is_write_method(str_t m)
{
    return !(str_eq_cstr(m, "GET") || str_eq_cstr(m, "HEAD") || str_eq_cstr(m, "OPTIONS"));
}

/* The worker side of a request. */
static void run_job(pool_job_t *pj, db_t *db)
{
    job_t *j = (job_t *)pj;
    conn_t *c = j->conn;
    http_req_t *req = &c->req;
    http_res_t *res = &c->res;
    const route_t *rt = req->route;
    req->db = db;
    if (rt->flags & RT_NO_TX) { /* such handlers check req->db themselves */
        rt->handler(req, res);
        return;
    }
    if (!db) {
        http_error(res, ERR_DB_UNAVAILABLE, "the database is unavailable; retry later");
        return;
    }
    if (g_request_hook && (req->authenticated || req->api_key)) {
        if (g_request_hook(db, req, res) < 0) return;
        if (req->api_key && !req->authenticated) {
            http_error(res, ERR_UNAUTHORIZED, "the API key is invalid or revoked");
            return;
        }
    } else if (req->api_key && !(rt->flags & RT_PUBLIC)) {
        http_error(res, ERR_UNAUTHORIZED, "API keys are not accepted here");
        return;
    }
    if (!(rt->flags & RT_PUBLIC) && !auth_permits(req->auth.roles, rt->permission)) {
        http_error(res, ERR_FORBIDDEN, "permission %s is required", rt->permission);
        return;
    }
    const char *tenant = req->authenticated && req->auth.tenant_id[0] ? req->auth.tenant_id : NULL;
    const char *key = str_eq_cstr(req->method, "POST") ? http_header(req, "Idempotency-Key") : NULL;
    /* Keys are scoped per tenant; a caller without one (a platform
     * super_admin or service token) gets a scope of its own. */
    const char *scope = tenant;
    if (!scope && req->authenticated)
        scope = arena_printf(req->arena, "platform:%s", req->auth.user_id);
    bool claimed = false;
    if (key && scope) {
        if (!idem_key_ok(key)) {
            http_error(res, ERR_VALIDATION, "Idempotency-Key must be 1..%d visible ASCII characters",
                       IDEM_KEY_MAX);
            return;
        }
        char hash[65];
        idem_hash(req, hash);
        int rc = idem_claim(db, scope, key, hash, c->loop->srv->cfg->idempotency_ttl_s,
                            (int64_t)time(NULL), res);
        if (rc == 1) return; /* replayed */
        if (rc < 0) {
            http_error(res, rc, NULL);
            return;
        }
        claimed = true;
    }
    bool write = is_write_method(req->method);
    bool platform = (rt->flags & RT_PLATFORM) && req->authenticated &&
                    (req->auth.roles & (ROLE_SUPER_ADMIN | ROLE_SERVICE));
    int rc = platform ? db_begin_platform(db, write) : db_begin(db, tenant, write);
    if (rc < 0) {
        log_kv(LOG_ERROR, "cannot begin transaction", "error", db_errmsg(db), "request_id",
               req->request_id, NULL);
        http_error(res, rc == ERR_DB_UNAVAILABLE ? rc : ERR_DB_UNAVAILABLE, NULL);
        if (claimed) idem_release(db, scope, key);
        return;
    }
    rc = rt->handler(req, res);
    if (rc == 0 && res->status < 400) {
        if (claimed) rc = idem_store(db, scope, key, res);
        if (rc == 0) rc = db_commit(db);
        if (rc == 0) return;
        log_kv(LOG_ERROR, "commit failed", "error", db_errmsg(db), "request_id", req->request_id,
               NULL);
        db_rollback(db);
        http_res_cleanup(res);
        http_res_init(res);
        res->request_id = req->request_id;
        http_error(res, rc == ERR_EXISTS || rc == ERR_CONFLICT ? rc : ERR_DB, NULL);
    } else {
        if (rc < 0 && res->status < 400) http_error(res, rc, NULL);
        if (rc == ERR_DB || rc == ERR_DB_UNAVAILABLE)
            log_kv(LOG_ERROR, "database error in handler", "error", db_errmsg(db), "route",
                   rt->pattern, "request_id", req->request_id, NULL);
        db_rollback(db);
    }
    if (claimed) idem_release(db, scope, key);
}

/* complete: on the worker thread; hands the job back to its I/O loop. */
static void complete_job(pool_job_t *pj)
{
    job_t *j = (job_t *)pj;
    io_loop_t *l = j->conn->loop;
    stream_release(j->conn); /* RT_STREAM: the handler is done with the socket */
    pthread_mutex_lock(&l->mu);
    j->next_done = NULL;
    if (l->done_tail)
        l->done_tail->next_done = j;
    else
        l->done_head = j;
    l->done_tail = j;
    pthread_mutex_unlock(&l->mu);
    uv_async_send(&l->wakeup);
}

/* admin_token_matches: "Bearer <BIZOSAAS_ADMIN_TOKEN>", compared in
 * constant time. */
static bool admin_token_matches(const config_t *cfg, const char *authz)
{
    if (!cfg->admin_token || !*cfg->admin_token || strncasecmp(authz, "Bearer ", 7) != 0)
        return false;
    const char *tok = authz + 7;
    size_t n = strlen(cfg->admin_token);
    return strlen(tok) == n && sodium_memcmp(tok, cfg->admin_token, n) == 0;
}

/* tenant_override: a client's X-Tenant-ID is never trusted, except from a
 * super_admin or a platform service token acting inside one tenant; each
 * such use is logged. For everyone else the header is simply not read. */
static int tenant_override(conn_t *c)
{
    http_req_t *req = &c->req;
    const char *t = http_header(req, "X-Tenant-ID");
    if (!t || !(req->auth.roles & (ROLE_SUPER_ADMIN | ROLE_SERVICE))) return 0;
    size_t n = strlen(t);
    bool ok = n > 0 && n < sizeof req->auth.tenant_id;
    for (size_t i = 0; ok && i < n; i++)
        ok = (t[i] >= 'a' && t[i] <= 'z') || (t[i] >= 'A' && t[i] <= 'Z') ||
             (t[i] >= '0' && t[i] <= '9') || t[i] == '-' || t[i] == '_';
    if (!ok) return http_error(&c->res, ERR_VALIDATION, "X-Tenant-ID is malformed");
    memcpy(req->auth.tenant_id, t, n + 1);
    log_kv(LOG_INFO, "tenant chosen by X-Tenant-ID", "tenant_id", t, "user_id", req->auth.user_id,
           "path", req->raw_path, "request_id", req->request_id, NULL);
    return 0;
}

static int authenticate(conn_t *c, bool required)
{
    http_req_t *req = &c->req;
    const char *authz = http_header(req, "Authorization");
    if (!authz) {
        if (!required) return 0;
        return http_error(&c->res, ERR_UNAUTHORIZED, "a bearer token is required");
    }
    if (strncasecmp(authz, "Bearer bzk_", 11) == 0) {
        /* an API key: looked up in the database on the worker */
        req->api_key = authz + 7;
        return 0;
    }
    if (admin_token_matches(c->loop->srv->cfg, authz)) {
        memset(&req->auth, 0, sizeof req->auth);
        req->auth.roles = ROLE_SERVICE;
        snprintf(req->auth.user_id, sizeof req->auth.user_id, "platform-admin");
        req->authenticated = true;
        log_kv(LOG_INFO, "platform admin token used", "path", req->raw_path, "request_id",
               req->request_id, "remote", c->remote, NULL);
        return tenant_override(c);
    }
    const char *why = NULL;
    int rc = auth_verify_bearer(c->loop->srv->auth, authz, strlen(authz), (int64_t)time(NULL),
                                &req->auth, &why);
    if (rc == ERR_CONFIG) return http_error(&c->res, ERR_INTERNAL, NULL); /* our key, not theirs */
    if (rc < 0) {
        if (!required) return 0; /* a public route ignores a bad token */
        log_kv(LOG_INFO, "token rejected", "reason", why ? why : "invalid", "request_id",
               req->request_id, "remote", c->remote, NULL);
        return http_error(&c->res, ERR_UNAUTHORIZED, "the token is invalid or expired");
    }
    req->authenticated = true;
    return tenant_override(c);
}

static void proxy_done(void *arg) { conn_finish_job(arg); }

/* proxy_request: /api/brain/{service}/{rest} to an HTTP upstream. The
 * caller must present a verified token (the upstream gets its tenant and
 * user); then the breaker and the rate limit; then the asynchronous proxy,
 * which finishes the response like a worker job does. */
static int proxy_request(conn_t *c, const char *service, const char *rest)
{
    http_req_t *req = &c->req;
    http_res_t *res = &c->res;
    req->raw_path = arena_printf(req->arena, "/api/brain/%s/%s", service, rest);
    if (authenticate(c, true) < 0 || req->api_key) {
        if (req->api_key) http_error(res, ERR_UNAUTHORIZED, "use a bearer token for upstream services");
        req->gw = NULL;
        return 1;
    }
    if (g_gateway->admit(req->gw, req->auth.tenant_id[0] ? req->auth.tenant_id : req->auth.user_id,
                         res) < 0) {
        req->gw = NULL;
        return 1;
    }
    if (g_gateway->proxy(req->gw, &c->loop->loop, req, res, rest, c->remote, proxy_done, c) < 0)
        return 1;
    return 0;
}

int dispatch_request(conn_t *c)
{
    http_req_t *req = &c->req;
    http_res_t *res = &c->res;
    hp_head_t *h = c->head;
    arena_t *a = c->arena;
    req->arena = a;
    req->kernel = c;
    req->method = h->method;
    req->headers = h->headers;
    req->nheaders = h->nheaders;
    req->raw_path = arena_strndup(a, h->path.p, h->path.n);
    req->query = arena_strndup(a, h->query.p ? h->query.p : "", h->query.n);
    req->remote_addr = c->remote;
    req->body_len = c->body.n;
    req->body = c->body.n ? arena_strndup(a, c->body.p, c->body.n) : "";

    const char *rid = http_header(req, "X-Request-ID");
    if (rid && id_request_id_ok(rid, strlen(rid))) {
        req->request_id = rid;
    } else {
        char *id = arena_alloc(a, 40);
        id_uuidv7(id);
        req->request_id = id;
    }
    res->request_id = req->request_id;

    req->path = url_decode(a, h->path.p, h->path.n, false);
    if (!req->path) {
        http_error(res, ERR_BAD_REQUEST, "the request path has a malformed %%-escape");
        return 1;
    }
    router_match_t m;
    char allow[96];
    int rc = router_match(c->loop->srv->router, h->method, h->path, a, &m, allow, sizeof allow);
    if (rc == 0 && (m.route->flags & RT_GATEWAY)) {
        /* /api/brain/{service}/{path...}: route to the service's own mount */
        const char *to = NULL;
        void *svc = NULL;
        rc = g_gateway ? g_gateway->resolve(m.values[0], m.values[1], a, &to, &svc) : ERR_NOT_FOUND;
        if (rc == ERR_NOT_FOUND) {
            http_error(res, rc, "unknown service %s", m.values[0]);
            return 1;
        }
        if (rc < 0) {
            http_error(res, rc, "service %s is disabled", m.values[0]);
            return 1;
        }
        req->gw = svc;
        if (rc == 1) return proxy_request(c, m.values[0], m.values[1]);
        rc = router_match(c->loop->srv->router, h->method, str_of(to), a, &m, allow, sizeof allow);
        if (rc == 0 && (m.route->flags & RT_GATEWAY)) rc = ERR_NOT_FOUND; /* no loops */
        req->raw_path = to;
        req->path = url_decode(a, to, strlen(to), false);
        if (!req->path) rc = ERR_BAD_REQUEST;
    }
    if (rc == ERR_METHOD_NOT_ALLOWED) {
        http_set_header(res, "Allow", allow);
        http_error(res, rc, "%.*s is not allowed on %s; allowed: %s", (int)h->method.n,
                   h->method.p, req->raw_path, allow);
        return 1;
    }
    if (rc == ERR_NOT_FOUND) {
        http_error(res, rc, "no route for %s", req->raw_path);
        return 1;
    }
    if (rc < 0) {
        http_error(res, rc, "malformed request path");
        return 1;
    }
    const route_t *rt = m.route;
    req->route = rt;
    req->nparams = m.nparams;
    for (int i = 0; i < m.nparams; i++) {
        req->param_names[i] = m.names[i];
        req->param_values[i] = m.values[i];
    }
    bool public = (rt->flags & RT_PUBLIC) != 0;
    if (authenticate(c, !public) < 0) return 1;
    /* With a verified token the permission is checked here, before any
     * queueing; an API key's roles are known only on the worker. */
    if (!public && req->authenticated && !auth_permits(req->auth.roles, rt->permission)) {
        http_error(res, ERR_FORBIDDEN, "permission %s is required", rt->permission);
        return 1;
    }
    if (req->gw && g_gateway) {
        const char *key = req->authenticated && req->auth.tenant_id[0]
                              ? req->auth.tenant_id
                              : arena_printf(a, "ip:%s", c->remote);
        if (g_gateway->admit(req->gw, key, res) < 0) {
            req->gw = NULL; /* refused before reaching the service: not its outcome */
            return 1;
        }
    }
    if (rt->flags & RT_INLINE) {
        if (!public && !req->authenticated) { /* an API key needs a worker to resolve it */
            http_error(res, ERR_UNAUTHORIZED, "use a bearer token for this route");
            return 1;
        }
        req->api_key = NULL;
        rt->handler(req, res);
        return 1;
    }
    c->job.base.run = run_job;
    c->job.base.complete = complete_job;
    c->job.conn = c;
    if (rt->flags & RT_STREAM) stream_acquire(c);
    if (pool_submit(c->loop->srv->pool, &c->job.base) < 0) {
        stream_release(c);
        http_error(res, ERR_OVERLOADED, "all workers are busy; retry later");
        http_set_header(res, "Retry-After", "1");
        return 1;
    }
    return 0;
}

void dispatch_gateway_record(conn_t *c, uint64_t micros)
{
    if (g_gateway) g_gateway->record(c->req.gw, c->res.status, micros);
}

void dispatch_reset(conn_t *c)
{
    http_res_cleanup(&c->res);
    http_res_init(&c->res);
    memset(&c->req, 0, sizeof c->req);
}
