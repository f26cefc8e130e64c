/* kernel_routes.h — registers /livez, /readyz, /health, /version, /metrics. */
#ifndef BZ_KERNEL_ROUTES_H
#define BZ_KERNEL_ROUTES_H

#include "router.h"

void kernel_routes_register(router_t *r);

#endif
