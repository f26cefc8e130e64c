/* kernel_routes.h — registers /livez, /readyz, /health, /version, /metrics. */
#ifndef BZ_KERNEL_ROUTES_H
#define BZ_KERNEL_ROUTES_H

#include <jansson.h>
#include <stdbool.h>

#include "config.h"
#include "router.h"

/* kernel_routes_register: cfg is borrowed for the life of the process. */
void kernel_routes_register(router_t *r, const config_t *cfg);

/* kernel_set_health_services: fn adds one entry per service to the
 * "services" object of GET /health and sets *degraded when any is not
 * healthy (the gateway's registry plugs in here). Set at startup. */
void kernel_set_health_services(void (*fn)(json_t *services, bool *degraded));

#endif
