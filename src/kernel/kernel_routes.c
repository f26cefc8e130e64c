/* kernel_routes.c — the kernel's own endpoints: liveness, readiness,
 * health, version and Prometheus metrics. */
#include "kernel_routes.h"

#include <string.h>
#include <time.h>

#include "err.h"
#include "metrics.h"
#include "migrate.h"
#include "server_internal.h"

static const config_t *g_cfg; /* set once at registration, read-only after */
static void (*g_health_services)(json_t *services, bool *degraded);

void kernel_set_health_services(void (*fn)(json_t *, bool *)) { g_health_services = fn; }

#define VERSION_JSON "{\"name\":\"bizosaas\",\"version\":\"" BZ_VERSION "\"}"

static int livez(http_req_t *req, http_res_t *res)
{
    (void)req;
    static const char body[] = "{\"status\":\"ok\"}";
    return http_text(res, 200, "application/json", body, sizeof body - 1);
}

static int version(http_req_t *req, http_res_t *res)
{
    (void)req;
    static const char body[] = VERSION_JSON;
    return http_text(res, 200, "application/json", body, sizeof body - 1);
}

static int metrics(http_req_t *req, http_res_t *res)
{
    (void)req;
    buf_t b;
    buf_init(&b);
    metrics_render(&b);
    http_text(res, 200, "text/plain; version=0.0.4; charset=utf-8", b.p, b.n);
    buf_cleanup(&b);
    return 0;
}

/* readyz: the database answers and every embedded migration is applied. */
static int readyz(http_req_t *req, http_res_t *res)
{
    if (!req->db || db_ping(req->db) < 0)
        return http_error(res, ERR_UNAVAILABLE, "the database is unreachable");
    int pending = migrate_pending(req->db);
    if (pending < 0) return http_error(res, ERR_UNAVAILABLE, "cannot read the migration state");
    if (pending > 0)
        return http_error(res, ERR_UNAVAILABLE, "%d database migration(s) pending", pending);
    static const char body[] = "{\"status\":\"ready\"}";
    return http_text(res, 200, "application/json", body, sizeof body - 1);
}

static int health(http_req_t *req, http_res_t *res)
{
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    int rc = req->db ? db_ping(req->db) : ERR_DB_UNAVAILABLE;
    clock_gettime(CLOCK_MONOTONIC, &b);
    double ms = (double)(b.tv_sec - a.tv_sec) * 1e3 + (double)(b.tv_nsec - a.tv_nsec) / 1e6;
    const char *backend = db_url_backend(g_cfg->database_url) == DB_POSTGRES ? "postgres" : "sqlite";
    bool degraded = rc != 0;
    json_t *services = json_object();
    if (g_health_services) g_health_services(services, &degraded);
    json_t *j = json_pack("{s:s, s:s, s:{s:s, s:s, s:f}, s:I, s:o}", "status",
                          degraded ? "degraded" : "healthy", "version", BZ_VERSION, "database",
                          "backend", backend, "status", rc == 0 ? "up" : "down", "latency_ms", ms,
                          "open_connections", (json_int_t)metrics_conn_open(), "services",
                          services);
    /* 200 either way: /health reports, /readyz is what load balancers gate on */
    return http_json(res, 200, j);
}

static const route_t routes[] = {
    {"GET", "/livez", NULL, "Liveness: the process is up", livez, RT_PUBLIC | RT_INLINE},
    {"GET", "/readyz", NULL, "Readiness: database reachable and migrations applied", readyz,
     RT_PUBLIC | RT_NO_TX},
    {"GET", "/health", NULL, "Health of the platform and its dependencies", health,
     RT_PUBLIC | RT_NO_TX},
    {"GET", "/version", NULL, "Build name and version", version, RT_PUBLIC | RT_INLINE},
    {"GET", "/metrics", NULL, "Prometheus metrics", metrics, RT_PUBLIC | RT_INLINE},
};

void kernel_routes_register(router_t *r, const config_t *cfg)
{
    g_cfg = cfg;
    router_add(r, routes, sizeof routes / sizeof routes[0]);
}
