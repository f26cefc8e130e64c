/* gateway.h — the Brain gateway: the service registry, routing of
 * /api/brain/{service}/{path...}, circuit breakers and rate limits.
 *
 * Each registry entry keeps one of the original platform's service names
 * (auth-service, django-crm, vault, …) and a target. A builtin target
 * ("builtin:identity") is served in-process: the request is re-routed to the
 * context's own mount (/api/v1/auth/…) and then authenticated, authorized
 * and run like any request. Every request through /api/brain passes the
 * service's circuit breaker (5xx answers count as failures) and its
 * per-tenant sliding-window rate limit (per client IP for public routes),
 * at the service's limit for the tenant's plan when it sets one.
 *
 * An HTTP upstream target ("http://host:port/base") is proxied on the I/O
 * thread (proxy.h): the caller must be authenticated, and the gateway sets
 * X-Tenant-ID / X-User-ID / X-Request-ID / X-Forwarded-* itself. */
#ifndef BZ_GATEWAY_H
#define BZ_GATEWAY_H

#include <stdint.h>

#include "config.h"
#include "db.h"
#include "http.h"
#include "router.h"

typedef struct gw_service gw_service_t;

/* gw_register: adds the admin API, the /api/brain routes and
 * /api/brain/metrics. r is borrowed for the life of the process. */
void gw_register(router_t *r, const config_t *cfg);
/* gw_start: loads the registry from the database and registers every
 * builtin context that exists but has no entry yet. */
int gw_start(db_t *db);
void gw_stop(void);

/* gw_resolve: for a request to /api/brain/{service}/{rest}: the path to
 * route it to (in the arena) and the service (borrowed, lives until
 * gw_stop). Returns 0 for a builtin service (*path set), 1 for an HTTP
 * upstream (*path NULL: proxy it), ERR_NOT_FOUND for an unknown service,
 * ERR_UNAVAILABLE when it is disabled. */
int gw_resolve(const char *service, const char *rest, arena_t *a, const char **path,
               gw_service_t **svc);
/* gw_admit: the breaker and the rate limit for one request. key is the
 * tenant id (or "ip:<addr>"); the limit is the service's for the tenant's
 * plan when it has one (plans.h), else its rate_limit_per_min. On refusal
 * writes 503/429 into res and returns the error; on admission adds the
 * RateLimit-* headers, counts the request for the tenant distribution and
 * returns 0. */
int gw_admit(gw_service_t *svc, const char *key, http_res_t *res);
/* gw_record: the outcome of an admitted request (status, latency). */
void gw_record(gw_service_t *svc, int status, uint64_t micros);
/* gw_tenant_plan: a tenant's plan changed (committed): its requests get
 * that plan's limits from now on. For identity_on_plan_change; changes of
 * other processes arrive through the monitor's refresh. Thread-safe. */
void gw_tenant_plan(const char *tenant_id, const char *plan);

#endif
