/* app.h — the composition root: which contexts this binary serves.
 *
 * app_new() builds the route table (kernel endpoints plus every context's
 * routes) and the token verifier configuration; contexts add permissions to
 * the role map here, before any thread starts. */
#ifndef BZ_APP_H
#define BZ_APP_H

#include "auth.h"
#include "config.h"
#include "db.h"
#include "router.h"

typedef struct app app_t;

/* app_new: cfg and jwt_secret are borrowed and must outlive the app. */
app_t *app_new(const config_t *cfg, const char *jwt_secret);
/* app_start: startup work of the contexts that needs the database. */
int app_start(app_t *app, db_t *db);
const router_t *app_router(const app_t *app);
const auth_config_t *app_auth(const app_t *app);
void app_free(app_t *app);

#endif
