/* identity.h — the identity context (service auth-service, /api/v1/auth):
 * tenants today; users, tokens, API keys and audit come with the identity
 * issue. This header is what other contexts may call. */
#ifndef BZ_IDENTITY_H
#define BZ_IDENTITY_H

#include "router.h"

/* identity_register: adds the context's routes and permissions. */
void identity_register(router_t *r);

#endif
