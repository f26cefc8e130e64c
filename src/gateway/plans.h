/* plans.h — what the gateway knows about tenants without a database: each
 * tenant's plan (for per-plan rate limits) and how many requests each tenant
 * sent (the tenant distribution of /api/brain/metrics).
 *
 * I/O threads never touch the database, so the tenant -> plan map is kept in
 * memory: the monitor thread (monitor.c) fills it at start and then with the
 * tenants changed since its last look, every BIZOSAAS_GATEWAY_PLAN_REFRESH_MS;
 * the I/O threads only read it (one hash lookup under a read lock). A tenant
 * not in the table has an unknown plan and gets the service's own limit. */
#ifndef BZ_GW_PLANS_H
#define BZ_GW_PLANS_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "db.h"

/* The tenant plans of identity (src/contexts/identity/domain.c), in that
 * order. GW_PLAN_UNKNOWN: a tenant the table does not know, or a plan name
 * this build does not know. */
typedef enum gw_plan {
    GW_PLAN_UNKNOWN = -1,
    GW_PLAN_FREE = 0,
    GW_PLAN_STARTER,
    GW_PLAN_PROFESSIONAL,
    GW_PLAN_ENTERPRISE,
    GW_NPLANS
} gw_plan_t;

/* gw_plan_parse: the plan named name, or GW_PLAN_UNKNOWN. */
gw_plan_t gw_plan_parse(const char *name);
/* gw_plan_name: the plan's name (static), NULL for GW_PLAN_UNKNOWN. */
const char *gw_plan_name(gw_plan_t p);

/* gw_plan_limit: the effective requests/minute for a tenant on plan p:
 * plan_limits[p] when set (> 0), else the service's limit. */
int64_t gw_plan_limit(const int64_t plan_limits[GW_NPLANS], gw_plan_t p, int64_t service_limit);

/* --- tenant -> plan --- */

/* Tenants kept at most; beyond it a new tenant is not added (its plan stays
 * unknown: the service limit applies) and a warning is logged once. */
#define GW_PLAN_TABLE_MAX 1000000

typedef struct gw_plan_table gw_plan_table_t;

/* gw_plan_table_new: an empty table holding at most max tenants. */
gw_plan_table_t *gw_plan_table_new(size_t max);
void gw_plan_table_free(gw_plan_table_t *t);
/* gw_plan_table_set: tenant's plan (the id is copied). Returns 0, or -1 when
 * the table is full and tenant is not in it yet. Thread-safe. */
int gw_plan_table_set(gw_plan_table_t *t, const char *tenant, gw_plan_t plan);
/* gw_plan_table_get: tenant's plan, GW_PLAN_UNKNOWN when not known. Takes
 * only a read lock; thread-safe. */
gw_plan_t gw_plan_table_get(gw_plan_table_t *t, const char *tenant);
size_t gw_plan_table_count(gw_plan_table_t *t);

/* gw_plan_table_load: reads the tenants whose updated_at is at or after
 * since (RFC 3339; NULL = every tenant) into t. The caller has opened a
 * platform-scope transaction on db (tenants is under row-level security on
 * PostgreSQL). Returns the number of rows read or a negative ERR_*. */
int gw_plan_table_load(gw_plan_table_t *t, db_t *db, const char *since);

/* --- requests per tenant --- */

/* Distinct tenants counted at most; requests of further tenants are counted
 * under "other". Anonymous requests (public routes, keyed by IP) are counted
 * under "anonymous" and do not take a place. */
#define GW_DIST_MAX_TENANTS 10000
/* Tenants listed by gw_dist_json unless asked otherwise (?top=N). */
#define GW_DIST_TOP_DEFAULT 100

typedef struct gw_dist gw_dist_t;

gw_dist_t *gw_dist_new(size_t max_tenants);
void gw_dist_free(gw_dist_t *d);
/* gw_dist_count: one request of tenant (NULL = anonymous). Thread-safe; the
 * lock taken is one of GW_DIST_STRIPES picked by the tenant's hash, so
 * threads counting different tenants rarely wait for each other. */
void gw_dist_count(gw_dist_t *d, const char *tenant);
/* gw_dist_json: {"<tenant>": n, ...}: the top tenants by count (ties by id),
 * then "anonymous" and "other" (the tenants beyond top and beyond the cap)
 * when not zero. The caller owns the result. */
json_t *gw_dist_json(gw_dist_t *d, size_t top);

#endif
