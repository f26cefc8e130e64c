/* repo.h — identity's SQL (private to the context).
 *
 * scope: the tenant whose rows a query may see, or NULL for platform scope
 * (super_admin). PostgreSQL enforces the same with row-level security; the
 * explicit filter makes SQLite equally strict. */
#ifndef BZ_IDENTITY_REPO_H
#define BZ_IDENTITY_REPO_H

#include "arena.h"
#include "db.h"
#include "domain.h"

int repo_tenant_insert(db_t *db, const tenant_t *t);
/* repo_tenant_get: ERR_NOT_FOUND when absent or outside scope. */
int repo_tenant_get(db_t *db, arena_t *a, const char *scope, const char *id, tenant_t *out);
/* repo_tenant_list: up to limit tenants with id > after (NULL: from the
 * start), ordered by id, appended to items as JSON. *more is set when
 * another page exists. */
int repo_tenant_list(db_t *db, arena_t *a, const char *scope, const char *after, int limit,
                     json_t *items, bool *more);
int repo_tenant_update(db_t *db, const tenant_t *t);

#endif
