/* domain.h — identity's entities and their invariants (no I/O). */
#ifndef BZ_IDENTITY_DOMAIN_H
#define BZ_IDENTITY_DOMAIN_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#define TENANT_NAME_MAX 200
#define TENANT_SLUG_MAX 63
#define TENANT_DOMAINS_MAX 20
#define HOSTNAME_MAX 253

typedef struct tenant {
    const char *id, *name, *slug, *status, *plan, *created_at, *updated_at;
    json_t *domains; /* array of host names (borrowed) */
} tenant_t;

/* Each returns NULL when valid, else a static message naming the problem. */
const char *tenant_slug_invalid(const char *slug);
const char *tenant_plan_invalid(const char *plan);
const char *tenant_status_invalid(const char *status);
/* tenant_domains_invalid: domains must be an array of distinct lower-case host names. */
const char *tenant_domains_invalid(const json_t *domains);
/* tenant_to_json: the API representation; caller owns the result. */
json_t *tenant_to_json(const tenant_t *t);

#endif
