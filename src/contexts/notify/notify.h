/* notify.h — in-app notifications for a tenant's staff (high-value lead
 * alerts and the like), mounted at /api/v1/notifications.
 *
 * A notification is addressed to roles within one tenant (every manager)
 * and/or one user, and is written in the transaction of the change that
 * causes it, so it exists iff that change committed. Each user keeps their
 * own read state. Clients list them, mark them read, and follow new ones
 * live (the stream route resumes after the last seq a client saw).
 */
#ifndef BZ_NOTIFY_H
#define BZ_NOTIFY_H

#include <jansson.h>

#include "config.h"
#include "db.h"
#include "router.h"

/* Longest kind / title / body accepted by notify_send (bytes). */
#define NOTIFY_MAX_KIND 64
#define NOTIFY_MAX_TITLE 200
#define NOTIFY_MAX_BODY 2000

/* notify_register: adds the routes and their permissions; reads the
 * stream limit (BIZOSAAS_NOTIFY_SSE_MAX) from cfg. */
void notify_register(router_t *r, const config_t *cfg);

/* notify_send: writes a notification for tenant_id inside the caller's open
 * transaction on db (tenant or platform scope). roles is a mask of enum
 * auth_role (0 = none) and user_id (NULL = none) the addressed user; at
 * least one must address someone. data (stolen; NULL = {}) is a JSON object
 * for the client (ids, links) — never a secret. The new id is written to
 * id_out (37 bytes) when non-NULL. Returns 0, ERR_VALIDATION for bad
 * arguments, or a database error. */
int notify_send(db_t *db, const char *tenant_id, unsigned roles, const char *user_id,
                const char *kind, const char *title, const char *body, json_t *data,
                char *id_out);

#endif
