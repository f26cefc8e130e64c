/* kernel_routes.h — registers /livez, /readyz, /health, /version, /metrics. */
#ifndef BZ_KERNEL_ROUTES_H
#define BZ_KERNEL_ROUTES_H

#include "config.h"
#include "router.h"

/* kernel_routes_register: cfg is borrowed for the life of the process. */
void kernel_routes_register(router_t *r, const config_t *cfg);

#endif
