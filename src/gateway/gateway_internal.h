/* gateway_internal.h — what registry.c shares with monitor.c. Private to
 * src/gateway. */
#ifndef BZ_GATEWAY_INTERNAL_H
#define BZ_GATEWAY_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "gateway.h"
#include "plans.h"
#include "proxy.h"

/* One HTTP upstream due for an active health check (a copy: the monitor
 * does not hold the registry lock while it checks). */
typedef struct gw__check {
    gw_service_t *svc;
    char name[64];
    gw_upstream_t up;
    char health_path[128];
    int64_t connect_timeout_ms, response_timeout_ms;
} gw__check_t;

/* A breaker state change waiting to become a ServiceHealthChanged event. */
typedef struct gw__change {
    char name[64];
    const char *from, *to; /* static strings */
    int64_t at_ms;
    char reason[64];
} gw__change_t;

/* gw__due_checks: enabled HTTP services whose next check is due (their next
 * time is advanced by interval_ms); returns how many were written. */
size_t gw__due_checks(gw__check_t *out, size_t max, int64_t now_ms, int64_t interval_ms);
/* gw__health_result: an active check's outcome feeds the service's breaker
 * like a request's does, and is kept for /health. */
void gw__health_result(gw_service_t *svc, bool ok, double ms, int status);
/* gw__peek_changes / gw__drop_changes: the queue of breaker changes; the
 * monitor drops what it has written once its transaction committed. */
size_t gw__peek_changes(gw__change_t *out, size_t max);
void gw__drop_changes(size_t n);

/* gw__plans: the tenant -> plan table (lives until gw_stop). */
gw_plan_table_t *gw__plans(void);

/* monitor.c: health checks every interval_ms; tenants' plans re-read every
 * plan_refresh_ms, starting with the tenants changed since plans_loaded_ms
 * (when gw_start read them all). */
int gw__monitor_start(const char *db_url, int64_t interval_ms, int64_t plan_refresh_ms,
                      int64_t plans_loaded_ms);
void gw__monitor_stop(void);

#endif
