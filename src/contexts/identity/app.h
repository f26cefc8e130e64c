/* app.h — identity's use cases (private to the context). Inputs are
 * already type-checked by http.c; invariants are checked here via domain.c.
 * On ERR_VALIDATION *why names the problem. */
#ifndef BZ_IDENTITY_APP_H
#define BZ_IDENTITY_APP_H

#include "arena.h"
#include "db.h"
#include "domain.h"

typedef struct tenant_input {
    const char *name, *slug, *plan, *status; /* NULL = unchanged / default */
    json_t *domains;                          /* NULL = unchanged / [] */
} tenant_input_t;

int idn_tenant_create(db_t *db, arena_t *a, const tenant_input_t *in, tenant_t *out,
                      const char **why);
int idn_tenant_update(db_t *db, arena_t *a, const char *id, const tenant_input_t *in,
                      tenant_t *out, const char **why);

#endif
